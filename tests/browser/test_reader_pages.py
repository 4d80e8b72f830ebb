"""Every page a reader reaches from the home page, in Chromium at a laptop's
1366 px and a phone's 390 px: axe-core finds nothing serious or critical
(issue 27), and the About page the header links is the one the home page lists."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from tests.support.site_helpers import axe_violations

pytestmark = pytest.mark.browser

# Files, not pages: what the home page links for download or for a feed reader.
DOWNLOADS = (".db", ".csv", ".json", ".ics", ".atom", ".geojson")


@pytest.fixture(scope="module")
def sql(published_db: Path):
    conn = sqlite3.connect(published_db)
    yield lambda query, params=(): conn.execute(query, params).fetchall()
    conn.close()


def home_links(page, site: str) -> list[str]:
    """The site's own pages the home page links, each once, in its order."""
    page.goto(f"{site}/")
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    paths: list[str] = ["/"]
    for href in hrefs:
        url = urlparse(urljoin(f"{site}/", href))
        path = url.path + (f"?{url.query}" if url.query else "")
        if url.netloc == urlparse(site).netloc and not url.path.endswith(DOWNLOADS) and path not in paths:
            paths.append(path)
    return paths


@pytest.mark.parametrize("width", [1366, 390])
def test_no_serious_or_critical_findings_on_any_page_the_home_page_links(browser, site: str, axe, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    paths = home_links(page, site)
    assert "/-/about" in paths and "/events/disputes_by_question" in paths
    found = {}
    for path in paths:
        page.goto(f"{site}{path}")
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    context.close()
    assert found == {}


def test_the_header_about_link_opens_the_about_page(page, site: str) -> None:
    page.goto(f"{site}/events/event_list")
    page.get_by_role("link", name="About this site").first.click()
    page.wait_for_url("**/-/about")
    assert page.locator("main h1").inner_text() == "About this site"


def test_format_sql_is_a_visible_button(page, site: str) -> None:
    page.goto(f"{site}/events")
    page.wait_for_load_state("networkidle")
    button = page.locator("button#sql-format")
    assert button.is_visible()
    colour, background = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colour != background and colour == "rgb(255, 255, 255)"


@pytest.mark.parametrize("path", ["/-/timeline", "/-/timeline?month=2025-08", "/-/overview"])
def test_timeline_and_overview_fit_a_phone_with_readable_charts(browser, site: str, path: str) -> None:
    """At 390 px the timeline was 612 px wide and the overview's text about 5 px tall (issue 27)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{site}{path}")
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    sizes = page.locator("svg text").evaluate_all("ts => ts.map(t => t.getBoundingClientRect().height)")
    form = page.locator("form.timeline-form input").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect()).map(r => [r.left, r.right])"
    )
    context.close()
    assert scroll <= client, f"{scroll} px wide in a {client} px window"
    assert sizes and min(sizes) >= 9, f"chart text {min(sizes):.1f} px tall"
    assert all(0 <= left and right <= client for left, right in form), form


def test_a_mistyped_date_says_so_on_the_timeline(page, site: str) -> None:
    page.goto(f"{site}/-/timeline")
    page.get_by_label("From").fill("2025-13-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert "“2025-13-01” is not a date" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("From").input_value() == "2025-13-01"


def test_event_list_map_zooms_by_steps_names_its_markers_and_lists_the_unplaced(page, site: str, sql) -> None:
    """A cluster click jumped to zoom 10 over zoom-6 tiles, markers had no name,
    and the events with no place were silently absent (issue 27)."""
    page.goto(f"{site}/events/event_list")
    page.wait_for_selector(".marker-cluster")
    page.wait_for_load_state("networkidle")
    container = page.locator(".leaflet-container")
    page.wait_for_function("() => document.querySelector('.leaflet-container').dataset.zoom !== undefined")
    zooms = [int(container.get_attribute("data-zoom"))]
    for _ in range(6):
        clusters = page.locator(".marker-cluster")
        if not clusters.count():
            break
        clusters.first.click()
        page.wait_for_timeout(700)
        zooms.append(int(container.get_attribute("data-zoom")))
    assert all(0 <= b - a <= 2 for a, b in zip(zooms, zooms[1:], strict=False)), zooms
    assert max(zooms) <= 6, zooms  # metadata.yml's maxNativeZoom
    assert page.locator(".map-zoom-note").inner_text() == ""
    names = page.locator("img.leaflet-marker-icon").evaluate_all("ims => ims.map(i => i.alt)")
    titles = {t for (t,) in sql("select title from events")}
    assert names and all(n in titles for n in names), names
    assert all(
        label.endswith("events here: zoom in")
        for label in page.locator(".marker-cluster").evaluate_all("cs => cs.map(c => c.getAttribute('aria-label'))")
    )
    unplaced = page.locator("section.unplaced-events li a").all_inner_texts()
    expected = sql("select title from event_list where latitude is null")
    assert sorted(unplaced) == sorted(t for (t,) in expected) and unplaced
    # Zoomed past the tiles by hand, the page says so.
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_timeout(500)
    if int(container.get_attribute("data-zoom")) > 6:
        assert "past the map's detail" in page.locator(".map-zoom-note").inner_text()


def test_event_list_map_names_places_in_english_and_draws_approximate_places_as_areas(page, site: str, sql) -> None:
    page.goto(f"{site}/events/event_list")
    page.wait_for_selector(".marker-cluster")
    page.wait_for_load_state("networkidle")
    container = page.locator(".leaflet-container")
    page.wait_for_function("() => document.querySelector('.leaflet-container').dataset.zoom !== undefined")
    if int(container.get_attribute("data-zoom")) < 5:
        assert page.locator(".place-label").count() == 0  # a wide view stays uncluttered
    while int(container.get_attribute("data-zoom")) < 5:
        page.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(400)
    labels = page.locator(".place-label").all_inner_texts()
    places = sql("select name, kind, geo_precision from place_list where events > 0 and latitude is not null")
    approximate = [
        f"{name} ({kind}; approximate point)" for name, kind, p in places if p in ("country", "representative")
    ]
    exact = [name for name, _, p in places if p not in ("country", "representative")]
    assert sorted(labels) == sorted(approximate + exact)
    # The fixture's events are all at localities: none is drawn as an approximate area.
    assert page.locator("path[stroke-dasharray='4 4']").count() == len(approximate)
