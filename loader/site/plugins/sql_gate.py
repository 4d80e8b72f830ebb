"""Readers first: work a visitor chooses and pays nothing for waits its turn, and pages never wait behind it.

Datasette 0.65 runs every query, a page's or a visitor's own, on one pool of
three threads per process, so three visitors looping runaway SQL held all
three and every page waited up to the 3 s time limit behind them (issue 15);
and with several worker processes on two cores, three runaways in three
workers still took most of the CPU. So costly work that only a visitor's own
choice asks for, never a link of the site, goes through a lane: requests of a
lane pass one at a time across the whole site (a lock file shared by the
worker processes of one server; within a process a semaphore queues them
first); the others wait up to WAIT_SECONDS, then get 503 with Retry-After.
Everything else (pages, the site's facets, search, canned queries, the feeds,
the downloads it links) is never gated, so at most one thread of a process
serves each lane and the others are always free for readers. There are two
lanes, so a visitor looping one kind cannot lock out the other:

- "sql", the visitor's own SQL: `?sql=` and a table's `_where` (the only
  parameters Datasette 0.65 runs as SQL text; `_search`, `_through`,
  `_fts_table` and the column filters are bound or quoted). Each runs under
  SQL_TIME_LIMIT_MS by Datasette's own `_timelimit`, which can only shorten
  the site's limit: a query needing more than a second is stopped (the time
  limit message says so). A `_where` page is also asked with `_nocount`,
  because 0.65 counts its rows with the visitor's SQL under the pages' full
  3 s, which `_timelimit` does not reach; its facets keep Datasette's shorter
  facet limit. `_where` used to run ungated under 3 s (red team B4).
- "facets", facets the visitor adds (`_facet`, `_facet_array`,
  `_facet_date`): each costs up to the facet time limit over a whole view,
  and a request may ask many. The facets metadata.yml chooses are in no
  query string, and `_facet_size=max` (the "…" link) is a reader's link, so
  neither is gated.

A turn lasts while Datasette computes the answer, not while it is sent: it
ends when the response starts. Every format of Datasette 0.65 (HTML,
.json, .csv, and the .atom, .ics and .geojson renderers) has run all its SQL
by then, and a visitor's query has no next page, so its CSV, streamed or not,
runs once. Held while sending, one client that never read a large CSV held
the site's SQL turn for as long as it kept the socket open (red team B2).
The one answer that runs SQL while it sends is a table's CSV with `_stream`,
a query per page of rows at the pace of the reader; with `_where` that would be
the visitor's SQL outside any turn, so it is refused (400), the rows being
there page by page with `_next` or in one `?sql=`. Without `_where` such a
download is a page's own SQL, a query at a time at the client's pace, and
stays ungated like the site's own /-/csv export (csv_export.py), since
a turn held for a download's length is what B2 was.

Atom of a visitor's own SQL is refused (400): datasette-atom 0.9 cleans every
row's `atom_content_html` with bleach in the event loop, so one 6 MB answer
froze a worker for 45 s (red team B3), and the site's feeds are views with
plain-text `atom_content`, which need no cleaning and stay served. The same
rows are there as .json, which the refusal points to. The refusal can go
when datasette-atom cleans off the event loop or bounds what it cleans
(docs/upstream/datasette-atom-clean-in-thread.patch, ready to send).

The lock files live in the server's private run directory (EVENT_STORE_RUN_DIR,
made and removed by `serve`); without it, as in a test's own process, in the
system's temporary directory, named for the parent process.
datasette-ip-rate-limit limits how often one address asks, not how many
visitors' queries run at once, so a few addresses could still hold every thread.
See loader/site/serve.py for how this fits the worker processes.

Standard counterpart, in part: deploy/nginx.conf limits how many requests
carrying a visitor's SQL one client may have open at once (limit_conn), which
bounds one client, not all of them: nginx cannot make visitors' SQL take
turns site-wide, shorten its time limit (`_timelimit`), nor refuse Atom of
it. So the gate stays, behind nginx and for `make serve`, which has none.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette.utils.asgi import Response

from loader import DATABASE_NAME
from loader.site.worker import RUN_DIR_VARIABLE

SQL_TIME_LIMIT_MS = 1000
WAIT_SECONDS = 5
CONCURRENT = 1  # requests of a lane a process runs at once
POLL_SECONDS = 0.05  # how often a waiting request tries the site-wide lock
RAW_SQL = {"sql", "_where"}  # the parameters Datasette runs as SQL text
VISITOR_FACETS = {"_facet", "_facet_array", "_facet_date"}
FEEDS = ("event_feed", "release_feed")
# What waits in each lane, as the 503 names it.
LANES = {"sql": "SQL queries", "facets": "requests for facets of your choosing"}


def arguments(scope: dict) -> list[tuple[str, str]]:
    return parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)


def lane_of(scope: dict) -> str | None:
    """The lane a request waits in, if any."""
    if scope["type"] != "http":
        return None
    keys = {key for key, _ in arguments(scope)}
    if keys & RAW_SQL:
        return "sql"
    if keys & VISITOR_FACETS:
        return "facets"
    return None


def limited(query: str) -> str:
    """The query string with `_timelimit` at most SQL_TIME_LIMIT_MS, and with
    `_nocount` where the count would run a `_where` under the pages' limit."""
    pairs = parse_qsl(query, keep_blank_values=True)
    asked = [v for k, v in pairs if k == "_timelimit"]
    limit = SQL_TIME_LIMIT_MS
    if asked and asked[-1].isdigit():
        limit = min(limit, int(asked[-1]))
    where = any(k == "_where" for k, _ in pairs)
    kept = [(k, v) for k, v in pairs if k != "_timelimit" and not (where and k == "_nocount")]
    return urlencode([*kept, ("_timelimit", str(limit)), *([("_nocount", "1")] if where else [])])


def refusal(datasette: Any, scope: dict) -> str | None:
    """Why a visitor's SQL request is refused outright, or None."""
    pairs = arguments(scope)
    keys = {key for key, _ in pairs}
    path = scope["path"]
    if path.endswith(".atom") and "sql" in keys:
        feeds = " and ".join(datasette.urls.table(DATABASE_NAME, feed, format="atom") for feed in FEEDS)
        return (
            "Atom is offered for this site's own feeds, "
            f"{feeds}, not for your own SQL: ask the same query as .json (or .csv) instead.\n"
        )
    if path.endswith(".csv") and "_where" in keys and any(key == "_stream" and value for key, value in pairs):
        return (
            "A streamed CSV (_stream) is not offered with _where, which it would run again for every page of rows: "
            "ask the CSV without _stream and follow _next page by page, or ask your rows with ?sql=.\n"
        )
    return None


async def busy(send: Any, lane: str) -> None:
    message = f"Too many {LANES[lane]} at once on this server: try again in {WAIT_SECONDS} seconds.\n"
    await Response.text(message, status=503, headers={"retry-after": str(WAIT_SECONDS)}).asgi_send(send)


def lock_path(lane: str) -> Path:
    """The lock file of a lane of this server: its run directory, else one named for uvicorn's parent process."""
    run_dir = os.environ.get(RUN_DIR_VARIABLE)
    if run_dir:
        return Path(run_dir) / f"{lane}-gate.lock"
    return Path(tempfile.gettempdir()) / f"event-store-{lane}-gate-{os.getppid()}.lock"


async def site_lock(path: Path, deadline: float) -> int | None:
    """The site-wide turn, as an open locked file; None if it did not come by the deadline."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    return None
                await asyncio.sleep(POLL_SECONDS)
    except asyncio.CancelledError:
        os.close(fd)
        raise


async def turn(queue: asyncio.Semaphore, lane: str) -> Callable[[], None] | None:
    """A lane's turn, first in this process, then site-wide; what ends it
    (at most once, whoever calls it first); None if it did not come in time."""
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        await asyncio.wait_for(queue.acquire(), WAIT_SECONDS)
    except asyncio.TimeoutError:
        return None
    try:
        lock = await site_lock(lock_path(lane), deadline)
    except BaseException:
        queue.release()
        raise
    if lock is None:
        queue.release()
        return None
    ended = False

    def end() -> None:
        nonlocal ended
        if not ended:
            ended = True
            os.close(lock)  # closing the file releases its lock
            queue.release()

    return end


def wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        queues: dict[str, asyncio.Semaphore] = {}  # made on first use, inside the server's event loop

        async def sql_gate(scope: dict, receive: Any, send: Any) -> None:
            lane = lane_of(scope)
            if lane is None:
                await app(scope, receive, send)
                return
            if lane == "sql":
                refused = refusal(datasette, scope)
                if refused:
                    await Response.text(refused, status=400).asgi_send(send)
                    return
                query = limited(scope["query_string"].decode("latin-1"))
                scope = {**scope, "query_string": query.encode("latin-1")}
            end = await turn(queues.setdefault(lane, asyncio.Semaphore(CONCURRENT)), lane)
            if end is None:
                await busy(send, lane)
                return

            async def sending(message: dict) -> None:
                if message["type"] == "http.response.start":
                    end()  # the answer is computed; sending it is the client's pace, not the site's turn
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                end()

        return sql_gate

    return wrap
