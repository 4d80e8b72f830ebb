"""HTML and JavaScript in any record field is shown as text and never runs.

tests/fixtures/hostile puts a payload in every free-text field (script tags,
event handlers, javascript: links, quotes that try to close an attribute,
srcdoc, styles); each would set window.__pwned if it ran. In real Chromium,
every page that shows those fields (table pages, row pages, the custom event
page, map popups, the timeline, a canned query, search, the SQL error pages)
must show the payload as text, run none of it and carry none of it as markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from tests.support.site_helpers import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVENT_TITLE = "<script>window.__pwned='event title'</script>Hostile event"
PLACE_NAME = "<script>window.__pwned = 'place name'</script>"
ACTOR_NAME = "<img src=x onerror=\"window.__pwned='actor name'\">"
DOCUMENT_TITLE = "<b>bold?</b><script>window.__pwned='document title'</script>"
CLAIM = "<script>window.__pwned='claim'</script>It happened."
HOSTILE_SQL = "select '</textarea><script>window.__pwned=`sql`</script>' as x"

PAGES = {
    "events table": ("/events/events", [EVENT_TITLE]),
    "event list with map": ("/events/event_list", [EVENT_TITLE]),
    "event page": (
        "/events/events/hostile-event",
        [EVENT_TITLE, ACTOR_NAME, DOCUMENT_TITLE, CLAIM, "<script>window.__pwned='participant note'</script>"],
    ),
    "actor row": ("/events/actors/hostile-actor", [ACTOR_NAME, "' onmouseover='window.__pwned=1' data-x='"]),
    "place row": ("/events/places/hostile-place", [PLACE_NAME]),
    "document row": (
        "/events/documents/hostile-document",
        [
            DOCUMENT_TITLE,
            "<style>body{display:none}</style>Evil Outlet",
            "https://example.org/\"><script>window.__pwned='document url'</script>",
        ],
    ),
    "claims table": ("/events/claims", [CLAIM]),
    "places table": ("/events/places", [PLACE_NAME]),
    "search": ("/events/events?_search=hostile", [EVENT_TITLE]),
    "facet by place": ("/events/events?_facet=place_id", [EVENT_TITLE]),
    "timeline": ("/-/timeline", [EVENT_TITLE]),
    "canned query": ("/events/event_sources?event=hostile-event", [DOCUMENT_TITLE, CLAIM]),
    "sql results": ("/events?sql=" + quote("select title, summary from events"), [EVENT_TITLE]),
    "sql error page": ("/events?sql=" + quote(HOSTILE_SQL + " from nowhere"), []),
}
RUNAWAY = "/events?sql=" + quote(
    "with recursive c(x) as (select 1 union all select x + 1 from c) "
    "select count(*), '</textarea><script>window.__pwned=`runaway`</script>' from c"
)

# Markup that would carry a payload: script text, event handlers, javascript:
# URLs, srcdoc, and the hostile style. Text nodes and URL-encoded links are fine.
FIND_MARKUP = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if ((tag === 'script' || tag === 'style') && /__pwned|display:\\s*none\\}/.test(el.textContent)) found.push(tag);
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith('on') && value.includes('__pwned')) found.push(`${tag}[${attr.name}]`);
      if (['href', 'src', 'action', 'formaction', 'data'].includes(attr.name) && value.startsWith('javascript:')) found.push(`${tag}[${attr.name}]`);
      if (attr.name === 'srcdoc') found.push(`${tag}[srcdoc]`);
      if (attr.name === 'data-x') found.push(`${tag}[data-x]`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def hostile_site(hostile_db: Path) -> Iterator[str]:
    with serving(hostile_db.parent / "sources", hostile_db) as base:
        yield base


def _open(page, site: str, path: str) -> list[str]:
    """Open a page with every request off this machine refused; return the dialogs it opened."""
    local = urlparse(site).netloc
    page.route(
        "**/*", lambda route: route.continue_() if urlparse(route.request.url).netloc == local else route.abort()
    )
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(site + path)
    page.wait_for_load_state("networkidle")
    return dialogs


def _assert_inert(page, dialogs: list[str]) -> None:
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    assert page.evaluate(FIND_MARKUP) == []
    assert page.locator("body").is_visible()


@pytest.mark.parametrize("name", PAGES)
def test_hostile_text_is_shown_as_text_and_never_runs(page, hostile_site: str, name: str) -> None:
    path, texts = PAGES[name]
    dialogs = _open(page, hostile_site, path)
    # Hover and click through what a visitor would touch, to fire any handler.
    for cell in page.locator("td, .leaflet-marker-icon").all()[:12]:
        cell.hover(timeout=2000)
    _assert_inert(page, dialogs)
    shown = page.locator("body").inner_text()
    for text in texts:
        assert text in shown, f"{text!r} is not shown as text on {path}"


def test_map_popup_shows_hostile_text_as_text(page, hostile_site: str) -> None:
    dialogs = _open(page, hostile_site, "/events/event_list?id=hostile-event")
    page.locator(".leaflet-marker-icon").first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert EVENT_TITLE in popup.inner_text()
    popup.locator("a").first.hover()
    _assert_inert(page, dialogs)


def test_sql_error_pages_show_the_query_as_text(page, hostile_site: str) -> None:
    dialogs = _open(page, hostile_site, RUNAWAY)
    assert "SQL query took too long" in page.locator("body").inner_text()
    assert "</textarea><script>window.__pwned=`runaway`</script>" in page.locator("textarea").first.input_value()
    _assert_inert(page, dialogs)
