"""An actor's and a place's names by language, as a reader sees them in
Chromium: one line per language, English first, each language's own script
before its transliterations, the display name in each language first and
marked, and Arabic set right to left."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_an_actors_page_groups_its_names_by_language(page, site: str) -> None:
    page.goto(f"{site}/events/actors/ahmed-al-sharaa")
    names = page.locator("section.names-by-language")
    assert names.locator("dt").all_inner_texts() == ["English", "Arabic", "Arabic, in Latin letters"]
    lines = names.locator("dd")
    assert lines.nth(0).inner_text() == "Ahmed al-Sharaa"
    assert lines.nth(1).inner_text() == "أحمد الشرع"
    assert lines.nth(2).inner_text() == "Abu Mohammad al-Julani; Julani; al-Jolani"
    # The English and Arabic display names are marked as such; a transliteration is not one.
    assert names.locator("strong.display").all_inner_texts() == ["Ahmed al-Sharaa", "أحمد الشرع"]
    arabic = lines.nth(1).locator(".name")
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert lines.nth(1).get_attribute("lang") == "ar" and lines.nth(2).get_attribute("lang") == "ar-Latn"
    # Each language's line reads "Language: names", side by side.
    label, name = names.locator("dt").first.bounding_box(), lines.first.locator(".name").bounding_box()
    assert label and name and abs(label["y"] - name["y"]) < 5 and name["x"] >= label["x"] + label["width"]


def test_a_places_page_groups_its_names_and_an_event_page_has_none(page, site: str) -> None:
    page.goto(f"{site}/events/places/sweida")
    names = page.locator("section.names-by-language")
    assert names.locator("dt").all_inner_texts() == ["English", "Arabic", "Arabic, in Latin letters"]
    assert "Suwayda" in names.locator("dd").nth(2).inner_text()
    page.goto(f"{site}/events/documents/newarab-paris-meeting")
    assert page.locator("section.names-by-language").count() == 0
