"""Readers first: arbitrary SQL gets one of a process's SQL threads, and less time.

Datasette 0.65 runs every query, a page's or a visitor's own `?sql=`, on one
pool of three threads per process, so three visitors looping runaway SQL
held all three and every page waited up to the 3 s time limit behind them
(issue 15); and with several worker processes on two cores, three runaways
in three workers still took most of the CPU. Here requests that carry their
own SQL pass one at a time across the whole site (a lock file shared by the
worker processes of one server, named for their parent process; within a
process a semaphore queues them first): the others wait up to WAIT_SECONDS,
then get 503 with Retry-After. Each runs under SQL_TIME_LIMIT_MS, by Datasette's own
`_timelimit` parameter, which can only shorten the site's limit. Pages,
facets, search and canned queries are not gated and keep the full limit, so
two threads of every process are always free for them. The cost falls on
arbitrary SQL alone: a query needing more than a second is stopped (the
time limit message says so), and under contention a visitor's query waits.
See loader/serve.py for how this fits the worker processes.
datasette-ip-rate-limit limits how often one address asks, not how many
visitors' queries run at once, so a few addresses could still hold every thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

SQL_TIME_LIMIT_MS = 1000
WAIT_SECONDS = 5
CONCURRENT = 1  # arbitrary queries a process runs at once
POLL_SECONDS = 0.05  # how often a waiting query tries the site-wide lock


def limited(query: str) -> str:
    """The query string with `_timelimit` at most SQL_TIME_LIMIT_MS."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "_timelimit"]
    asked = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "_timelimit"]
    limit = SQL_TIME_LIMIT_MS
    if asked and asked[-1].isdigit():
        limit = min(limit, int(asked[-1]))
    return urlencode([*pairs, ("_timelimit", str(limit))])


def carries_sql(scope: dict) -> bool:
    return scope["type"] == "http" and any(
        key == "sql" for key, _ in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    )


async def busy(send: Any) -> None:
    message = f"Too many SQL queries at once on this server: try again in {WAIT_SECONDS} seconds.\n"
    await Response.text(message, status=503, headers={"retry-after": str(WAIT_SECONDS)}).asgi_send(send)


def lock_path() -> Path:
    """The lock file of this server: uvicorn's workers share their parent."""
    return Path(tempfile.gettempdir()) / f"event-store-sql-gate-{os.getppid()}.lock"


async def site_lock(deadline: float) -> int | None:
    """The site-wide turn to run SQL, as an open locked file; None if it did not come by the deadline."""
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                return None
            await asyncio.sleep(POLL_SECONDS)


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        gate: asyncio.Semaphore | None = None  # made on first use, inside the server's event loop

        async def sql_gate(scope: dict, receive: Any, send: Any) -> None:
            nonlocal gate
            if not carries_sql(scope):
                await app(scope, receive, send)
                return
            gate = gate or asyncio.Semaphore(CONCURRENT)
            deadline = time.monotonic() + WAIT_SECONDS
            try:
                await asyncio.wait_for(gate.acquire(), WAIT_SECONDS)
            except asyncio.TimeoutError:
                await busy(send)
                return
            try:
                lock = await site_lock(deadline)
                if lock is None:
                    await busy(send)
                    return
                try:
                    query = limited(scope["query_string"].decode("latin-1"))
                    await app({**scope, "query_string": query.encode("latin-1")}, receive, send)
                finally:
                    os.close(lock)  # closing the file releases its lock
            finally:
                gate.release()

        return sql_gate

    return wrap
