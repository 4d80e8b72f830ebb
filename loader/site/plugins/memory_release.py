"""Give a request's memory back once it is answered, so that a worker returns
to its idle size after the largest request the limits allow.

A query refused for its size (sql_limits.py) leaves a reference cycle:
the exception's traceback holds Datasette's frame, the frame holds the
cursor, and the cursor's statement holds the row it was fetching when it was
stopped, up to 64 MB of values. Python frees such a cycle only when its cycle
collector runs, and the collector runs when new objects are made, which an
idle worker does not do: after the 60-wide-column query of the memory test a
worker kept 64 MB for as long as it stayed idle.

So each worker notes its resident size after each release, and whenever it
is idle, and when a request ends with the worker more than GROWTH_BYTES
above that, it runs the cycle collector and then asks glibc to hand freed
pages back to the system (`malloc_trim`, which nothing in Python's standard
library exposes, hence ctypes). Both run in the event loop and take tens of
milliseconds in a worker of Datasette's size, during which no other request
of the worker moves, so they run once the worker is idle, RELEASE_DELAY_SECONDS
after its last answer; a worker that is never idle releases at most once
every BUSY_RELEASE_SECONDS. (Run after every large request, as they first
were, a busy worker spent a quarter of its event loop's time in them, since
with many requests at once nearly every one saw the process grow, and the
others' answers waited behind each collection.) Ordinary pages pay only for
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
BUSY_RELEASE_SECONDS = 5.0
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


class Releaser:
    """When this worker gives memory back: idle after growing, or seldom
    while it never is idle."""

    def __init__(self) -> None:
        self.answering = 0  # requests begun and not yet answered
        self.floor = 0  # resident bytes after the last release, or less when idle since
        self.released_at = 0.0  # event loop time of the last release
        self.pending: asyncio.TimerHandle | None = None

    def begin(self) -> None:
        if not self.answering:  # what was freed since (a thread's last rows) lowers it
            size = resident_bytes()
            self.floor = min(self.floor, size) if self.floor else size
        self.answering += 1

    def end(self) -> None:
        self.answering -= 1
        if self.pending is not None or resident_bytes() - self.floor <= GROWTH_BYTES:
            return
        loop = asyncio.get_running_loop()
        if not self.answering or loop.time() - self.released_at >= BUSY_RELEASE_SECONDS:
            self.pending = loop.call_later(RELEASE_DELAY_SECONDS, self.release)

    def release(self) -> None:
        self.pending = None
        loop = asyncio.get_running_loop()
        if self.answering and loop.time() - self.released_at < BUSY_RELEASE_SECONDS:
            return  # busy again: the next end of a request decides
        self.released_at = loop.time()
        release()
        self.floor = resident_bytes()  # what the worker keeps on purpose (its caches) stays in it


def wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        if not resident_bytes():
            return app
        releaser = Releaser()

        async def memory_release(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":  # the lifespan lasts as long as the worker
                await app(scope, receive, send)
                return
            releaser.begin()
            try:
                await app(scope, receive, send)
            finally:
                releaser.end()

        return memory_release

    return wrap
