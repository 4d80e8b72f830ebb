"""Take the screenshots shown in the README from the real sources/.

Run with `make screenshots`: it builds sources/ into a temporary directory,
serves it as `make serve` would, and writes docs/events.png (the event list),
docs/facets.png (its search and facets), docs/map.png, docs/event.png, docs/timeline.png and docs/overview.png with
Debian's Chromium, at a laptop's 1366 px.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.support.site_helpers import launch, serving

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        db = Path(directory) / "events.db"
        with serving(ROOT / "sources", db) as base, sync_playwright() as playwright:
            # The event with the most evidence shows the row page best.
            with sqlite3.connect(db) as conn:
                (event,) = conn.execute(
                    "select id from event_list order by claims + documents desc, id limit 1"
                ).fetchone()
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{base}/events/event_list")
            page.wait_for_selector(".leaflet-marker-icon")
            page.wait_for_load_state("networkidle")
            page.locator(".leaflet-container").screenshot(path=str(DOCS / "map.png"))
            # The list itself, the map scrolled past: one row per event.
            page.evaluate("window.scrollTo(0, document.querySelector('.table-wrapper').offsetTop - 10)")
            page.screenshot(path=str(DOCS / "events.png"))
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(DOCS / "facets.png"))
            page.goto(f"{base}/events/events/{event}")
            page.screenshot(path=str(DOCS / "event.png"), full_page=True)
            page.goto(f"{base}/-/timeline")
            page.screenshot(path=str(DOCS / "timeline.png"))
            page.goto(f"{base}/-/overview")
            page.screenshot(path=str(DOCS / "overview.png"), full_page=True)
            browser.close()
    for name in ("events", "facets", "map", "event", "timeline", "overview"):
        print(f"wrote docs/{name}.png", file=sys.stderr)


if __name__ == "__main__":
    main()
