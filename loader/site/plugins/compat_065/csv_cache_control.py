"""A CSV answer carries the cache header Datasette gives the page it comes from.

Datasette 0.65 sends its pages with `Cache-Control: max-age=` its
default_cache_ttl (the database is immutable, so a page is the same for
every reader), but builds a CSV, a stream, with no cache header at all. So
neither nginx's cache on the production path nor response_cache.py keeps
one, and every reader who clicks the CSV link of a filtered page has it
computed again, in the costly lane among whole-table downloads (the load
test's browsers waited seconds for a 10 KB CSV behind nine such clients).
Here a 200 CSV without a Cache-Control gets the same one as the pages, with
their Vary; a visitor's own SQL as CSV included, since its answer too
depends only on the URL.

Removed when Datasette sends the header itself: Datasette 1.0a still builds
the stream without one (the same gap as simonw/datasette#1645, open, for
static files).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
App = Callable[..., Awaitable[None]]


def wrapper(datasette: Any) -> Callable[[App], App]:
    def wrap(app: App) -> App:
        ttl = datasette.setting("default_cache_ttl")
        header = [(b"cache-control", f"max-age={ttl}".encode()), (b"vary", b"Cookie, Authorization")]

        async def csv_cache_control(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not scope["path"].endswith(".csv") or not ttl:
                await app(scope, receive, send)
                return

            async def cached(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    headers = list(message.get("headers") or [])
                    if not any(name.lower() == b"cache-control" for name, _ in headers):
                        message = {**message, "headers": headers + header}
                await send(message)

            await app(scope, receive, cached)

        return csv_cache_control

    return wrap
