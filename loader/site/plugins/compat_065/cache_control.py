"""A CSV answer and a static file carry the cache header Datasette gives the pages.

Datasette 0.65 sends its pages with `Cache-Control: max-age=` its
default_cache_ttl (the database is immutable, so a page is the same for
every reader), but two kinds of answer with no cache header at all:

- a CSV, a stream. So neither nginx's cache on the production path nor
  response_cache.py keeps one, and every reader who clicks the CSV link of
  a filtered page has it computed again, in the costly lane among
  whole-table downloads (the load test's browsers waited seconds for a
  10 KB CSV behind nine such clients). A 200 CSV gets the pages'
  Cache-Control and Vary; a visitor's own SQL as CSV included, since its
  answer too depends only on the URL.
- a static file (/-/static/ and /-/static-plugins/: the stylesheet, the
  table's, the maps' and the site's scripts, Leaflet). With neither a
  Cache-Control nor a Last-Modified, a browser may not keep one, so every
  page a reader opened fetched them all again. A 200 static file gets the
  pages' Cache-Control, no Vary: whoever asks, the file is the same. Not
  longer than the pages: the files change with an upgrade of the site,
  and their URLs (but app.css's) do not.

Removed when Datasette sends the headers itself: for static files
Datasette 1.0a's static() helper (simonw/datasette#2804, closing #974;
#1645 is still open for the files a plugin links itself); Datasette 1.0a
still builds the CSV stream without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from loader.site.plugins.site_paths import routed_path

Message = MutableMapping[str, Any]
App = Callable[..., Awaitable[None]]
Header = list[tuple[bytes, bytes]]

STATIC = ("/-/static/", "/-/static-plugins/")  # Datasette's routes for its own and its plugins' files


def wrapper(datasette: Any) -> Callable[[App], App]:
    def wrap(app: App) -> App:
        ttl = datasette.setting("default_cache_ttl")
        control = (b"cache-control", f"max-age={ttl}".encode())
        csv_header = [control, (b"vary", b"Cookie, Authorization")]

        def header_for(path: str) -> Header:
            if path.endswith(".csv"):
                return csv_header
            return [control] if routed_path(datasette, path).startswith(STATIC) else []

        async def cache_control(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            header = header_for(scope["path"]) if scope["type"] == "http" and ttl else []
            if not header:
                await app(scope, receive, send)
                return

            async def cached(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    headers = list(message.get("headers") or [])
                    if not any(name.lower() == b"cache-control" for name, _ in headers):
                        message = {**message, "headers": headers + header}
                await send(message)

            await app(scope, receive, cached)

        return cache_control

    return wrap
