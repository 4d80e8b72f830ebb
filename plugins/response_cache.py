"""Keep recent pages in memory and answer repeats from there, as a caching
proxy in front of the site would, honouring the site's own cache headers.

The database is immutable, so a page's bytes depend only on its URL and on
who asks; Datasette already says so: `Cache-Control: max-age=300` and `Vary:
Cookie, Authorization`. The pages readers open most (the event list, its
facets, the map's JSON) cost Datasette tens of milliseconds of Python each
and are asked for again and again, so each worker process keeps the last
CACHE_BYTES of such answers and sends a repeat in well under a millisecond.
Only what a shared cache may keep is kept: a 200 to a GET without a cookie or
an Authorization header (the Vary), with a positive max-age and neither
`private` nor `no-store`, no Set-Cookie, at most ENTRY_BYTES; each for its
max-age, and no longer. The answer carries `Age`, as HTTP caches add. While
one request for a URL is being answered, others for the same URL wait for it
rather than all computing the same page (the burst when a worker starts);
they stop waiting as soon as its first answer turns out not to be kept.

Hand-written because the ASGI caches on PyPI (asgi-caches) are unmaintained
since 2019 and built for Starlette, and a proxy from Debian (Varnish, nginx)
would make `make serve` more than one command. The cost: up to CACHE_BYTES
more memory in each worker once it is warm.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from typing import Any

from datasette import hookimpl

CACHE_BYTES = 32_000_000
ENTRY_BYTES = 2_000_000
MAX_AGE = re.compile(rb"(?:^|,)\s*max-age=(\d+)")


class Entry:
    """One kept answer. (A plain class: dataclasses cannot see a module that
    Datasette loads from its plugins directory.)"""

    def __init__(self, start: dict, body: bytes, stored: float, expires: float) -> None:
        self.start, self.body, self.stored, self.expires = start, body, stored, expires


def lifetime(headers: list[tuple[bytes, bytes]]) -> int:
    """Seconds a shared cache may keep a response with these headers; 0 if none."""
    names = {name.lower() for name, _ in headers}
    if b"set-cookie" in names:
        return 0
    control = b",".join(value.lower() for name, value in headers if name.lower() == b"cache-control")
    if b"private" in control or b"no-store" in control or b"no-cache" in control:
        return 0
    found = MAX_AGE.search(control)
    return int(found.group(1)) if found else 0


def cacheable(scope: dict) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    return not any(name.lower() in (b"cookie", b"authorization") for name, _ in scope.get("headers", []))


class Cache:
    def __init__(self, capacity: int = CACHE_BYTES) -> None:
        self.capacity = capacity
        self.size = 0
        self.entries: OrderedDict[tuple[str, bytes], Entry] = OrderedDict()

    def get(self, key: tuple[str, bytes]) -> Entry | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            self.drop(key)
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, bytes], entry: Entry) -> None:
        self.drop(key)
        self.entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.capacity:
            self.drop(next(iter(self.entries)))

    def drop(self, key: tuple[str, bytes]) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= len(entry.body)


async def replay(entry: Entry, send: Any) -> None:
    age = str(int(time.monotonic() - entry.stored)).encode()
    headers = [(name, value) for name, value in entry.start["headers"] if name.lower() != b"age"]
    await send({**entry.start, "headers": [*headers, (b"age", age)]})
    await send({"type": "http.response.body", "body": entry.body})


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        cache = Cache()
        pending: dict[tuple[str, bytes], asyncio.Event] = {}

        async def response_cache(scope: dict, receive: Any, send: Any) -> None:
            if not cacheable(scope):
                await app(scope, receive, send)
                return
            host = next((value for name, value in scope.get("headers", []) if name.lower() == b"host"), b"")
            key = (scope["path"], host + b"?" + scope["query_string"])  # pages may hold absolute URLs
            if key in pending:
                await pending[key].wait()
            entry = cache.get(key)
            if entry is not None:
                await replay(entry, send)
                return
            if key in pending:  # the first answer was not kept: compute alongside it
                await app(scope, receive, send)
                return
            pending[key] = done = asyncio.Event()
            try:
                await answer(key, done, scope, receive, send)
            finally:
                pending.pop(key)
                done.set()

        async def answer(key: tuple[str, bytes], done: asyncio.Event, scope: dict, receive: Any, send: Any) -> None:
            start: dict = {}
            chunks: list[bytes] = []
            keep, size = [True], [0]

            async def capture(message: dict) -> None:
                if message["type"] == "http.response.start":
                    start.update(message)
                    keep[0] = message["status"] == 200 and lifetime(message.get("headers", [])) > 0
                    if not keep[0]:
                        done.set()
                elif message["type"] == "http.response.body" and keep[0]:
                    chunks.append(message.get("body", b""))
                    size[0] += len(chunks[-1])
                    if size[0] > ENTRY_BYTES:
                        keep[0] = False
                        chunks.clear()
                        done.set()
                    elif not message.get("more_body"):
                        now = time.monotonic()
                        seconds = lifetime(start.get("headers", []))
                        cache.put(key, Entry(start, b"".join(chunks), now, now + seconds))
                await send(message)

            await app(scope, receive, capture)

        return response_cache

    return wrap
