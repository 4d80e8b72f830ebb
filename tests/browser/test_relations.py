"""Relations, a process page and the embed card in a real Chromium against
the real `serve` of the published fixture with tests/fixtures/relations/site."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loader.citation import metadata_permalink
from loader.metadata import read_metadata
from tests.support.site_helpers import serving
from tests.test_relations_site import DAMASCUS, PARIS, PROCESS, related_sources

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("related")
    with serving(related_sources(directory / "sources"), directory / "events.db") as base:
        yield base


def test_a_process_page_shows_its_parts_in_order_on_a_timeline(page, site: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}/events/events/{PROCESS}")
    parts = page.locator("#process tr.process-part")
    assert parts.count() == 2
    assert parts.nth(0).locator("td").nth(0).inner_text() == "First"
    assert "Barrack meets al-Sharaa in Damascus" in parts.nth(0).inner_text()
    assert "19 August 2025" in parts.nth(1).inner_text()
    bars = page.locator(".process-timeline a")
    assert bars.count() == 2
    first, second = (bars.nth(i).bounding_box() for i in range(2))
    assert first and second and first["x"] < second["x"] and first["width"] > second["width"] > 0
    page.locator("#process a.follow").click()
    assert page.url == f"{site}/-/follow/process/{PROCESS}.atom"
    assert errors == []


def test_an_events_relations_read_in_words_and_lead_to_the_other_event(page, site: str) -> None:
    page.goto(f"{site}/events/events/{PARIS}")
    relations = page.locator("ul.event-relations li")
    texts = [relations.nth(i).inner_text() for i in range(relations.count())]
    assert any(t.startswith("The second round of Indirect contacts through the year") for t in texts)
    assert any(t.startswith("Follows Barrack meets al-Sharaa in Damascus") for t in texts)
    page.locator("li.relation-from-follows a").first.click()
    assert page.url == f"{site}/events/events/{DAMASCUS}"
    assert (
        page.locator("li.relation-to-follows").inner_text().startswith("Followed by Shaibani and Dermer meet in Paris")
    )


def test_the_embed_card_renders_in_a_frame_with_no_script(page, site: str) -> None:
    page.goto(f"{site}/-/embed/{PARIS}")
    card = page.locator("article.card")
    assert card.locator("h1").inner_text() == "Shaibani and Dermer meet in Paris"
    assert "19 August 2025" in card.locator(".facts").inner_text()
    assert card.locator("ul.sources li").count() == 2
    assert page.locator("script").count() == 0
    assert [r for r in page.requests if not r.startswith(f"{site}/-/embed/")] == []
    # The event's page on the site's permalink, as its citation gives it: the card is read in another site.
    base = metadata_permalink(read_metadata()) or site
    assert card.locator("h1 a").get_attribute("href") == f"{base}/events/events/{PARIS}"
