"""Give a request's memory back once it is answered, so that a worker returns
to its idle size after the largest request the limits allow.

A query refused for its size (sql_limits.py) leaves a reference cycle:
the exception's traceback holds Datasette's frame, the frame holds the
cursor, and the cursor's statement holds the row it was fetching when it was
stopped, up to 64 MB of values. Python frees such a cycle only when its cycle
collector runs, and the collector runs when new objects are made, which an
idle worker does not do: after the 60-wide-column query of the memory test a
worker kept 64 MB for as long as it stayed idle.

So each worker notes its resident size before and after each request, and
when a request has grown it by more than GROWTH_BYTES it runs the cycle
collector and then asks glibc to hand freed pages back to the system
(`malloc_trim`, which nothing in Python's standard library exposes, hence
ctypes). Ordinary pages grow a worker by well under that and pay only for
reading /proc/self/statm. Where there is no /proc or no glibc (not Linux),
the plugin does nothing. No Datasette plugin gives memory back after a
request; datasette-psutil only reports it.

What a worker keeps on purpose past a request (a cache's entries, objects
something still refers to) is not garbage, so this cannot give it back; for
that, `serve` retires each worker after some thousands of requests and
uvicorn's supervisor starts a fresh one (loader/site/serve.py, MAX_REQUESTS).

Standard counterpart, in part: uvicorn's --limit-max-requests, which `serve`
uses (MAX_REQUESTS), returns a worker's memory thousands of requests later;
this gives back one large request's memory right after it, which no flag
does, so it stays, in every deployment.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import os
from pathlib import Path
from typing import Any

GROWTH_BYTES = 8 * 1024**2
# The cycle stays reachable until the event loop has run the callbacks that
# hand the query's result from its thread to the request, after the answer.
RELEASE_DELAY_SECONDS = 0.1
STATM = Path("/proc/self/statm")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident size, or 0 where the system does not say it."""
    try:
        return int(STATM.read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def _glibc_trim() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


malloc_trim = _glibc_trim()


def release() -> None:
    """Free what unreachable cycles hold, then return free heap pages to the system."""
    gc.collect()
    if malloc_trim is not None:
        malloc_trim(0)


def wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        if not resident_bytes():
            return app

        async def memory_release(scope: dict, receive: Any, send: Any) -> None:
            before = resident_bytes()
            try:
                await app(scope, receive, send)
            finally:
                if resident_bytes() - before > GROWTH_BYTES:
                    asyncio.get_running_loop().call_later(RELEASE_DELAY_SECONDS, release)

        return memory_release

    return wrap
