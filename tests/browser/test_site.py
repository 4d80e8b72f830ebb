"""What a visitor does, in a real Chromium against the real `serve`: look at
the map, facet, search an alias, run a canned query, download CSV, read the
timeline and an event's page. Expected values come from SQL on the served file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from loader.serve import SETTINGS


@pytest.fixture(scope="module")
def sql(published_db: Path):
    conn = sqlite3.connect(published_db)
    yield lambda query, params=(): conn.execute(query, params).fetchall()
    conn.close()


def test_serve_applies_the_settings(site: str) -> None:
    with urllib.request.urlopen(f"{site}/-/settings.json") as response:
        served = json.load(response)
    assert {name: served[name] for name in SETTINGS} == SETTINGS


def test_map_shows_every_geolocated_event_on_local_tiles(page, site: str, sql) -> None:
    tiles = []
    page.on(
        "response", lambda r: "/-/tiles/" in r.url and tiles.append((r.url, r.status, r.headers.get("content-type")))
    )
    page.goto(f"{site}/events/event_list")
    page.wait_for_selector(".leaflet-marker-icon")
    page.wait_for_load_state("networkidle")
    # Markers at the same or nearby places are clustered; a cluster shows how many it holds.
    single = page.locator(".leaflet-marker-icon:not(.marker-cluster)").count()
    clustered = sum(int(n) for n in page.locator(".marker-cluster span").all_inner_texts())
    expected = sql("select count(*) from events e join places p on p.id = e.place_id where p.latitude is not null")[0][
        0
    ]
    assert single + clustered == expected
    assert tiles and all(status == 200 and kind == "image/png" for _, status, kind in tiles)
    hosts = {urlparse(url).netloc for url in page.requests}
    assert hosts == {urlparse(site).netloc}, hosts
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()


def test_map_popup_links_to_the_event(page, site: str, sql) -> None:
    page.goto(f"{site}/events/event_list?place_id=paris")
    page.locator(".leaflet-marker-icon").first.click()
    popup = page.locator(".leaflet-popup-content")
    title = sql("select title from events where place_id = 'paris'")[0][0]
    assert title in popup.inner_text()
    popup.locator("a").click()
    page.wait_for_url("**/events/events/*")
    assert page.locator("h1").inner_text() == title


def test_clicking_a_facet_filters_the_table(page, site: str, sql) -> None:
    page.goto(f"{site}/events/event_list")
    facet = page.locator('.facet-info[data-column="status"] li', has_text="disputed")
    shown = int(facet.inner_text().split()[-1].replace(",", ""))
    facet.locator("a").click()
    page.wait_for_url("**status=disputed**")
    expected = sql("select count(*) from events where status = 'disputed'")[0][0]
    assert shown == expected
    assert page.locator("table.rows-and-columns tbody tr").count() == expected
    assert page.locator("h3").first.inner_text().startswith(f"{expected} row")


@pytest.mark.parametrize(
    "path, alias, expected",
    [
        ("/events/actors", "Julani", "ahmed-al-sharaa"),
        ("/events/actors", "Shibani", "asaad-al-shaibani"),
        ("/events/place_list", "Suwayda", "sweida"),
    ],
)
def test_searching_an_alias_finds_its_row(page, site: str, path: str, alias: str, expected: str) -> None:
    page.goto(f"{site}{path}")
    page.fill('input[name="_search"]', alias)
    page.locator('input[name="_search"]').press("Enter")
    page.wait_for_url(f"**_search={alias}**")
    links = page.locator("table.rows-and-columns tbody td.col-name a")
    assert [href.rstrip("/").rsplit("/", 1)[-1] for href in links.evaluate_all("a => a.map(x => x.href)")] == [expected]


def test_a_canned_query_runs_with_a_parameter(page, site: str, sql) -> None:
    page.goto(f"{site}/events/actor_events")
    page.fill('input[name="actor"]', "Shibani")
    page.locator('form.sql input[type="submit"]').click()
    page.wait_for_url("**actor=Shibani**")
    events = page.locator("table.rows-and-columns tbody td.col-event_id").all_inner_texts()
    expected = sql("select event_id from event_actors where actor_id = 'asaad-al-shaibani'")
    assert sorted(e.strip() for e in events) == sorted(e for (e,) in expected)


def test_csv_download_parses_with_the_right_rows(page, site: str, sql) -> None:
    page.goto(f"{site}/events/event_list?status=disputed")
    page.check('.advanced-export input[name="_dl"]')
    with page.expect_download() as info:
        page.locator('.advanced-export input[value="Export CSV"]').click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = sql("select id, title from events where status = 'disputed'")
    assert sorted((r["id"], r["title"]) for r in rows) == sorted(expected)


def test_timeline_renders_events_in_order_with_a_chart(page, site: str, sql) -> None:
    page.goto(f"{site}/-/timeline")
    ids = page.locator("table.timeline tr.event").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert ids == [e for (e,) in sql("select id from events order by start_date, end_date, id")]
    bars = page.locator("svg.timeline-chart rect.month")
    assert bars.count() > 0 and bars.first.bounding_box()["height"] > 0
    labels = page.locator("table.timeline td.date").all_inner_texts()
    assert any(label.startswith("July 2025") for label in labels)
    page.locator("table.timeline a", has_text="Clashes and strikes in Sweida").click()
    page.wait_for_url("**/events/events/2025-07-sweida-clashes")


def test_event_page_shows_actors_documents_and_claims(page, site: str, sql) -> None:
    event = "2025-08-19-paris-shaibani-dermer"
    page.goto(f"{site}/events/events/{event}")
    actors = page.locator("table.participants tr td:first-child").all_inner_texts()
    expected = sql(
        "select a.name from event_actors ea join actors a on a.id = ea.actor_id where ea.event_id = ?", (event,)
    )
    assert sorted(actors) == sorted(n for (n,) in expected)
    claims = page.locator("table.claims tr td:first-child").all_inner_texts()
    assert sorted(claims) == sorted(s for (s,) in sql("select statement from claims where event_id = ?", (event,)))
    assert page.locator("table.documents tr td").count() > 0
