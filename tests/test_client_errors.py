"""plugins/client_errors.py: a request's own error is answered as cheaply as a page.

Datasette 0.65's error handler prints every exception with rich where rich is
installed (it is, with the test tools): half a second of CPU for a 404, two
seconds for a query stopped by its time limit. Here a client's error is
answered with Datasette's error template and prints nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from datasette.app import Datasette

from loader.serve import site_options

RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
CLIENT_ERRORS = [
    ("/a/b/c/d", {}, 404, "404"),  # no route: Datasette's NotFound
    ("/events/events/no-such-event", {}, 404, "not found"),  # Datasette's own 404 of a row
    ("/events/events", {"_sort": "nope"}, 400, "Cannot sort table by nope"),  # Datasette's own 400
    ("/events/events.json", {"_timelimit": "abc"}, 400, "_timelimit='abc'"),  # named by this plugin
    ("/events.json", {"sql": RUNAWAY, "_timelimit": "50"}, 400, "SQL query took too long"),
]


@pytest.mark.parametrize("path, params, status, words", CLIENT_ERRORS, ids=[p for p, *_ in CLIENT_ERRORS])
def test_a_client_error_is_answered_without_a_traceback(
    published_db: Path, capfd: pytest.CaptureFixture[str], path: str, params: dict, status: int, words: str
) -> None:
    async def ask() -> tuple[int, str]:
        datasette = Datasette(immutables=[str(published_db)], **site_options())
        response = await datasette.client.get(path, params=params)
        return response.status_code, response.text

    got, text = asyncio.run(ask())
    printed = capfd.readouterr()
    assert (got, words in text) == (status, True), text[:300]
    assert "Traceback" not in printed.err + printed.out
