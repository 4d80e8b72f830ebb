"""Keep recent pages in memory and answer repeats from there, as a caching
proxy in front of the site would, honouring the site's own cache headers.

The database is immutable, so a page's bytes depend only on its URL and on
who asks; Datasette already says so: `Cache-Control: max-age=300` and `Vary:
Cookie, Authorization`. The pages readers open most (the event list, its
facets, the map's JSON) cost Datasette tens of milliseconds of Python each
and are asked for again and again, so each worker process keeps the last
CACHE_BYTES of such answers and sends a repeat in well under a millisecond.
Only what a shared cache may keep is kept: a 200 to a GET without a cookie,
an Authorization or an If-None-Match header (the first two are the Vary; to
the third, Datasette's database download answers 304), with a positive
max-age and neither `private` nor `no-store`, no Set-Cookie, a body of at
most ENTRY_BYTES; each for its max-age, and no longer. The answer carries
`Age`, as HTTP caches add. While one request for a URL is being answered,
others for the same URL wait for it rather than all computing the same page
(the burst when a worker starts); they stop waiting as soon as its first
answer turns out not to be kept.

A page is kept under its whole URL as the app sees it: scheme, Host, path
(raw and decoded) and query string. Datasette writes absolute links from the
scheme and the Host, and uvicorn sets the scheme from `X-Forwarded-Proto`, so
a URL without them let one request pin `https://` links on the page everyone
else got. And the app is shown no other request header when its answer may
be kept, so no header a client sends (a forwarded one, or one some plugin
reads tomorrow) can shape a page another client receives: Datasette's Vary
promises the page depends on none of them, and this makes it so.

The bound: the cache holds at most CACHE_BYTES of Python memory per worker,
everything an entry holds counted: its key, its status and headers, its body
(each as `sys.getsizeof` measures it) and ENTRY_OVERHEAD for the entry's own
objects and its place in the ordered dict. A key of more than KEY_BYTES is
not kept at all: no page the site links to has one, and a visitor can make
any number of them. Expired entries are swept every SWEEP_SECONDS while
anything is kept, so the memory a burst of one-off URLs took is freed soon
after they expire, not when the same URLs are asked again. Beyond the cache,
each request being answered holds its body (at most ENTRY_BYTES) until it is
kept or refused.

Large pages can push popular ones out (an entry is at most ENTRY_BYTES, a
sixteenth of the cache), and a visitor can flush the cache with a score of
them. No admission rule is tried against that: flushing costs the site no
more than that visitor asking for URLs that are never kept, which a new query
string gives anyone; it is a loss of speed, not of memory or correctness.

Hand-written because the ASGI caches on PyPI (asgi-caches) are unmaintained
since 2019 and built for Starlette, and a proxy from Debian (Varnish, nginx)
would make `make serve` more than one command.

Standard counterpart: in production, deploy/nginx.conf's proxy_cache keeps
pages by the same Cache-Control and Vary, shared by every `serve` process
behind it, and this cache then sees few repeats. `make serve` has no proxy in
front, so it stays for that: it is what makes repeated pages fast there.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections import OrderedDict
from typing import Any

CACHE_BYTES = 32_000_000
ENTRY_BYTES = 2_000_000
KEY_BYTES = 4_000
# An entry's objects besides its key, headers and body (the Entry, its two
# floats) and its share of the ordered dict (node, table slots at up to 2/3
# load): measured with tracemalloc at 210-250 bytes, about 350 just after the
# table grows; rounded up.
ENTRY_OVERHEAD = 512
SWEEP_SECONDS = 2.0
MAX_AGE = re.compile(rb"(?:^|,)\s*max-age=(\d+)")
PERSONAL = (b"cookie", b"authorization", b"if-none-match")

Key = tuple[str, bytes, str, bytes | None, bytes]


def footprint(value: object) -> int:
    """Bytes of Python memory a key, a header list or a body holds, the
    objects inside a tuple or a list included."""
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(footprint(item) for item in value)
    return sys.getsizeof(value)


class Entry:
    """One kept answer and what keeping it costs. (A plain class: dataclasses
    cannot see a module that Datasette loads from its plugins directory.)"""

    __slots__ = ("status", "headers", "body", "stored", "expires", "cost")

    def __init__(self, key: Key, status: int, headers: list, body: bytes, stored: float, expires: float) -> None:
        self.status, self.headers, self.body, self.stored, self.expires = status, headers, body, stored, expires
        self.cost = ENTRY_OVERHEAD + footprint(key) + footprint(headers) + footprint(body)


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


def cache_key(scope: dict) -> Key | None:
    """What the page depends on, or None if its answer may not be kept."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    headers = scope.get("headers", [])
    if any(name.lower() in PERSONAL for name, _ in headers):
        return None
    host = next((value for name, value in headers if name.lower() == b"host"), b"")
    key = (scope.get("scheme") or "http", host, scope["path"], scope.get("raw_path"), scope["query_string"])
    return key if footprint(key) <= KEY_BYTES else None


class Cache:
    """Answers by key, least recently used first, costing at most `capacity` bytes together."""

    def __init__(self, capacity: int = CACHE_BYTES) -> None:
        self.capacity = capacity
        self.size = 0
        self.entries: OrderedDict[Key, Entry] = OrderedDict()
        self.sweeper: asyncio.TimerHandle | None = None

    def get(self, key: Key) -> Entry | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            self.drop(key)
            return None
        self.entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        self.drop(key)
        self.entries[key] = entry
        self.size += entry.cost
        while self.size > self.capacity:
            self.drop(next(iter(self.entries)))
        if self.sweeper is None:
            self.sweep_later()

    def drop(self, key: Key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.size -= entry.cost

    def sweep_later(self) -> None:
        if self.entries:
            self.sweeper = asyncio.get_running_loop().call_later(SWEEP_SECONDS, self.sweep)

    def sweep(self) -> None:
        self.sweeper = None
        now = time.monotonic()
        for key in [key for key, entry in self.entries.items() if entry.expires <= now]:
            self.drop(key)
        self.sweep_later()


async def replay(entry: Entry, send: Any) -> None:
    age = str(int(time.monotonic() - entry.stored)).encode()
    headers = [(name, value) for name, value in entry.headers if name.lower() != b"age"]
    await send({"type": "http.response.start", "status": entry.status, "headers": [*headers, (b"age", age)]})
    await send({"type": "http.response.body", "body": entry.body})


class ResponseCache:
    """The ASGI app that answers from the cache or asks `app`. (A class, so
    that its cache can be looked at.)"""

    def __init__(self, app: Any, capacity: int = CACHE_BYTES) -> None:
        self.app = app
        self.cache = Cache(capacity)
        self.pending: dict[Key, asyncio.Event] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        key = cache_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(b"host", key[1])] if key[1] else []}
        if key in self.pending:
            await self.pending[key].wait()
        entry = self.cache.get(key)
        if entry is not None:
            await replay(entry, send)
            return
        if key in self.pending:  # the first answer was not kept: compute alongside it
            await self.app(scope, receive, send)
            return
        self.pending[key] = done = asyncio.Event()
        try:
            await self.answer(key, done, scope, receive, send)
        finally:
            self.pending.pop(key)
            done.set()

    async def answer(self, key: Key, done: asyncio.Event, scope: dict, receive: Any, send: Any) -> None:
        status, size, keep = 0, 0, True
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            nonlocal status, headers, size, keep
            if message["type"] == "http.response.start":
                status, headers = message["status"], message.get("headers", [])
                keep = status == 200 and lifetime(headers) > 0
                if not keep:
                    done.set()
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > ENTRY_BYTES:
                    keep = False
                    chunks.clear()
                    done.set()
                elif not message.get("more_body"):
                    now = time.monotonic()
                    body = b"".join(chunks)
                    self.cache.put(key, Entry(key, status, headers, body, now, now + lifetime(headers)))
            await send(message)

        await self.app(scope, receive, capture)


def wrapper(datasette: Any) -> Any:
    return ResponseCache
