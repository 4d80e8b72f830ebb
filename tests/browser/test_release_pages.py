"""A release's pages in a real Chromium against the real `serve`: an event's
history, and a withdrawn id leading to the record that replaced it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.site_helpers import serving
from tests.test_release_site import CHANGED, RENAMED, REPLACEMENT, release_twice

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def release_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("release-site")
    _, second = release_twice(directory)
    served = directory / "served"
    served.mkdir()
    # A copy: serve writes its row counts beside the database, and the release stays as cut.
    shutil.copy(second.directory / "events.db", served / "events.db")
    with serving(directory / "sources", served / "events.db") as base:
        yield base


def test_an_event_page_shows_its_history(page, release_site: str) -> None:
    page.goto(f"{release_site}/events/events/{CHANGED}")
    rows = page.locator("table.record-history tr")
    assert rows.count() == 3  # the header, the commit that changed it and the one that added it
    assert "Rename the July strikes; Barrack mediates" in rows.nth(1).inner_text()
    assert "status: disputed → confirmed" in rows.nth(1).inner_text()
    assert "First records" in rows.nth(2).inner_text()


def test_a_withdrawn_id_leads_to_its_replacement(page, release_site: str) -> None:
    response = page.goto(f"{release_site}/events/events/{RENAMED}")
    assert response is not None and response.status == 410
    assert "Renamed to say whose strikes they were." in page.locator(".withdrawn").inner_text()
    page.locator(".replaced-by a").click()
    page.wait_for_url(f"**/events/events/{REPLACEMENT}")
    assert page.locator("h1").inner_text() == "Israeli strikes on Damascus"
