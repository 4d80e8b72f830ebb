"""Cluster the events' places into H3 cells once per build, for the map.

datasette-cluster-map fetches every marker, a thousand rows a request, and
clusters them in the browser: fine for the curated events, hopeless for a
million. Every event is drawn at its place's point, so clustering the
places, each weighted by its number of events, is clustering the events.
Uber's H3 library (hexagonal cells in a hierarchy of resolutions) does the
clustering; this module only sums each cell's events and places into
schema.sql's map_cells, for every resolution the map uses.
"""

from __future__ import annotations

from collections import defaultdict

import h3
import sqlite_utils

RESOLUTIONS = range(6)  # 0 (about 1,100 km across) to 5 (about 17 km)

PLACES = """
SELECT p.id, p.latitude, p.longitude, count(*)
FROM events AS e JOIN places AS p ON p.id = e.place_id
WHERE p.latitude IS NOT NULL
GROUP BY p.id
ORDER BY p.id
"""


def cells(places: list[tuple[str, float, float, int]], resolution: int) -> list[dict]:
    """The H3 cells of one resolution that hold the places (id, latitude,
    longitude, events), each with its events, places and events-weighted centre."""
    sums: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, []])
    for place_id, latitude, longitude, events in places:
        cell = sums[h3.latlng_to_cell(latitude, longitude, resolution)]
        cell[0] += latitude * events
        cell[1] += longitude * events
        cell[2] += events
        cell[3].append(place_id)
    return [
        {
            "resolution": resolution,
            "cell": index,
            "latitude": lat_sum / events,
            "longitude": lon_sum / events,
            "events": events,
            "places": len(ids),
            "place_id": ids[0] if len(ids) == 1 else None,
        }
        for index, (lat_sum, lon_sum, events, ids) in sorted(sums.items())
    ]


def cluster_places(db: sqlite_utils.Database) -> int:
    """Fill map_cells from the events' places; return the number of cells written."""
    places = db.execute(PLACES).fetchall()
    rows = [row for resolution in RESOLUTIONS for row in cells(places, resolution)]
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO map_cells (resolution, cell, latitude, longitude, events, places, place_id) "
            "VALUES (:resolution, :cell, :latitude, :longitude, :events, :places, :place_id)",
            rows,
        )
    return len(rows)
