"""The map of many events in a real Chromium against the real `serve`: the
first view is drawn from the server's clusters, whose counts add up to the
events on the map; clicking clusters zooms in to the places, and a place's
marker opens a popup with its events. Expected values come from SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.generated import generated_db
from tests.support.site_helpers import serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("server-map")
    db = generated_db(directory, 300)
    with serving(directory / "sources", db) as base:
        yield base, db


def test_zoom_from_clusters_to_a_marker_and_its_popup(page, mapped: tuple[str, Path]) -> None:
    base, db = mapped
    conn = sqlite3.connect(db)
    on_map = conn.execute("select count(*) from event_list where latitude is not null").fetchone()[0]
    page.goto(f"{base}/events/event_list?_map=server")
    page.wait_for_selector("#server-map[data-first-draw-ms]")
    drawn = page.locator("#server-map")
    assert drawn.get_attribute("data-kind") == "cells"
    assert int(drawn.get_attribute("data-events")) == on_map
    assert page.locator(".server-map-cluster").count() == int(drawn.get_attribute("data-markers"))
    # datasette-cluster-map stood aside: no page of rows was fetched for markers.
    assert not any("_extra=next_url" in url for url in page.requests)
    for _ in range(6):
        if drawn.get_attribute("data-kind") == "places":
            break
        zoom = drawn.get_attribute("data-zoom")
        page.locator(".server-map-cluster").first.dispatch_event("click")
        page.wait_for_function(
            "zoom => document.querySelector('#server-map').dataset.zoom !== zoom", arg=zoom, timeout=30_000
        )
    assert drawn.get_attribute("data-kind") == "places"
    marker = page.locator("#server-map .leaflet-marker-icon").first
    marker.dispatch_event("click")
    link = page.locator(".server-map-popup a").first
    link.wait_for()
    event_id = link.get_attribute("href").rsplit("/", 1)[1]
    title = conn.execute("select title from events where id = ?", [event_id]).fetchone()[0]
    assert title in page.inner_text(".server-map-popup")
    conn.close()
    # The map redrawn with the place still in view (opening the popup may pan
    # it, and the reader may): the popup stays open. Leaflet pans by 80 px a
    # key; towards the marker's side, the marker comes nearer the middle.
    bbox = drawn.get_attribute("data-bbox")
    at, box = marker.bounding_box(), drawn.bounding_box()
    assert at and box
    drawn.focus()
    page.keyboard.press("ArrowLeft" if at["x"] < box["x"] + box["width"] / 2 else "ArrowRight")
    page.wait_for_function("bbox => document.querySelector('#server-map').dataset.bbox !== bbox", arg=bbox)
    assert title in page.inner_text(".server-map-popup", timeout=1_000)
