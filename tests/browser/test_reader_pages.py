"""Every kind of page a reader reaches from the home page in two clicks, in
Chromium at a laptop's 1366 px and a phone's 390 px: axe-core finds nothing
serious or critical (issue 27), and the About page the header links is the
one the home page lists."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest

from tests.support.site_helpers import axe_at_every_load, axe_run

pytestmark = pytest.mark.browser

# Files, not pages: what the home page links for download or for a feed reader.
DOWNLOADS = (".db", ".csv", ".json", ".ics", ".atom", ".geojson")
# The kinds of page the accessibility crawl checks at most: the site has about
# seventy (see route_shape); a crawl that finds many more has met a loop of URLs.
MAX_PAGES = 100
# A laptop's width and a phone's.
WIDTHS = (1366, 390)
# The scripts that ask the server for more once their page has loaded: the maps'.
MAP_SCRIPTS = "script[src$='/datasette-cluster-map.js'], script[src$='/server_map.js']"
# The template a page was drawn with: base.html names those Datasette
# considered, the one it chose starred (the plugins' own pages name none).
TEMPLATE = re.compile(r"<!-- Templates considered: [^>]*?\*([^,\s]+)")


@pytest.fixture(scope="module")
def sql(published_db: Path):
    conn = sqlite3.connect(published_db)
    yield lambda query, params=(): conn.execute(query, params).fetchall()
    conn.close()


def same_site_links(page, site: str) -> list[str]:
    """The site's own pages the page in the browser links, each once, in its
    order, as paths with their queries; files and fragments left out."""
    # new URL(), not a.href: an SVG link's href is an object, not its URL.
    hrefs = page.locator("a[href]").evaluate_all(
        "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"
    )
    paths: list[str] = []
    for href in hrefs:
        url = urlparse(href)
        path = url.path + (f"?{url.query}" if url.query else "")
        if url.netloc == urlparse(site).netloc and not url.path.endswith(DOWNLOADS) and path not in paths:
            paths.append(path)
    return paths


def route_shape(path: str) -> tuple[str, frozenset[str]]:
    """What a path's page is an instance of, so that the crawl checks each kind
    of page once rather than every record and every filter: a record's page
    whatever its id (/events/actors/*); a table, view or query filtered by any
    of its columns ("filter"), its options (_facet, _size, ...) and its
    own SQL (sql) told apart; the site's own pages (/-/...) by their options.
    A sort up or down is one option: _table.html draws both, and they differ
    only in which arrow, with its title, the sorted column's heading shows."""
    url = urlparse(path)
    parts = url.path.split("/")
    if len(parts) > 3:
        parts[3:] = ["*"]
    keys = {key for key, _ in parse_qsl(url.query, keep_blank_values=True)}
    if parts[1] != "-":
        keys = {"_sort" if k == "_sort_desc" else k if k.startswith("_") or k == "sql" else "filter" for k in keys}
    return "/".join(parts), frozenset(keys)


@dataclass
class Crawl:
    """The kinds of page the crawl met, in the order a reader meets them, and
    what axe found in them and what they asked for after their load, by width."""

    pages: list[str]
    found: dict[int, dict[str, list[dict]]]
    late: dict[int, dict[str, list[str]]]


@pytest.fixture(scope="module")
def crawl(browser, site: str, axe) -> Crawl:
    """Every kind of page a reader reaches from the home page in two clicks:
    the home page, the pages it links, and those each of them links, one page
    of each route shape, at most MAX_PAGES; each checked by axe at the
    laptop's width as it is met, and at the phone's once for each template
    and set of options (route_shape's): what the phone's width changes is
    the layout, which is the template's stylesheet at that width over the
    same elements, while the elements themselves, which differ from table
    to table, are all checked at the laptop's width (on the published
    fixture: 69 pages at the phone's width for each kind of page, 22 for
    each layout, some forty of the kinds being tables that table.html draws).

    One load of each page serves both widths (a load costs more than axe's
    run): the phone's width is a resize of the loaded page,
    which re-evaluates its media queries as a load at that width would. A
    map's page is loaded afresh at each width instead, as its scripts ask for
    the rows, markers and tiles the width shows, and waited for until its
    network settles; every other page is whole at load, and the test fails
    should one of them ask for anything between its load and axe's last
    check. goto waits for the page's load event."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    axe_at_every_load(context)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    shapes: dict[tuple[str, frozenset[str]], str] = {}
    found: dict[int, dict[str, list[dict]]] = {width: {} for width in WIDTHS}
    late: dict[int, dict[str, list[str]]] = {width: {} for width in WIDTHS}
    layouts: set[tuple[str, frozenset[str]]] = set()  # (template, options) checked at the narrower widths

    def add(paths: list[str]) -> list[str]:
        """The paths of shapes not met before this call, the first of each
        shape kept as the page that shows it."""
        fresh = [p for p in paths if route_shape(p) not in shapes]
        for path in fresh:
            shapes.setdefault(route_shape(path), path)
        return fresh

    def visit(path: str, follow: bool) -> list[str]:
        """The pages it links if `follow`; axe's findings at each width if the
        page is its shape's."""
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(f"{site}{path}")
        loaded = len(requests)
        links = same_site_links(page, site) if follow else []
        if shapes[route_shape(path)] != path:
            return links
        has_map = page.locator(MAP_SCRIPTS).count() > 0
        template = TEMPLATE.search(page.content())
        layout = (template[1] if template else route_shape(path)[0], route_shape(path)[1])
        for width in WIDTHS if layout not in layouts else WIDTHS[:1]:
            if width != WIDTHS[0]:
                layouts.add(layout)
                page.set_viewport_size({"width": width, "height": 900})
                if has_map:
                    page.goto(f"{site}{path}")
            assert page.evaluate("innerWidth") == width, path
            if has_map:
                page.wait_for_load_state("networkidle")
            violations = axe_run(page)
            if violations:
                found[width][path] = violations
            if not has_map and requests[loaded:]:
                late[width][path] = requests[loaded:]
            loaded = len(requests)
        return links

    # The home page's links all lead on, as a reader may follow any; the
    # pages they link are checked but not followed, each shape once.
    add(["/"])
    second = [linked for path in add(visit("/", follow=True)) for linked in add(visit(path, follow=True))]
    for path in dict.fromkeys(second):
        if shapes[route_shape(path)] == path:
            visit(path, follow=False)
    context.close()
    pages = list(shapes.values())
    assert len(pages) <= MAX_PAGES, f"{len(pages)} kinds of page: raise MAX_PAGES if the site has grown"
    return Crawl(pages, found, late)


@pytest.mark.slow
def test_the_crawl_reaches_two_clicks_deep(crawl: Crawl) -> None:
    """The home page's own links, and pages only its links' pages link."""
    assert {"/", "/-/about", "/events/disputes_by_question", "/events/event_list", "/-/timeline"} <= set(crawl.pages)
    shapes = {route_shape(p)[0] for p in crawl.pages}
    assert {"/events/events/*", "/events/actors/*", "/events/places/*", "/events/documents/*"} <= shapes
    assert any(route_shape(p)[1] for p in crawl.pages if p.startswith("/events/event_list?"))


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_or_critical_findings_two_clicks_from_the_home_page(crawl: Crawl, width: int) -> None:
    assert crawl.found[width] == {}
    assert crawl.late[width] == {}, (
        "pages with no map asked for more after their load event: wait for it before axe runs"
    )


def test_the_header_about_link_opens_the_about_page(page, site: str) -> None:
    page.goto(f"{site}/events/event_list")
    page.get_by_role("link", name="About this site").first.click()
    page.wait_for_url("**/-/about")
    assert page.locator("main h1").inner_text() == "About this site"


def contrast(colour: str, background: str) -> float:
    """WCAG 2's contrast ratio of two computed CSS colours, "rgb(r, g, b)"."""

    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(
    "path",
    ["/events", "/events?sql=select+id%2C+title+from+events", "/events/who_met_whom?actor=Barrack"],
)
def test_format_sql_is_a_visible_button(page, site: str, path: str) -> None:
    """Format SQL was blue on the same blue on every query page (issue 27): its
    text must meet WCAG AA's 4.5:1 against its own, opaque, background."""
    page.goto(f"{site}{path}")
    page.wait_for_load_state("networkidle")
    button = page.locator("button#sql-format")
    assert button.is_visible()
    colour, background = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert background.startswith("rgb("), background  # opaque: no rgba(..., 0) showing the page through
    assert contrast(colour, background) >= 4.5, (colour, background)


# A page of every kind the site serves, by the template that draws it.
PAGE_KINDS = {
    "home": "/",
    "database": "/events",
    "table": "/events/events",
    "view": "/events/event_list",
    "row": "/events/event_types/meeting",
    "event": "/events/events/2025-08-19-paris-shaibani-dermer",
    "actor": "/events/actors/tom-barrack",
    "place": "/events/places/syria-country",
    "document": "/events/documents/cradle-paris-confirmation",
    "ready-made query": "/events/who_met_whom?actor=",
    "disputes by question": "/events/disputes_by_question",
    "own SQL": "/events?sql=select+1",
    "search everything": "/-/search?q=Sheibani",
    "timeline": "/-/timeline",
    "overview": "/-/overview",
    "about": "/-/about",
    "not found": "/events/events/no-such-event",
}


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_every_kind_of_page_has_one_main_landmark(page, site: str, kind: str) -> None:
    """Row and query pages had none; pages whose own template opened one must
    not get a second from the base template (issue 27)."""
    page.goto(f"{site}{PAGE_KINDS[kind]}")
    assert page.locator("main").count() == 1
    assert page.locator("main h1").count() >= 1, "the page's heading is inside its main landmark"


def test_an_event_pages_cards_on_a_phone_say_what_each_line_is(browser, site: str, sql) -> None:
    """On a phone a claim's stance, claimant and document were three unlabelled
    lines (issue 27): with the table's headings gone, each line names itself."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    ((event,),) = sql("select event_id from claims order by event_id limit 1")
    page.goto(f"{site}/events/events/{event}")
    first_claim = page.locator("table.claims tr").nth(1).locator("td")
    labels = first_claim.evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    context.close()
    assert labels == ["none", '"Stance: "', '"By: "', '"In: "']


def test_an_answers_heading_is_not_underlined_like_a_link(page, site: str) -> None:
    page.goto(f"{site}/events/disputes_by_question")
    headings = page.locator("h4.position")
    assert headings.count() > 0
    assert set(headings.evaluate_all("hs => hs.map(h => getComputedStyle(h).textDecorationLine)")) == {"none"}


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
