"""The event list's map at any size: clusters counted on the server.

datasette-cluster-map draws the curated events well, but it fetches every
marker, a thousand rows a request, and clusters them in the browser, which
cannot cope with hundreds of thousands. The build clusters the events'
places into H3 cells (loader/map_cells.py, schema.sql's map_cells); this
plugin serves them as JSON, a resolution chosen by the map's zoom, and at
the closest zooms the places themselves, each with its events' popups on
click. When the unfiltered event list holds more than `min_events` events
(plugin setting `server-map`, default 10,000), its page draws this map in
place of datasette-cluster-map's (`?_map=server` asks for it at any size);
filtered pages and smaller datasets keep datasette-cluster-map. Leaflet comes from datasette-leaflet and the tiles
from the site itself, so it works with no internet.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

DATABASE = "events"
TABLE = "event_list"
MIN_EVENTS = 10_000
SCRIPT = Path(__file__).with_name("server_map.js")
# Zoom at and past which the map shows places rather than cells; below it a
# cell of resolution zoom - 3 (zoom 6 shows a country in cells some 120 km across).
POINTS_ZOOM = 9
MAX_RESOLUTION = 5
POPUPS = 10  # newest events listed in a place's popup

CELLS = """
select latitude, longitude, events, places, place_id from map_cells
where resolution = :resolution
  and latitude between :south and :north and longitude between :west and :east
"""
PLACES = """
select p.id as place_id, p.name, p.latitude, p.longitude,
       (select count(*) from events where place_id = p.id) as events
from places as p
where p.latitude between :south and :north and p.longitude between :west and :east
  and exists (select 1 from events where place_id = p.id)
"""
# The events at the coarsest resolution, the bounds at the finest (whose
# centres lie closest to the places): every coarser centre lies within them.
TOTAL = f"""
select (select sum(events) from map_cells where resolution = 0) as events,
       min(latitude) as south, min(longitude) as west, max(latitude) as north, max(longitude) as east
from map_cells where resolution = {MAX_RESOLUTION}
"""
PLACE = f"""
select popup from event_list where place_id = :place
order by start_date desc, id desc limit {POPUPS}
"""


def resolution_for(zoom: int) -> int:
    return max(0, min(MAX_RESOLUTION, zoom - 3))


def _bbox(value: str) -> dict[str, float]:
    west, south, east, north = (float(part) for part in value.split(","))
    return {"west": west, "south": south, "east": east, "north": north}


async def clusters(request: Any, datasette: Any) -> Response:
    """/-/map/events.json: the whole map's count and bounds; with zoom and
    bbox=west,south,east,north the markers of that view; with place=ID that
    place's count and its newest events' popups."""
    await datasette.ensure_permissions(request.actor, [("view-table", (DATABASE, TABLE)), "view-instance"])
    db = datasette.get_database(DATABASE)
    args = request.args
    try:
        if "place" in args:
            place = args["place"]
            count = (await db.execute("select count(*) from events where place_id = :place", {"place": place})).first()
            popups = [json.loads(row["popup"]) for row in await db.execute(PLACE, {"place": place})]
            return Response.json({"place_id": place, "events": count[0], "popups": popups})
        if "zoom" not in args:
            total = (await db.execute(TOTAL)).first()
            return Response.json(dict(total))
        zoom, box = int(args["zoom"]), _bbox(args["bbox"])
    except (KeyError, ValueError):
        raise NotFound("give zoom and bbox=west,south,east,north, or place") from None
    if zoom >= POINTS_ZOOM:
        rows = await db.execute(PLACES, box)
        return Response.json({"kind": "places", "markers": [dict(row) for row in rows]})
    rows = await db.execute(CELLS, {**box, "resolution": resolution_for(zoom)})
    return Response.json({"kind": "cells", "resolution": resolution_for(zoom), "markers": [dict(row) for row in rows]})


async def script(request: Any, datasette: Any) -> Response:
    return Response(
        SCRIPT.read_text(encoding="utf-8"),
        content_type="text/javascript; charset=utf-8",
        headers={"cache-control": "max-age=300"},
    )


@hookimpl
def register_routes() -> list:
    return [(r"^/-/map/events\.json$", clusters), (r"^/-/map/server-map\.js$", script)]


def _filtered(request: Any) -> bool:
    return any(not key.startswith("_") or key in ("_search", "_where") for key in request.args)


@hookimpl
def extra_body_script(database: str, table: str, view_name: str, request: Any, datasette: Any) -> Any:
    if (view_name, database, table) != ("table", DATABASE, TABLE) or request is None or _filtered(request):
        return None

    async def inner() -> str:
        db = datasette.get_database(DATABASE)
        if not await db.table_exists("map_cells"):
            return ""
        events = (await db.execute(TOTAL)).first()["events"] or 0
        config = datasette.plugin_config("server-map") or {}
        if events <= config.get("min_events", MIN_EVENTS) and request.args.get("_map") != "server":
            return ""
        settings = {
            "url": datasette.urls.path("/-/map/events.json"),
            "points_zoom": POINTS_ZOOM,
        }
        # datasette-cluster-map looks for its latitude column when the page
        # has loaded; this listener, added first, leaves it none to find.
        return (
            f"window.SERVER_MAP = {json.dumps(settings)};\n"
            'document.addEventListener("DOMContentLoaded", () => { window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = ""; });\n'
            f"import({json.dumps(datasette.urls.path('/-/map/server-map.js'))});"
        )

    return inner
