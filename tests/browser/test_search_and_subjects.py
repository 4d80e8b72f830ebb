"""Search everything and an actor's and a place's page, in Chromium against
the real `serve`: a reader types a spelling no alias records on the home
page and lands on the record it means; a miss offers "did you mean"; the
subject pages show their events, company, map and timeline, with no serious
accessibility fault."""

from __future__ import annotations

import pytest

from tests.support.site_helpers import axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("spelling", "record"),
    [("Sheibani", "Asaad al-Shaibani"), ("Chaibani", "Asaad al-Shaibani"), ("Swaida", "Sweida")],
)
def test_a_spelling_no_alias_holds_leads_from_the_home_page_to_its_record(
    page, site: str, spelling: str, record: str
) -> None:
    page.goto(site)
    page.fill("#home-search-q", spelling)
    page.locator("#home-search-q").press("Enter")
    page.wait_for_url("**/-/search?q=*")
    first = page.locator("section.search-group").first.locator("li a").first
    assert first.inner_text() == record
    # Grouped by kind, with no SQL in sight.
    assert page.locator("section.search-group h2").first.inner_text().split(" (")[0] in ("Actors", "Places")
    assert page.locator("textarea, .CodeMirror, pre").count() == 0
    first.click()
    assert page.locator("h1").inner_text() == record


def test_a_miss_offers_the_nearest_names(page, site: str) -> None:
    page.goto(f"{site}/-/search?q=Shebanski")
    assert page.locator(".search-none").is_visible()
    page.locator(".search-suggestions a", has_text="Asaad al-Shaibani").click()
    page.wait_for_url("**/-/search?q=Asaad*")
    assert page.locator("section.search-actor li a").first.inner_text() == "Asaad al-Shaibani"


def test_an_actors_and_a_places_page_read_as_pages(page, site: str, axe) -> None:
    page.goto(f"{site}/events/actors/tom-barrack")
    assert page.locator("h1").inner_text() == "Tom Barrack"
    met = page.locator("section.subject-met li a").all_inner_texts()
    assert "Ahmed al-Sharaa" in met  # Tom Barrack is the second column of that pair
    rows = page.locator("table.subject-events tr")
    assert rows.count() > 1 and "2025" in rows.nth(1).locator("td.date").inner_text()
    assert page.locator(".subject-map circle").count() >= 1
    assert axe_violations(page) == []
    page.goto(f"{site}/events/places/sweida")
    assert page.locator("h1").inner_text() == "Sweida"
    page.locator("table.subject-events a", has_text="Clashes and strikes in Sweida").click()
    page.wait_for_url("**/events/events/2025-07-sweida-clashes")
    page.goto(f"{site}/-/search?q=Sweida")
    assert axe_violations(page) == []
