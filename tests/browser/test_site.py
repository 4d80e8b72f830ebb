"""What a visitor does, in a real Chromium against the real `serve`: look at
the map, facet, search an alias, run a canned query, download CSV, read the
timeline and an event's page. Expected values come from SQL on the served file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from loader.citation import metadata_permalink
from loader.site.worker import SETTINGS, site_options
from tests.conftest import published_sources
from tests.support.git import git, new_repository
from tests.support.site_helpers import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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

    def record(response) -> None:
        if "/-/tiles/" in response.url:
            tiles.append((response.url, response.status, response.headers.get("content-type")))

    page.on("response", record)
    page.goto(f"{site}/events/event_list")
    page.wait_for_selector(".leaflet-marker-icon")
    page.wait_for_load_state("networkidle")
    expected = sql("select count(*) from events e join places p on p.id = e.place_id where p.latitude is not null")[0][
        0
    ]

    def shown() -> int:
        # Markers at the same or nearby places are clustered; a cluster shows how many it holds.
        single = page.locator(".leaflet-marker-icon:not(.marker-cluster)").count()
        return single + sum(int(n) for n in page.locator(".marker-cluster span").all_inner_texts())

    # The map adds its markers page by page and clusters them after a short delay.
    for _ in range(50):
        if shown() == expected:
            break
        page.wait_for_timeout(200)
    assert shown() == expected
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


def search_events(page, site: str, words: str) -> set[str]:
    """Type into the events page's search box as a reader does; the events listed."""
    page.goto(f"{site}/events/event_list")
    page.fill('input[name="_search"]', words)
    page.locator('input[name="_search"]').press("Enter")
    page.wait_for_load_state("domcontentloaded")
    links = page.locator("table.rows-and-columns tbody td.col-title a")
    return {href.rsplit("/", 1)[-1] for href in links.evaluate_all("a => a.map(x => x.getAttribute('href'))")}


def test_every_spelling_of_an_actor_finds_the_same_events(page, site: str, sql) -> None:
    found = {spelling: search_events(page, site, spelling) for spelling in ("Shibani", "Shaibani", "الشيباني")}
    involving = {e for (e,) in sql("select event_id from event_actors where actor_id = 'asaad-al-shaibani'")}
    assert involving and found["Shibani"] == found["Shaibani"] == found["الشيباني"]
    assert involving <= found["Shibani"]
    assert search_events(page, site, "Julani") == {
        e for (e,) in sql("select event_id from event_actors where actor_id = 'ahmed-al-sharaa'")
    } | {e for (e,) in sql("select id from events where title || summary like '%Sharaa%'")}


def test_a_title_click_opens_the_event_page(page, site: str, sql) -> None:
    page.goto(f"{site}/events/event_list")
    # The map's list of events it cannot place comes after the load, between the
    # map and the table, and moves the table down: a click as it comes was lost.
    page.wait_for_load_state("networkidle")
    first = page.locator("table.rows-and-columns tbody tr").first
    title = first.locator("td.col-title").inner_text()
    first.locator("td.col-title a").click()
    page.wait_for_url("**/events/events/*")
    event = page.url.rsplit("/", 1)[-1]
    assert sql("select title from events where id = ?", (event,)) == [(title,)]
    assert page.locator("h1").inner_text() == title


def test_facet_labels_and_cells_are_names(page, site: str, sql) -> None:
    page.goto(f"{site}/events/event_list?_facet_size=max")
    actors = page.locator('.facet-info[data-column="actor_names"] li a').all_inner_texts()
    names = {n for (n,) in sql("select distinct a.name from actors a join event_actors ea on ea.actor_id = a.id")}
    assert set(actors) == names
    types = page.locator('.facet-info[data-column="event_type"] li a').all_inner_texts()
    assert set(types) == {
        t for (t,) in sql("select distinct t.label from events e join event_types t on t.code = e.event_type")
    }
    page.locator('.facet-info[data-column="actor_names"] li a', has_text="Asaad al-Shaibani").click()
    page.wait_for_url("**actor_names__arraycontains=**")
    cells = page.locator("table.rows-and-columns tbody td.col-actor_names")
    expected = sql("select count(*) from event_actors where actor_id = 'asaad-al-shaibani'")[0][0]
    assert cells.count() == expected
    for text in cells.all_inner_texts():
        assert "Asaad al-Shaibani" in text and "asaad-al-shaibani" not in text
    places = page.locator("table.rows-and-columns tbody td.col-place_name a").all_inner_texts()
    assert set(places) <= {n for (n,) in sql("select name from places")}


READER_PAGES = [
    "/events/event_list",
    "/events/place_list",
    "/events/actors",
    "/events/documents",
    "/events/claims",
    "/events/events",
    "/events/event_participants",
    "/events/actor_pairs",
    "/events/event_evidence",
    "/events/disputed_claims",
    "/events/timeline?from_date=&to_date=",
    "/events/who_met_whom?actor=",
    "/events/events_at_place?place=Syria",
    "/events/search?q=Sweida",
]


@pytest.mark.parametrize("path", READER_PAGES)
def test_no_cell_of_a_reader_page_renders_json(page, site: str, path: str) -> None:
    page.goto(f"{site}{path}")
    cells = page.locator("table.rows-and-columns tbody td").all_inner_texts()
    assert cells
    for text in cells:
        text = text.strip()
        if text[:1] in ("[", "{"):
            with pytest.raises(ValueError):
                json.loads(text)
                pytest.fail(f"{path}: a cell shows JSON: {text[:80]}")


# A second commit of the published fixture that changes nested values of the
# Paris event: an actor item changed and one removed, a document's supports
# list, a claim's stance, a new list of event ids; and a place's aliases.
HISTORY_EVENT = "2025-08-19-paris-shaibani-dermer"
HISTORY_EDITS = {
    "events/paris.yml": [
        (
            '{actor_id: tom-barrack, role: mediator, document_id: newarab-paris-meeting, paragraphs: ["3:deafda2e"]}',
            "{actor_id: tom-barrack, role: mediator, document_id: cradle-paris-confirmation, "
            'paragraphs: ["3:0ca8d0d5"], note: The US envoy}',
        ),
        (
            '      - {actor_id: ron-dermer, role: participant, document_id: newarab-paris-meeting, paragraphs: ["2:9ae4d6bf"]}\n',
            "",
        ),
        ("supports: [occurrence, actors], paragraphs", "supports: [occurrence, date, actors], paragraphs"),
        ("stance: qualifies", "stance: disputes"),
        ("    status: disputed\n", "    status: disputed\n    distinct_from: [2025-07-strikes-on-damascus]\n"),
    ],
    "places.yml": [
        ("aliases: [{name: باريس, lang: ar}]", "aliases: [{name: باريس, lang: ar}, {name: Lutetia, lang: la}]")
    ],
}


@pytest.fixture(scope="module")
def history_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The published fixture in a git checkout with HISTORY_EDITS committed on top, served; and its database."""
    directory = tmp_path_factory.mktemp("history-site")
    sources = published_sources(directory / "sources")
    new_repository(sources, "First records", date="2026-01-05T10:00:00+00:00")
    for name, edits in HISTORY_EDITS.items():
        text = (sources / name).read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, (name, old)
            text = text.replace(old, new)
        (sources / name).write_text(text, encoding="utf-8")
    git(sources, "commit", "-q", "-am", "Nested changes", date="2026-01-06T10:00:00+00:00")
    db = directory / "events.db"
    with serving(sources, db) as base:
        yield base, db


def test_no_history_cell_renders_json_or_ids(page, history_site: tuple[str, Path]) -> None:
    site, db = history_site
    page.goto(f"{site}/events/events/{HISTORY_EVENT}")
    history = page.locator("table.record-history")
    assert "Nested changes" in history.inner_text()
    texts = history.locator("td").all_inner_texts() + history.locator("li").all_inner_texts()
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            # Neither JSON nor Python's rendering of a list or a dict: no line opens with a bracket.
            assert line[:1] not in ("[", "{"), f"a history cell shows raw data: {line[:80]}"
            assert not any(mark in line for mark in ("{'", "['", '{"', '["')), line[:80]
    shown = history.inner_text()
    with sqlite3.connect(db) as conn:
        names = dict(conn.execute("select id, name from actors union all select id, title from events"))
        (document,) = conn.execute("select title from documents where id = 'cradle-paris-confirmation'").fetchone()
    # Names, not ids: the actors changed and removed, the document now cited for an actor, the look-alike event.
    for key in ("tom-barrack", "ron-dermer", "2025-07-strikes-on-damascus"):
        assert names[key] in shown and key not in shown, key
    assert document in shown and "cradle-paris-confirmation" not in shown
    assert "occurrence, date, actors" in shown and "qualifies → disputes" in shown


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize(
    "path",
    ["/events/event_list", "/events/place_list", "/events/events/2025-08-19-paris-shaibani-dermer", "/-/overview"],
)
def test_reader_pages_have_no_horizontal_scroll(browser, site: str, path: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{site}{path}")
    page.wait_for_load_state("networkidle")
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    context.close()
    assert scroll <= client, f"{scroll} px wide in a {client} px window"


def test_every_page_shows_the_version_and_the_event_page_a_citation(page, site: str, sql) -> None:
    (version, sources_date) = sql("select version, sources_date from dataset_release")[0]
    for path in ("/", "/events/event_list", "/-/timeline", "/-/overview"):
        page.goto(f"{site}{path}")
        footer = page.locator("footer .dataset-version").inner_text()
        assert version in footer and sources_date in footer, path
    event = "2025-08-19-paris-shaibani-dermer"
    page.goto(f"{site}/events/events/{event}")
    # Cited at the permalink base metadata.yml sets, not at the address this server answers on.
    url = f"{metadata_permalink(site_options()['metadata'])}/events/events/{event}"
    for kind in ("text", "bibtex"):
        citation = page.locator(f"pre.citation-{kind}").inner_text()
        assert version in citation and url in citation, kind
    bibtex = page.locator("pre.citation-bibtex").inner_text()
    assert bibtex.startswith("@misc{") and bibtex.count("{") == bibtex.count("}")


def test_overview_charts_count_what_sql_counts_and_link_to_the_events(page, site: str, sql) -> None:
    page.goto(f"{site}/-/overview")
    bars = page.locator("svg.total rect.bar").evaluate_all("r => r.map(x => [x.dataset.month, +x.dataset.count])")
    expected = dict(
        sql("select substr(start_date, 1, 7), count(*) from events where date_precision <> 'year' group by 1")
    )
    assert {m: c for m, c in bars if c} == expected
    for chart in ("type", "actor", "place"):
        assert page.locator(f"svg.grid-{chart} rect.cell:not(.empty)").count() > 0
    square = page.locator('svg.grid-place rect.cell[data-name="Paris"]').first
    month, count = square.get_attribute("data-month"), int(square.get_attribute("data-count"))
    page.locator('svg.grid-place a:has(rect[data-name="Paris"])').first.click()
    page.wait_for_url("**/events/event_list?**")
    assert page.locator("table.rows-and-columns tbody tr").count() == count
    assert (
        count
        == sql("select count(*) from events where place_id = 'paris' and substr(start_date, 1, 7) = ?", (month,))[0][0]
    )
    hosts = {urlparse(url).netloc for url in page.requests}
    assert hosts == {urlparse(site).netloc}, hosts


def test_calendar_feed_from_the_served_site_parses_as_icalendar(site: str, sql) -> None:
    import icalendar

    with urllib.request.urlopen(f"{site}/events/calendar.ics") as response:
        assert response.headers["content-type"].startswith("text/calendar")
        feed = icalendar.Calendar.from_ical(response.read())
    entries: list[Any] = list(feed.walk("VEVENT"))  # Any: each property is typed as a union of value types
    assert len(entries) == sql("select count(*) from events")[0][0]
    for entry in entries:
        assert entry["DTSTAMP"] and entry["DTSTART"].params["VALUE"] == "DATE"
        # Linked at the permalink base metadata.yml sets, as the citations are.
        assert str(entry["URL"]).startswith(f"{metadata_permalink(site_options()['metadata'])}/events/events/")


def test_geojson_from_the_served_site_is_valid(site: str, sql) -> None:
    import geojson

    with urllib.request.urlopen(f"{site}/events/event_list.geojson?_size=max") as response:
        collection = geojson.loads(response.read().decode("utf-8"))
    assert collection.is_valid
    assert len(collection["features"]) == sql("select count(*) from events")[0][0]
    assert all(
        {"title", "start_date", "end_date", "type", "url"} <= set(f["properties"]) for f in collection["features"]
    )


def test_a_second_event_page_has_no_serious_or_critical_accessibility_violations(page, site: str, axe) -> None:
    """The crawl (test_reader_pages.py) checks one page of each kind, the first
    it meets; an event page shows some of its parts (relations, disputes,
    history) only when its event has them, so a second event's is checked."""
    from tests.support.site_helpers import axe_violations

    page.goto(f"{site}/events/events/2025-08-19-paris-shaibani-dermer")
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == []
