"""The site's ASGI wrappers (loader/site/plugins/middleware.py) under a path
prefix (Datasette's base_url, the proxy passing /prefix/... on): each sees
the request's path with the prefix in it, and does the same job as at the
site's root. Requests go through datasette.client, which puts the prefix in
front of the path it is given, or, where a wrapper needs a real socket, to
`serve --base-url` on 127.0.0.1."""

from __future__ import annotations

import asyncio
import csv
import fcntl
import io
import os
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from datasette.app import Datasette

from loader.site.plugins import click_counts, client_errors, middleware
from loader.site.plugins import sql_gate as gate
from loader.site.worker import RUN_DIR_VARIABLE, SETTINGS
from tests.support.generated import changed_copy
from tests.support.site import datasettes_failed_csv, in_process_site
from tests.support.site_helpers import cpu_seconds, serving_process, worker_pids

PREFIX = "/prefix/"
BOM = "\ufeff"
RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
# 600 rows of 15,000 characters: a 9 MB CSV, far more than the sockets' buffers hold.
LARGE_CSV = (
    "select printf('%.*c', 15000, 'x') as t from "
    "(with recursive c(x) as (select 1 union all select x + 1 from c limit 600) select x from c)"
)


@pytest.fixture(scope="module")
def ds(published_db: Path) -> Datasette:
    return in_process_site(published_db, base_url=PREFIX)


def answer(ds: Datasette, path: str, method: str = "GET", **params: str) -> httpx.Response:
    return asyncio.run(ds.client.request(method, path, params=params))


@pytest.mark.parametrize(
    "tile", ["/-/tiles/basemap/99999999/1/1.png", "/-/tiles/basemap/3/999999999999999999999/1.png"]
)
def test_a_tile_outside_the_map_is_a_404_that_says_so(ds: Datasette, tile: str) -> None:
    response = answer(ds, tile)
    assert response.status_code == 404, response.text[:300]
    assert "no such tile" in response.text


def test_a_failed_csv_query_is_a_400_naming_its_json_page_under_the_prefix(ds: Datasette) -> None:
    response = answer(ds, "/events.csv", sql="select nonsense from nowhere")
    assert response.status_code == 400
    page = response.text.removeprefix("the SQL query failed: ").removesuffix(" shows why\n")
    assert page.startswith(f"{PREFIX}events.json?"), response.text
    shown = asyncio.run(ds.client.get(page.removeprefix(PREFIX.rstrip("/"))))
    assert shown.status_code == 400 and "nowhere" in shown.json()["error"]


@pytest.mark.parametrize(("path", "status"), [("/-/csv/events/events.csv", 200), ("/events.csv?sql=select+1", 400)])
def test_only_a_query_csv_is_taken_for_a_failed_query_under_the_prefix(path: str, status: int) -> None:
    """The site's own routes under /-/ (the whole-table export) answer their
    CSV as they make it; only a page's or a query's CSV is held back and judged."""
    datasette = Datasette([], settings={"base_url": PREFIX})
    app = middleware.compose(datasette, datasettes_failed_csv, (("client_errors", client_errors.wrapper),))

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site") as client:
            return await client.get(PREFIX.rstrip("/") + path)

    assert asyncio.run(get()).status_code == status


def test_the_count_a_facet_click_shows_is_the_stored_one(published_db: Path, tmp_path: Path) -> None:
    db, (value, count) = changed_copy(
        published_db,
        tmp_path,
        "select value, count from facet_counts where source = 'event_list' and filter_type = '' "
        "and facet = 'event_type' order by count desc limit 1",
        "update facet_counts set count = count + 1000 where source = 'event_list' and filter_type = '' "
        "and facet = 'event_type' and value = ? and count = ?",
    )
    site = in_process_site(db, base_url=PREFIX)
    page = answer(site, "/events/event_list", event_type=value)
    assert page.status_code == 200
    assert f"{count + 1000:,} row" in page.text
    assert click_counts.MARKER[1] in page.text  # its links carry the marker, to be counted afresh
    assert answer(site, "/events/event_list.json", event_type=value).json()["filtered_table_rows_count"] == count


def test_a_repeated_page_comes_from_the_cache(published_db: Path) -> None:
    async def twice() -> list[httpx.Response]:
        site = in_process_site(published_db, base_url=PREFIX)
        return [await site.client.get("/events/events.json?_size=3") for _ in range(2)]

    first, second = asyncio.run(twice())
    assert first.status_code == second.status_code == 200
    assert "age" not in first.headers and second.headers["age"] == "0"
    assert second.content == first.content


def test_a_csv_carries_the_pages_cache_header(ds: Datasette) -> None:
    response = answer(ds, "/events/event_list.csv", _size="1")
    assert response.status_code == 200
    assert response.headers["cache-control"] == f"max-age={SETTINGS['default_cache_ttl']}"


def test_a_static_file_carries_the_pages_cache_header(ds: Datasette) -> None:
    response = answer(ds, "/-/static-plugins/event-store/cluster_map.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == f"max-age={SETTINGS['default_cache_ttl']}"


def test_extra_computes_only_what_it_asks_for(ds: Datasette) -> None:
    everything = answer(ds, "/events/event_list.json", _size="1").json()
    counted = answer(ds, "/events/event_list.json", _size="1", _extra="count").json()
    assert everything["facet_results"] and not counted["facet_results"]
    assert counted["filtered_table_rows_count"] == everything["filtered_table_rows_count"]


@pytest.mark.parametrize("path", ["/events.csv?sql=select+'%3D1%2B1'+as+cell", "/-/csv/events/events.csv"])
def test_a_spreadsheet_csv_has_the_mark_and_no_formula(ds: Datasette, path: str) -> None:
    response = asyncio.run(ds.client.get(path + ("&" if "?" in path else "?") + "_bom=on"))
    assert response.status_code == 200
    assert response.text.startswith(BOM)
    cells = [cell for row in csv.reader(io.StringIO(response.text[1:])) for cell in row]
    assert cells and not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
    if "sql=" in path:
        assert cells == ["cell", "'=1+1"]


def test_a_write_is_refused(ds: Datasette) -> None:
    assert answer(ds, "/events/events", method="POST").status_code == 405


def test_atom_of_visitors_sql_is_refused(ds: Datasette) -> None:
    refused = answer(ds, "/events.atom", sql="select 1 as atom_id")
    assert refused.status_code == 400
    assert f"{PREFIX}events/event_feed.atom" in refused.text


# A visitor's SQL: ?sql=, and a table's _where (red team B4).
VISITORS_SQL = ["/events.json?sql=select+2+as+two&_shape=array", "/events/events.json?_where=1+%3D+1&_size=1"]


@pytest.mark.serial
@pytest.mark.parametrize("asked", VISITORS_SQL)
def test_visitors_sql_waits_its_turn(
    published_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked: str
) -> None:
    """While another worker holds the SQL lane's site-wide turn, a visitor's
    SQL waits and a page does not; it runs once the turn is given back."""
    monkeypatch.setenv(RUN_DIR_VARIABLE, str(tmp_path))

    async def run() -> tuple[int, int, bool]:
        site = in_process_site(published_db, base_url=PREFIX)
        await site.client.get("/events/events.json?_size=1")  # started up
        fd = os.open(gate.lock_path("sql"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            query = asyncio.ensure_future(site.client.get(asked))
            page = await site.client.get("/events/events.json?_size=2")
            await asyncio.sleep(0.5)
            waited = not query.done()
        finally:
            os.close(fd)
        return (await query).status_code, page.status_code, waited

    query, page, waited = asyncio.run(run())
    assert waited and query == page == 200


@pytest.mark.serial
@pytest.mark.parametrize(
    ("path", "params"), [("/events.json", {"sql": RUNAWAY}), ("/events/events.json", {"_where": f"({RUNAWAY}) > 0"})]
)
def test_a_runaway_query_is_stopped_at_the_visitors_limit(published_db: Path, path: str, params: dict) -> None:
    async def run() -> tuple[httpx.Response, float]:
        site = in_process_site(published_db, base_url=PREFIX)
        await site.client.get("/events/events.json?_size=1")
        started = time.monotonic()
        stopped = await site.client.get(path, params=params)
        return stopped, time.monotonic() - started

    stopped, took = asyncio.run(run())
    assert stopped.status_code == 400 and "too long" in stopped.text
    assert took < (gate.SQL_TIME_LIMIT_MS + SETTINGS["sql_time_limit_ms"]) / 2000  # not the pages' 3 s


@pytest.fixture(scope="module")
def served(published_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`serve --base-url /prefix/` over a copy of the published database with a
    view whose CSV has no end in sight; its address and process id."""
    db = tmp_path_factory.mktemp("served") / "events.db"
    shutil.copy(published_db, db)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("create table n (i integer primary key)")
        conn.execute(
            "insert into n with recursive c(i) as (select 1 union all select i + 1 from c limit 1000) select i from c"
        )
        conn.execute("create view endless as select a.i as a, b.i as b, c.i as c from n as a, n as b, n as c")
        conn.commit()
    with serving_process(published_db.parent / "sources", db, options=("--base-url", PREFIX)) as (base, process):
        yield base, process.pid


def connected(base: str, path: str) -> socket.socket:
    """A connection that has asked for path, reading as little as it can."""
    client = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    client.settimeout(10)
    return client


@pytest.mark.serial
def test_an_abandoned_download_stops(served: tuple[str, int]) -> None:
    base, pid = served
    workers = worker_pids(pid)
    with connected(base, f"{PREFIX}-/csv/events/endless.csv") as client:
        assert client.recv(12) == b"HTTP/1.1 200"
        time.sleep(1)  # it runs, and fills the buffers
    time.sleep(1)
    before = cpu_seconds(*workers)
    time.sleep(2)
    assert cpu_seconds(*workers) - before < 0.2


@pytest.mark.serial
def test_a_client_that_never_reads_its_csv_does_not_hold_the_sql_turn(served: tuple[str, int]) -> None:
    """Red team B2, under the prefix: the turn ends when the answer starts."""
    base, _ = served
    with connected(base, f"{PREFIX}events.csv?{urlencode({'sql': LARGE_CSV})}") as unread:
        assert unread.recv(12) == b"HTTP/1.1 200"
        time.sleep(0.5)  # the server's buffers fill and its sends wait for this client
        started = time.monotonic()
        other = httpx.get(f"{base}{PREFIX}events.json", params={"sql": "select 1 as one", "_shape": "array"}, timeout=4)
        assert other.status_code == 200 and other.json() == [{"one": 1}]
        assert time.monotonic() - started < 2
