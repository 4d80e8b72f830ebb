"""The event list's map at scale: H3 cells counted by the build and served as
JSON. Expected values come from SQL against the same real database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import h3
import pytest
from datasette.app import Datasette

from loader.build.map_cells import RESOLUTIONS
from tests.support.generated import generated_db
from tests.support.site import in_process_site

WORLD = "-180,-90,180,90"


@pytest.fixture(scope="module")
def mapped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_db(tmp_path_factory.mktemp("map"), 400)


@pytest.fixture(scope="module")
def ds(mapped_db: Path) -> Datasette:
    return in_process_site(mapped_db)


def get(ds: Datasette, path: str) -> dict:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:300]
    return response.json()


def scalar(db: Path, sql: str, params: tuple = ()) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def test_cluster_counts_add_up_to_the_events_on_the_map(ds: Datasette, mapped_db: Path) -> None:
    on_map = scalar(mapped_db, "select count(*) from event_list where latitude is not null")
    assert on_map > 400
    assert get(ds, "/-/map/events.json")["events"] == on_map
    for zoom in range(10):
        markers = get(ds, f"/-/map/events.json?zoom={zoom}&bbox={WORLD}")["markers"]
        assert sum(m["events"] for m in markers) == on_map, zoom


def test_cells_are_h3_cells_of_the_events_places(mapped_db: Path) -> None:
    conn = sqlite3.connect(mapped_db)
    places = conn.execute(
        "select p.latitude, p.longitude, count(*) from events e join places p on p.id = e.place_id "
        "where p.latitude is not null group by p.id"
    ).fetchall()
    for resolution in RESOLUTIONS:
        expected: dict[str, int] = {}
        for latitude, longitude, events in places:
            cell = h3.latlng_to_cell(latitude, longitude, resolution)
            expected[cell] = expected.get(cell, 0) + events
        stored = dict(conn.execute("select cell, events from map_cells where resolution = ?", [resolution]))
        assert stored == expected, resolution
    conn.close()


def test_a_view_shows_only_what_lies_in_it(ds: Datasette, mapped_db: Path) -> None:
    box = "36.0,33.0,37.0,34.5"
    markers = get(ds, f"/-/map/events.json?zoom=9&bbox={box}")["markers"]
    expected = scalar(
        mapped_db,
        "select count(*) from event_list where latitude between 33.0 and 34.5 and longitude between 36.0 and 37.0",
    )
    assert sum(m["events"] for m in markers) == expected
    assert all(33.0 <= m["latitude"] <= 34.5 and 36.0 <= m["longitude"] <= 37.0 for m in markers)


def test_a_place_gives_its_newest_events(ds: Datasette, mapped_db: Path) -> None:
    place = scalar(mapped_db, "select place_id from events group by place_id order by count(*) desc limit 1")
    data = get(ds, f"/-/map/events.json?place={place}")
    assert data["events"] == scalar(mapped_db, "select count(*) from events where place_id = ?", (place,))
    newest = scalar(mapped_db, "select id from events where place_id = ? order by start_date desc, id desc", (place,))
    assert data["popups"][0]["link"] == f"/events/events/{newest}"


def test_bad_requests_are_refused(ds: Datasette) -> None:
    response = asyncio.run(ds.client.get("/-/map/events.json?zoom=x&bbox=1,2"))
    assert response.status_code == 404


@pytest.mark.parametrize("view", ["", f"&zoom=3&bbox={WORLD}", f"&zoom=12&bbox={WORLD}", "&place={place}"])
def test_a_filter_the_data_cannot_answer_is_refused_as_the_table_page_refuses_it(
    ds: Datasette, mapped_db: Path, view: str
) -> None:
    """Issue 23: "array contains" on a column of plain text fails in SQLite
    ("malformed JSON"); the table page answers 400, and the map answered 500."""
    view = view.format(place=scalar(mapped_db, "select place_id from events where place_id is not null limit 1"))
    table = asyncio.run(ds.client.get("/events/event_list?place_id__arraycontains=x"))
    response = asyncio.run(ds.client.get(f"/-/map/events.json?place_id__arraycontains=x{view}"))
    assert (table.status_code, response.status_code) == (400, 400), response.text[:300]
    assert "malformed JSON" in response.json()["error"]


def test_the_event_list_switches_map_by_size(ds: Datasette) -> None:
    """400 events are fewer than the default threshold: datasette-cluster-map draws them,
    unless ?_map=server asks for the server's clusters; a _where clause keeps datasette-cluster-map.
    The map's script is the plugin package's static file, served as any plugin's."""
    script = "/-/static-plugins/event-store/server_map.js"
    assert script not in asyncio.run(ds.client.get("/events/event_list")).text
    assert script in asyncio.run(ds.client.get("/events/event_list?_map=server")).text
    assert script in asyncio.run(ds.client.get("/events/event_list?_map=server&status=reported")).text
    assert script not in asyncio.run(ds.client.get("/events/event_list?_map=server&_where=1")).text
    served = asyncio.run(ds.client.get(script))
    assert served.status_code == 200 and "window.SERVER_MAP" in served.text


@pytest.mark.parametrize(
    "query, where",
    [
        ("event_type=acled-armed-clash", "event_type = 'acled-armed-clash'"),
        ("status=reported&date_precision=day", "status = 'reported' and date_precision = 'day'"),
        ("_search=Kafr", "rowid in (select rowid from events_fts where events_fts match 'Kafr')"),
    ],
)
def test_a_filtered_page_maps_its_own_events(ds: Datasette, mapped_db: Path, query: str, where: str) -> None:
    on_map = scalar(mapped_db, f"select count(*) from event_list where latitude is not null and {where}")
    assert on_map > 0
    assert get(ds, f"/-/map/events.json?{query}")["events"] == on_map
    for zoom in (0, 5, 8, 9):
        markers = get(ds, f"/-/map/events.json?{query}&zoom={zoom}&bbox={WORLD}")["markers"]
        assert sum(m["events"] for m in markers) == on_map, zoom
    place = scalar(
        mapped_db, f"select place_id from event_list where {where} group by place_id order by count(*) desc limit 1"
    )
    data = get(ds, f"/-/map/events.json?{query}&place={place}")
    assert data["events"] == scalar(
        mapped_db, f"select count(*) from event_list where place_id = ? and {where}", (place,)
    )
