"""loader/site/plugins/client_errors.py: a request's own error is answered as cheaply as a
page, and with a 4xx that names it rather than a 500.

Datasette 0.65's error handler prints every exception with rich where rich is
installed (it is, with the test tools): half a second of CPU for a 404, two
seconds for a query stopped by its time limit. Here a client's error is
answered with Datasette's error template and prints nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette

from tests.support.site import in_process_site

# Every table and view page reads facets, in every format: the Atom feeds too.
FACET_PAGES = ["events", "events.json", "events.csv", "events.atom", "event_list", "event_list.json"]
FACET_KEYS = ["_facet", "_facet_array", "_facet_date", "_facet_size"]
RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
CLIENT_ERRORS = [
    ("/a/b/c/d", {}, 404, "404"),  # no route: Datasette's NotFound
    ("/events/events/no-such-event", {}, 404, "not found"),  # Datasette's own 404 of a row
    ("/events/events", {"_sort": "nope"}, 400, "Cannot sort table by nope"),  # Datasette's own 400
    ("/events/events.json", {"_timelimit": "abc"}, 400, "_timelimit='abc'"),  # named by this plugin
    ("/events.json", {"sql": RUNAWAY, "_timelimit": "50"}, 400, "SQL query took too long"),
]


DIGITS = "9" * 5000  # more than Python reads as a number
BAD_FACETS = ["{", "{}", '{"a": 1}', '{"column": 1}']
# Issue 23's answers of 500 (red team B8): each is the request's error, named.
B8_ERRORS = [
    *[
        (f"/events/{page}", {FACET_KEYS[(i + j) % len(FACET_KEYS)]: value}, 400, "must be a column")
        for i, page in enumerate(FACET_PAGES)
        for j, value in enumerate(BAD_FACETS)
    ],
    *[("/events/events", {"_through": value}, 400, "_through=") for value in ("0", "[]", "null", "-1", "1e999")],
    ("/events/events", {"_through": '{"table": "event_actors", "column": "actor_id", "value": {}}'}, 400, "_through="),
    ("/events/events", {"start_date__gt": DIGITS}, 400, "too large a number"),
    ("/events/events.json", {"rowid__gt": DIGITS}, 400, "too large a number"),
    ("/events/events", {"_facet_size": DIGITS}, 400, "too large a number"),
    ("/-/map/events.json", {"start_date__gt": DIGITS}, 400, "too large a number"),
    ("/events/withdrawals/zzz", {}, 404, "named by its 2 keys"),
    ("/events/withdrawals/zzz.json", {}, 404, "named by its 2 keys"),
    ("/events/record_history/zzz", {}, 404, "named by its 3 keys"),
    ("/events/record_history/a,b", {}, 404, "named by its 3 keys"),
]


@pytest.fixture(scope="module")
def site(published_db: Path) -> Datasette:
    """One site for the module: its requests only read, each path is asked
    once (so none is answered from the response cache without reaching the
    error handler), and a new site cost more than the request it answered."""
    return in_process_site(published_db)


@pytest.mark.parametrize(
    "path, params, status, words",
    CLIENT_ERRORS + B8_ERRORS,
    ids=[f"{p}?{urlencode(q)[:40]}" for p, q, *_ in CLIENT_ERRORS + B8_ERRORS],
)
def test_a_client_error_is_answered_without_a_traceback(
    site: Datasette, capfd: pytest.CaptureFixture[str], path: str, params: dict, status: int, words: str
) -> None:
    async def ask() -> tuple[int, str]:
        response = await site.client.get(path, params=params)
        return response.status_code, response.text

    got, text = asyncio.run(ask())
    printed = capfd.readouterr()
    assert (got, words in text) == (status, True), text[:300]
    assert "Traceback" not in printed.err + printed.out


def test_a_malformed_parameter_is_refused_before_datasette_reads_anything(site: Datasette) -> None:
    """A page that does not exist answers 400, not 404: the parameter was
    judged before Datasette looked for the page, let alone counted its rows."""
    response = asyncio.run(site.client.get("/events/no_such_table?_facet={"))
    assert response.status_code == 400, response.text[:300]
