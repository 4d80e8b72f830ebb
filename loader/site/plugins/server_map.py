"""The event list's map at any size: clusters counted on the server.

datasette-cluster-map draws the curated events well, but it fetches every
marker, a thousand rows a request, and clusters them in the browser, which
cannot cope with hundreds of thousands. The build clusters the events'
places into H3 cells (loader/build/map_cells.py, schema.sql's map_cells); this
plugin serves them as JSON, a resolution chosen by the map's zoom, and at
the closest zooms the places themselves, each with its events' popups on
click. A filtered or searched event list page gets the same map of its own
events, counted by place per request from the filter's index and clustered
with the same H3 cells. When the event list holds more than `min_events`
events (plugin setting `server-map`, default 10,000), its pages draw this
map in place of datasette-cluster-map's (`?_map=server` asks for it at any
size); smaller datasets, and pages with a `_where` clause, keep
datasette-cluster-map. Leaflet comes from datasette-leaflet and the tiles
from the site itself, so it works with no internet. datasette-geojson-map
and datasette-leaflet-geojson, like datasette-cluster-map, draw every row
they are given in the browser, so none of them fits at this size.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from datasette import hookimpl
from datasette.database import Results
from datasette.filters import Filters
from datasette.utils import escape_fts
from datasette.utils.asgi import BadRequest, NotFound, Response

from loader import DATABASE_NAME as DATABASE
from loader.build.map_cells import RESOLUTIONS, cells
from loader.site.downloads import event_path

TABLE = "event_list"
MIN_EVENTS = 10_000
# The map's script: this package's static/server_map.js, served by Datasette
# at /-/static-plugins/event-store/ as any installed plugin's static files.
PACKAGE, SCRIPT = "event-store", "server_map.js"
# Zoom at and past which the map shows places rather than cells; below it a
# cell of resolution zoom - 3 (zoom 6 shows a country in cells some 120 km across).
POINTS_ZOOM = 9
MAX_RESOLUTION = max(RESOLUTIONS)
POPUPS = 10  # newest events listed in a place's popup
# datasette-leaflet's files, which datasette-cluster-map loads too.
LEAFLET_JS, LEAFLET_CSS = "leaflet-v1.7.1.js", "leaflet-v1.7.1.css"
OWN_ARGS = {"zoom", "bbox", "place"}  # this endpoint's own; every other argument is the page's

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
PLACE = """
select id, popup from event_list where place_id = :place and {where}
order by start_date desc, id desc limit {limit}
"""
PLACE_COUNT = "select count(*) from event_list where place_id = :place and {where}"
# A filtered page's events counted by place, per request: SQLite reads only
# the index of the filter's column (the view's lookups go unused), so this
# stays small however many events match.
FILTERED_PLACES = """
select p.id as place_id, p.name, p.latitude, p.longitude, c.events
from (select place_id, count(*) as events from event_list where {where} group by place_id) as c
join places as p on p.id = c.place_id
where p.latitude is not null
"""


def page_where(request: Any) -> tuple[str, dict]:
    """The WHERE clause of the event list page the map is drawn for, from its
    query string: column filters as Datasette's own Filters read them, and
    _search over the view's full-text index."""
    args = request.args
    pairs = [
        (key, value)
        for key in args.keys()
        if key not in OWN_ARGS and (not key.startswith("_") or "__" in key)
        for value in args.getlist(key)
    ]
    clauses, params = Filters(sorted(pairs)).build_where_clauses(TABLE)
    if args.get("_search"):
        clauses.append("rowid in (select rowid from events_fts where events_fts match :search)")
        params["search"] = escape_fts(args["_search"])
    return " and ".join(clauses) or "1", params


async def narrowed(db: Any, sql: str, where: str, params: dict) -> Results:
    """The rows of sql with the page's WHERE clause. Filters the data cannot
    answer (an "array contains" on a column of plain text: "malformed JSON")
    are the request's error, a 400, as Datasette's table page answers them;
    without filters an error is the site's own."""
    try:
        return await db.execute(sql.format(where=where, limit=POPUPS), params)
    except sqlite3.OperationalError as e:
        if where == "1":
            raise
        raise BadRequest(f"these filters cannot be applied here: {e}") from e


def resolution_for(zoom: int) -> int:
    return max(0, min(MAX_RESOLUTION, zoom - 3))


def _bbox(value: str) -> dict[str, float]:
    west, south, east, north = (float(part) for part in value.split(","))
    return {"west": west, "south": south, "east": east, "north": north}


async def clusters(request: Any, datasette: Any) -> Response:
    """/-/map/events.json: the whole map's count and bounds; with zoom and
    bbox=west,south,east,north the markers of that view; with place=ID that
    place's count and its newest events' popups. The event list page's own
    filters and search, given alongside, narrow all three."""
    await datasette.ensure_permissions(
        request.actor, [("view-table", (DATABASE, TABLE)), ("view-database", DATABASE), "view-instance"]
    )
    db = datasette.get_database(DATABASE)
    args = request.args
    where, params = page_where(request)
    filtered = where != "1"
    try:
        if "place" in args:
            params = {**params, "place": args["place"]}
            count = (await narrowed(db, PLACE_COUNT, where, params)).first()[0]
            rows = await narrowed(db, PLACE, where, params)
            return Response.json(
                {
                    "place_id": args["place"],
                    "events": count,
                    "popups": [json.loads(r["popup"]) | {"link": event_path(datasette, r["id"])} for r in rows],
                }
            )
        places = [dict(row) for row in await narrowed(db, FILTERED_PLACES, where, params)] if filtered else []
        if "zoom" not in args:
            if not filtered:
                return Response.json(dict((await db.execute(TOTAL)).first()))
            return Response.json(_total(places))
        zoom, box = int(args["zoom"]), _bbox(args["bbox"])
    except (KeyError, ValueError):
        raise NotFound("give zoom and bbox=west,south,east,north, or place") from None
    if zoom >= POINTS_ZOOM:
        if filtered:
            return Response.json({"kind": "places", "markers": [p for p in places if _inside(p, box)]})
        rows = await db.execute(PLACES, box)
        return Response.json({"kind": "places", "markers": [dict(row) for row in rows]})
    resolution = resolution_for(zoom)
    if filtered:
        points = [(p["place_id"], p["latitude"], p["longitude"], p["events"]) for p in places]
        markers = [c for c in cells(points, resolution) if _inside(c, box)]
    else:
        markers = [dict(row) for row in await db.execute(CELLS, {**box, "resolution": resolution})]
    return Response.json({"kind": "cells", "resolution": resolution, "markers": markers})


def _inside(marker: dict, box: dict[str, float]) -> bool:
    return box["south"] <= marker["latitude"] <= box["north"] and box["west"] <= marker["longitude"] <= box["east"]


def _total(places: list[dict]) -> dict:
    if not places:
        return {"events": 0, "south": None, "west": None, "north": None, "east": None}
    return {
        "events": sum(p["events"] for p in places),
        "south": min(p["latitude"] for p in places),
        "west": min(p["longitude"] for p in places),
        "north": max(p["latitude"] for p in places),
        "east": max(p["longitude"] for p in places),
    }


@hookimpl
def register_routes() -> list:
    return [(r"^/-/map/events\.json$", clusters)]


async def drawn_here(datasette: Any, database: str, table: str, view_name: str, request: Any) -> dict | None:
    """The whole map's count and bounds when this page draws the server's map, else None."""
    if (view_name, database, table) != ("table", DATABASE, TABLE) or request is None or "_where" in request.args:
        return None
    db = datasette.get_database(DATABASE)
    if not await db.table_exists("map_cells"):
        return None
    total = dict((await db.execute(TOTAL)).first())
    config = datasette.plugin_config("server-map") or {}
    if (total["events"] or 0) <= config.get("min_events", MIN_EVENTS) and request.args.get("_map") != "server":
        return None
    return total


def when_drawn_here(make: Callable[[Any, Any, dict], Any], otherwise: Any) -> Callable:
    """A page hook that gives make(datasette, request, total) on a page that draws
    the server's map, and `otherwise` on every other page."""

    def hook(database: str, table: str, view_name: str, request: Any, datasette: Any) -> Any:
        async def inner() -> Any:
            total = await drawn_here(datasette, database, table, view_name, request)
            return otherwise if total is None else make(datasette, request, total)

        return inner

    # tryfirst: before datasette-cluster-map's, whose script must find the
    # listener settings_script adds first, and Leaflet loaded ahead of it.
    return hookimpl(tryfirst=True)(hook)


def leaflet_and_script(datasette: Any, request: Any, total: dict) -> list:
    # Leaflet and the map's script load from the page's head, as modules, so they
    # are fetched while the page is still arriving and run as soon as it is parsed.
    return [
        {"url": datasette.urls.static_plugins("datasette-leaflet", LEAFLET_JS), "module": True},
        {"url": datasette.urls.static_plugins(PACKAGE, SCRIPT), "module": True},
    ]


def settings_script(datasette: Any, request: Any, total: dict) -> str:
    settings = {
        "url": datasette.urls.path("/-/map/events.json"),
        "points_zoom": POINTS_ZOOM,
        # The whole map's count and bounds, which an unfiltered page need not ask for.
        "total": None if page_where(request)[0] != "1" else total,
    }
    # datasette-cluster-map looks for its latitude column when the page
    # has loaded; this listener, added first, leaves it none to find.
    return (
        f"window.SERVER_MAP = {json.dumps(settings)};\n"
        'document.addEventListener("DOMContentLoaded", () => { window.DATASETTE_CLUSTER_MAP_LATITUDE_COLUMN = ""; });'
    )


extra_js_urls = when_drawn_here(leaflet_and_script, [])
extra_css_urls = when_drawn_here(
    lambda datasette, request, total: [datasette.urls.static_plugins("datasette-leaflet", LEAFLET_CSS)], []
)
extra_body_script = when_drawn_here(settings_script, "")
