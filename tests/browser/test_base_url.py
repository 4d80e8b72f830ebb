"""The maps in a real Chromium on a site served under a path prefix
(Datasette's base_url) and at its root: a popup's link, which the views give
relative to the database's address, leads to its record's page from a list
and from the database's own SQL page, and nothing a map page asks the site
for (its scripts, tiles, the place labels' rows) lies outside the prefix.
The site runs in this process, on uvicorn, as tests/support/site.py builds
it for datasette.client; expected values come from SQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import uvicorn

from tests.support.site import in_process_site
from tests.support.site_helpers import free_port

pytestmark = pytest.mark.browser

PREFIX = "/prefix/"


@pytest.fixture(scope="module", params=[PREFIX, "/"], ids=["under-a-prefix", "at-the-root"])
def served(request: pytest.FixtureRequest, published_db: Path) -> Iterator[str]:
    """The site's address, with its base_url: served until the module ends."""
    ds = in_process_site(published_db, base_url=request.param)
    server = uvicorn.Server(uvicorn.Config(ds.app(), host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the site did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}{request.param}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def paris(published_db: Path) -> str:
    conn = sqlite3.connect(published_db)
    (title,) = conn.execute("select title from events where place_id = 'paris'").fetchone()
    conn.close()
    return title


def follow_the_popup(page, title: str) -> None:
    page.locator(".leaflet-marker-icon").first.click()
    popup = page.locator(".leaflet-popup-content")
    assert title in popup.inner_text()
    popup.locator("a").click()
    page.wait_for_url("**/events/events/*")
    assert page.locator("h1").inner_text() == title


def asked_outside(page, site: str) -> list[str]:
    """What the page asked this site for outside its base_url."""
    base = urlsplit(site)
    return [
        url
        for url in page.requests
        if urlsplit(url).netloc == base.netloc and not urlsplit(url).path.startswith(base.path)
    ]


def test_a_lists_popup_leads_to_its_record(page, served: str, paris: str) -> None:
    page.goto(f"{served}events/event_list?place_id=paris")
    follow_the_popup(page, paris)
    assert page.url.startswith(f"{served}events/events/")
    assert not asked_outside(page, served)


def test_a_popup_of_ones_own_query_leads_to_its_record(page, served: str, paris: str) -> None:
    """The database's SQL page is the database's address itself, not a page beside it."""
    sql = "select id, title, latitude, longitude, popup from event_list where place_id = 'paris'"
    page.goto(f"{served}events?sql={quote(sql)}")
    follow_the_popup(page, paris)
    assert page.url.startswith(f"{served}events/events/")


def test_the_servers_map_asks_for_nothing_outside_the_base_url(page, served: str) -> None:
    tiles = []
    page.on("response", lambda r: tiles.append(r.status) if "/-/tiles/" in r.url else None)
    page.goto(f"{served}events/event_list?_map=server")
    page.wait_for_selector("#server-map[data-first-draw-ms]")
    page.wait_for_load_state("networkidle")
    assert tiles and set(tiles) == {200}
    assert not asked_outside(page, served)
