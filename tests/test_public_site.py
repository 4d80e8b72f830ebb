"""The public site holds whatever it is sent: it is read-only, runaway SQL is
stopped while others are served, and canned-query parameters are bound.

Everything runs against `python -m loader serve` on 127.0.0.1, over the
hostile fixture, and is checked against the served file itself with sqlite3.
"""

from __future__ import annotations

import hashlib
import html
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ruamel.yaml import YAML

from benchmarks.load import MIX, run_load
from loader.files import connect_readonly
from loader.metadata import METADATA_PATH
from loader.site.plugins.sql_limits import BOUND_BYTES
from loader.site.worker import SETTINGS
from tests.support.site_helpers import within_memory

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
PATHS = [
    "/",
    "/events",
    "/events/events",
    "/events/events/hostile-event",
    "/events/-/query",
    "/events/timeline",
    "/-/timeline",
    "/events/events/-/insert",
    "/events/events/hostile-event/-/delete",
    "/events/-/create",
    "/-/messages",
    "/-/permissions",
]
# Statements that write, and functions that reach outside the data.
WRITING_SQL = [
    "insert into events (id) values ('x')",
    "update events set title = 'changed'",
    "delete from events",
    "replace into event_types (code) values ('x')",
    "with t as (select 1) insert into event_types (code) values ('x')",
    "drop table events",
    "create table pwned (x)",
    "alter table events add column pwned",
    "attach database '{directory}/attached.db' as pwned",
    "vacuum into '{directory}/copy.db'",
    "pragma user_version = 5",
    "pragma writable_schema = 1",
    "pragma journal_mode = delete",
    "select 1; drop table events",
    "select load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
    "select writefile('{directory}/written.txt', 'x')",
    "select fts3_tokenizer('simple', x'4141414141414141')",  # installs a tokenizer at that address
    "select hex(fts3_tokenizer('simple'))",  # reads an address inside the server process
    "reindex",
    "analyze",
]
RUNAWAY_SQL = [
    "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
    "select count(*) from sqlite_master a, sqlite_master b, sqlite_master c, sqlite_master d, sqlite_master e, sqlite_master f",
]
# One step that builds a huge value: the time limit cannot stop these (loader/site/plugins/sql_limits.py does).
HUGE_VALUE_SQL = [
    "select zeroblob(1000000000)",
    "select length(replace(hex(zeroblob(400000000)), '0', 'xx'))",
    "select randomblob(500000000)",
]
INJECTIONS = [
    "' OR '1'='1",
    "x' OR 1=1 --",
    "'; DROP TABLE events; --",
    '" OR ""="',
    '"',
    "'",
    "\\",
    "paris' UNION SELECT name, sql FROM sqlite_master --",
    "*",
    "%",
    "_",
    "paris OR damascus",
    "NEAR(paris damascus)",
    "name:paris",
    "2025' OR '1'='1",
    "0) OR (1=1",
    "paris\x00' OR 1=1",
]


@pytest.fixture(scope="module")
def site(capped_hostile_site: tuple[str, list[int]]) -> str:
    """The session's capped site (tests/conftest.py), which the memory-bound
    tests below need anyway: `serve` as a user runs it, its processes'
    address space capped besides, started once for both."""
    return capped_hostile_site[0]


@pytest.fixture(scope="module")
def client(site: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def untouched(hostile_db: Path) -> Iterator[None]:
    """Whatever the tests send, the served file ends byte for byte as it began."""
    before = hashlib.sha256(hostile_db.read_bytes()).hexdigest()
    yield
    assert hashlib.sha256(hostile_db.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("path", PATHS)
def test_no_request_but_a_read_is_accepted(client: httpx.Client, untouched: None, method: str, path: str) -> None:
    response = client.request(method, path, data={"sql": "drop table events", "title": "changed"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_reads_still_work(client: httpx.Client) -> None:
    assert client.get("/events/events").status_code == 200
    assert client.head("/events/events").status_code == 200


@pytest.mark.parametrize("sql", WRITING_SQL)
def test_writing_sql_is_refused(client: httpx.Client, hostile_db: Path, untouched: None, sql: str) -> None:
    directory = hostile_db.parent
    before = sorted(directory.iterdir())
    response = client.get("/events.json", params={"sql": sql.format(directory=directory)})
    assert response.status_code == 400, response.text[:300]
    assert response.json()["ok"] is False
    assert sorted(directory.iterdir()) == before


@pytest.mark.serial  # its bounds are times, which a parallel neighbour's work would stretch
def test_runaway_sql_is_stopped_while_others_are_served(client: httpx.Client, site: str) -> None:
    """Two runaway queries at once, each on its own connection, while a third
    client browses: no page waits for them, and arbitrary SQL is stopped
    sooner than the pages' limit (loader/site/plugins/sql_gate.py)."""
    runaways: list[tuple[float, float, httpx.Response]] = []

    def run(sql: str) -> None:
        with httpx.Client(base_url=site, timeout=60) as own:
            started = time.monotonic()
            response = own.get("/events", params={"sql": sql})
            runaways.append((started, time.monotonic(), response))

    threads = [threading.Thread(target=run, args=(sql,)) for sql in RUNAWAY_SQL]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # let both reach SQLite
    waited = []
    for path in [
        "/events/events",
        "/events/places?_facet=kind",
        "/events/events.json?_search=hostile",
        "/-/timeline",
    ] * 2:
        asked = time.monotonic()
        response = client.get(path)
        assert response.status_code == 200, path
        waited.append(time.monotonic() - asked)
    for thread in threads:
        thread.join()
    limit = SETTINGS["sql_time_limit_ms"] / 1000
    for _, _, response in runaways:
        assert response.status_code == 400
        assert "SQL query took too long" in response.text and "sql_time_limit_ms" in response.text
    # The first is stopped sooner than the pages' limit; each later one queued
    # behind those before it at the gate, so its time includes theirs.
    durations = sorted(finished - started for started, finished, _ in runaways)
    assert all(duration < limit * (place + 1) for place, duration in enumerate(durations)), durations
    assert max(waited) < 1.0, waited


@pytest.mark.parametrize("sql", HUGE_VALUE_SQL)
def test_a_query_cannot_build_a_huge_value(client: httpx.Client, sql: str) -> None:
    response = client.get("/events.json", params={"sql": sql})
    assert response.status_code == 400
    assert response.json()["error"] == "string or blob too big"


@pytest.mark.parametrize(
    "path",
    [
        "/events/events?_search=%22",
        "/events/events?_search=NEAR(",
        "/events/events?_size=-1",
        "/events/events?_size=abc",
        "/events/events?_where=1=1)",
        "/events/events?start_date__gt=%00",
        "/events/events.json?_shape=nonsense",
        "/events/events?_next=%27%20OR%201=1",
        "/events/nonexistent",
        "/events/events/nonexistent-id",
        "/events.json?sql=select%20*%20from%20events%20where%20id%20=%20:id",
    ],
)
def test_malformed_requests_get_a_client_error_not_a_server_error(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code < 500


RUNAWAY_WHERE = "id in (with recursive c(x) as (select 1 union all select x + 1 from c) select x from c)"
# Each class of malformed request that Datasette 0.65 or a plugin answered
# with a 500 (issue 15), with the status and the words of the answer it gets now.
MALFORMED = [
    ("/events/events", {"_sort": "nonexistent"}, 400, "Cannot sort table by nonexistent"),
    ("/events/events.json", {"_sort_desc": "nonexistent"}, 400, "Cannot sort table by nonexistent"),
    ("/events/event_list", {"_sort": "rowid"}, 400, "Cannot sort table by rowid"),
    ("/events/event_list", {"_sort_desc": "rowid"}, 400, "Cannot sort table by rowid"),
    ("/events/event_list", {"_next": "abc"}, 400, "is not a page link this site issued"),
    ("/events/events", {"_through": "abc"}, 400, "_through="),
    ("/events/events", {"_through": '{"table": 1}'}, 400, "_through="),
    ("/events/events.json", {"_timelimit": "abc"}, 400, "must be a whole number of milliseconds"),
    ("/events/events", {"id__in": "[bad json"}, 400, "must be a JSON list"),
    ("/events/events", {"_where": "randomblob(1000000000)"}, 400, "string or blob too big"),
    ("/events/events", {"_facet": "nonexistent"}, 400, "nonexistent"),
    ("/events/events", {"_facet_array": "nonexistent"}, 400, "nonexistent"),
    ("/events/events", {"_facet_date": "nonexistent"}, 400, "nonexistent"),
    ("/events/events.csv", {"_where": RUNAWAY_WHERE}, 400, "took too long"),
    ("/events/event_list/1", {}, 404, "is a view: its rows have no pages of their own"),
    # Paths no route takes: Datasette's own 404, which rich (installed with the test tools) made a 500.
    ("/a/b/c/d", {}, 404, "404"),
    ("/events/-/csv/events/events.csv", {}, 404, "404"),
    ("/events/events.geojson", {}, 400, "cannot be given as geojson"),
    ("/events/events/hostile-event.geojson", {}, 400, "cannot be given as geojson"),
    ("/events.ics", {"sql": "select 'abc' as event_dtstart, 'x' as event_name"}, 400, "cannot be given as ics"),
    ("/-/tiles/basemap/99999999/1/1.png", {}, 404, "no such tile"),
    ("/-/tiles/basemap/3/999999999999999999999/1.png", {}, 404, "no such tile"),
    ("/events.csv", {"sql": "select nonsense from nowhere"}, 400, "the SQL query failed"),
]


@pytest.mark.parametrize("path, params, status, words", MALFORMED, ids=[f"{p}?{q}" for p, q, _, _ in MALFORMED])
def test_each_malformed_request_gets_a_clear_answer(
    client: httpx.Client, path: str, params: dict, status: int, words: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text[:300]
    text = response.json()["error"] if path.endswith(".json") else html.unescape(response.text)
    assert words in text


def _canned_queries() -> list[tuple[str, str, list[str]]]:
    metadata = YAML(typ="safe").load(METADATA_PATH.read_text(encoding="utf-8"))
    queries = metadata["databases"]["events"].get("queries", {})
    return [(name, q["sql"], q["params"]) for name, q in queries.items() if q.get("params")]


@pytest.mark.parametrize(
    "name, sql, params",
    _canned_queries(),
    ids=lambda v: v if isinstance(v, str) and "\n" not in v and " " not in v else "",
)
@pytest.mark.parametrize("payload", INJECTIONS, ids=range(len(INJECTIONS)))
def test_canned_query_parameters_are_bound_never_interpolated(
    client: httpx.Client, hostile_db: Path, name: str, sql: str, params: list[str], payload: str
) -> None:
    """Each parameter in turn carries the payload: the site's answer must be
    exactly what SQLite gives with the payload bound as a value."""
    conn = connect_readonly(hostile_db)
    try:
        for param in params:
            values = {p: payload if p == param else "" for p in params}
            try:
                expected = [list(row) for row in conn.execute(sql, values)]
            except sqlite3.Error:
                expected = None  # an FTS syntax error, say: the site must refuse it too
            response = client.get(f"/events/{name}.json", params={**values, "_shape": "arrays"})
            if expected is None:
                assert response.status_code == 400, response.text[:300]
            else:
                assert response.status_code == 200, response.text[:300]
                assert response.json()["rows"] == expected
    finally:
        conn.close()


def test_a_short_burst_of_mixed_load_is_served_without_errors(capped_hostile_site: tuple[str, list[int]]) -> None:
    """The load test of `make reliability`, small: 10 clients for 4 seconds.
    It waits for none of the settling that the load test's memory figure
    after the load waits for, since this test reads no memory figure."""
    base, workers = capped_hostile_site
    result = run_load(base, workers, clients=10, seconds=4, settle=0)
    assert result.error_count == 0, result.error_examples
    assert all(result.latencies.get(kind) for kind in MIX)


# The memory bound (loader/site/plugins/sql_limits.py): the queries that once took the
# server to gigabytes, in every format that renders rows.
# Above its idle size, once the request is answered (loader/site/plugins/memory_release.py).
ZEROS = "with recursive c(x) as (select zeroblob(999000) union all select x from c)"
RANDOM = "with recursive c(x) as (select randomblob(999000) union all select x from c)"
BLOB_QUERIES = {
    "zeroblob rows, limit 1000": f"{ZEROS} select x from c limit 1000",
    "zeroblob rows, limit 100": f"{ZEROS} select x from c limit 100",
    "randomblob beside a number, limit 1000": "with recursive c(x) as (select 1 union all select x from c) "
    "select x, randomblob(999000) from c limit 1000",
    "60 wide columns": f"{ZEROS} select {', '.join(['x'] * 60)} from c limit 1000",
    "200 wide columns": f"{RANDOM} select {', '.join(['x'] * 200)} from c limit 100",
    "calendar rows": f"{RANDOM} select '2025-01-01' as event_dtstart, x as event_name from c limit 1000",
    "map rows": f'{RANDOM} select \'{{"type": "Point", "coordinates": [36.3, 33.5]}}\' as geometry, x from c limit 1000',
}
REFUSALS = ("result too large", "too many columns", "string or blob too big", "the SQL query failed")


@pytest.mark.parametrize("fmt", ["json", "csv", "ics", "geojson"])
@pytest.mark.parametrize("name", list(BLOB_QUERIES))
def test_one_request_stays_within_the_memory_bound(
    capped_hostile_site: tuple[str, list[int]], name: str, fmt: str
) -> None:
    base, workers = capped_hostile_site
    with within_memory(workers, BOUND_BYTES), httpx.Client(base_url=base, timeout=60) as client:
        response = client.get(f"/events.{fmt}", params={"sql": BLOB_QUERIES[name]})
        assert response.status_code == 400, response.text[:300]
        if fmt in ("json", "csv"):  # a calendar or a map of a failed query says the columns it lacks
            assert any(refusal in response.text for refusal in REFUSALS), response.text[:300]


@pytest.mark.serial
def test_a_huge_printf_width_is_refused_at_once(client: httpx.Client) -> None:
    """SQLite spends ten seconds in one step on this before giving NULL; the
    time limit cannot stop it, so loader/site/plugins/sql_limits.py gives the NULL at once."""
    started = time.monotonic()
    response = client.get("/events.json", params={"sql": "select printf('%.*c', 900000000, 'x')", "_shape": "arrays"})
    assert response.status_code == 200 and response.json()["rows"] == [[None]]
    assert time.monotonic() - started < 2
    ordinary = client.get(
        "/events.json", params={"sql": "select printf('%s-%05d, %.2f%%', 'a', 42, 12.345)", "_shape": "arrays"}
    )
    assert ordinary.json()["rows"] == [["a-00042, 12.35%"]]
