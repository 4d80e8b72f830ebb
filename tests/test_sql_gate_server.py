"""loader/site/plugins/sql_gate.py against the site served by real uvicorn on 127.0.0.1: the
turns of visitors' costly work are site-wide lock files in the server's run
directory, held while the answer is computed and not while it is sent."""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import feedparser
import httpx
import pytest

from loader.site.plugins import sql_gate as gate
from loader.site.worker import RUN_DIR_VARIABLE
from tests.support.site_helpers import serving_process, worker_pids

# Timed or measured against a bound: run apart from the others (make test's serial run).
pytestmark = pytest.mark.serial

RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
# 600 rows of 15,000 characters: a 9 MB CSV, far more than the sockets' buffers
# hold and within every limit of sql_limits.py.
LARGE_CSV = (
    "select printf('%.*c', 15000, 'x') as t from "
    "(with recursive c(x) as (select 1 union all select x + 1 from c limit 600) select x from c)"
)
# 60 entries of 100 KB of markup each for datasette-atom to clean (red team B3).
ATOM_HTML = (
    "select x as atom_id, 'e' || x as atom_title, '2025-01-01T00:00:00Z' as atom_updated, "
    "replace(hex(zeroblob(16666)), '0', '<a>') as atom_content_html "
    "from (with recursive c(x) as (select 1 union all select x + 1 from c limit 60) select x from c)"
)


@pytest.fixture(scope="module")
def site(published_db: Path) -> Iterator[tuple[str, Path]]:
    """`python -m loader serve` (its three workers); yields its base URL and
    the run directory it gave its workers."""
    with serving_process(published_db.parent / "sources", published_db) as (base, process):
        environment = Path(f"/proc/{worker_pids(process.pid)[0]}/environ").read_bytes().split(b"\0")
        run_dir = next(v for k, _, v in (e.partition(b"=") for e in environment) if k == RUN_DIR_VARIABLE.encode())
        yield base, Path(run_dir.decode())


def get(base: str, path: str, *, timeout: float = 10, **params: str) -> httpx.Response:
    return httpx.get(base + path, params=params, timeout=timeout)


@contextmanager
def held(run_dir: Path, lane: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A lane's site-wide turn, taken by this test as another worker of the server would take it."""
    monkeypatch.setenv(RUN_DIR_VARIABLE, str(run_dir))
    fd = os.open(gate.lock_path(lane), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def waits_then_answers(pool: ThreadPoolExecutor, base: str, path: str, params: dict[str, str]) -> Future:
    """A request sent now, checked to be still waiting a second later."""
    waiting = pool.submit(lambda: httpx.get(base + path, params=params, timeout=10))
    time.sleep(1)
    assert not waiting.done(), path
    return waiting


def test_a_client_that_never_reads_its_csv_does_not_hold_the_turn(site: tuple[str, Path]) -> None:
    """Red team B2: the turn used to be held while the answer was sent, so one
    unread 15 MB CSV kept every other visitor's SQL at 503 for as long as the
    socket stayed open."""
    base, _ = site
    with socket.socket() as unread:
        unread.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        unread.connect(("127.0.0.1", httpx.URL(base).port))
        request = f"GET /events.csv?{urlencode({'sql': LARGE_CSV})} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        unread.sendall(request.encode())
        unread.settimeout(10)
        assert unread.recv(12) == b"HTTP/1.1 200"  # computed and being sent; never read further
        time.sleep(0.5)  # the server's buffers fill and its sends wait for this client
        started = time.monotonic()
        other = get(base, "/events.json", timeout=4, sql="select 1 as one", _shape="array")
        assert other.status_code == 200 and other.json() == [{"one": 1}]
        assert time.monotonic() - started < 2


def test_atom_of_visitors_sql_is_refused_at_once_and_the_worker_stays_free(site: tuple[str, Path]) -> None:
    """Red team B3: datasette-atom cleaned 6 MB of markup in the event loop for
    45 s, and every request on that worker waited."""
    base, _ = site
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        atom = pool.submit(get, base, "/events.atom", sql=ATOM_HTML)
        time.sleep(0.2)
        page = get(base, "/events/events.json", timeout=3, _size="1")
        assert page.status_code == 200
        refused = atom.result()
    assert time.monotonic() - started < 3
    assert refused.status_code == 400
    assert "/events/event_feed.atom" in refused.text and ".json" in refused.text
    # The site's own feeds are views, with plain-text content, and stay served.
    feed = feedparser.parse(get(base, "/events/feed_version.atom").text)
    assert feed.version == "atom10" and not feed.bozo and feed.entries


def test_a_runaway_where_is_stopped_at_the_visitors_limit_and_takes_the_sql_turn(site: tuple[str, Path]) -> None:
    """Red team B4: `_where` ran visitors' SQL outside the gate, for 3 s."""
    base, _ = site

    def run_away() -> tuple[httpx.Response, float]:
        response = get(base, "/events/events.json", _size="1", _where=f"({RUNAWAY}) > 0")
        return response, time.monotonic()

    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        runaway = pool.submit(run_away)
        time.sleep(0.3)  # it has the turn and runs
        query = get(base, "/events.json", sql="select 1")
        query_done = time.monotonic()
        stopped, stopped_at = runaway.result()
    assert stopped.status_code == 400 and "too long" in stopped.text
    assert stopped_at - started < (gate.SQL_TIME_LIMIT_MS / 1000 + 3) / 2  # well before the pages' 3 s
    assert query.status_code == 200 and query_done >= stopped_at - 0.1  # it waited for the runaway's turn


def test_a_where_is_not_streamed(site: tuple[str, Path]) -> None:
    """A streamed CSV would run the `_where` again for every 100 rows while it
    is sent, after the turn has ended."""
    base, _ = site
    refused = get(base, "/events/events.csv", _where="1 = 1", _stream="on")
    assert refused.status_code == 400 and "_next" in refused.text
    assert get(base, "/events/events.csv", _where="1 = 1").status_code == 200


def test_each_lane_is_site_wide_in_the_run_directory_and_readers_never_wait(
    site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team B14: the lock file was named for the parent process in the
    system's temporary directory, shared by orphaned workers and never removed.
    Here the turn is held outside the worker, as another worker holds it:
    that lane's requests wait for it, the other lane's and the pages do not."""
    base, run_dir = site
    # Each asked once in this module, so that loader/site/plugins/response_cache.py has no copy of it to answer at once.
    with ThreadPoolExecutor(1) as pool:
        with held(run_dir, "sql", monkeypatch):
            waiting = waits_then_answers(pool, base, "/events.json", {"sql": "select 'its turn'"})
            assert get(base, "/events/places.json", timeout=2, _facet="kind").status_code == 200
            assert get(base, "/events/events.json", timeout=2).status_code == 200
        assert waiting.result().status_code == 200
        with held(run_dir, "facets", monkeypatch):
            waiting = waits_then_answers(pool, base, "/events/places.json", {"_facet": "country_code"})
            assert get(base, "/events.json", timeout=2, sql="select 'the other lane'").status_code == 200
            assert get(base, "/events/event_list.json", timeout=2, _facet_size="max").status_code == 200
        assert waiting.result().status_code == 200
    assert sorted(path.name for path in run_dir.iterdir()) == ["facets-gate.lock", "sql-gate.lock"]
