"""Readers first: arbitrary SQL gets one of a process's SQL threads, and less time.

Datasette 0.65 runs every query, a page's or a visitor's own `?sql=`, on one
pool of three threads per process, so three visitors looping runaway SQL
held all three and every page waited up to the 3 s time limit behind them
(issue 15). Here, in each worker process, requests that carry their own SQL
pass one at a time (the others wait up to WAIT_SECONDS, then get 503 with
Retry-After), and each runs under SQL_TIME_LIMIT_MS, by Datasette's own
`_timelimit` parameter, which can only shorten the site's limit. Pages,
facets, search and canned queries are not gated and keep the full limit, so
two threads of every process are always free for them. The cost falls on
arbitrary SQL alone: a query needing more than a second is stopped (the
time limit message says so), and under contention a visitor's query waits.
See loader/serve.py for how this fits the worker processes.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

SQL_TIME_LIMIT_MS = 1000
WAIT_SECONDS = 5
CONCURRENT = 1  # arbitrary queries a process runs at once


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
            try:
                await asyncio.wait_for(gate.acquire(), WAIT_SECONDS)
            except asyncio.TimeoutError:
                await busy(send)
                return
            try:
                query = limited(scope["query_string"].decode("latin-1"))
                await app({**scope, "query_string": query.encode("latin-1")}, receive, send)
            finally:
                gate.release()

        return sql_gate

    return wrap
