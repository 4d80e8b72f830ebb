"""Where each fact comes from, as a reader sees it in Chromium: an event page
gives every source's paragraph ("¶ N", its text hash on hover) and public
address, and a document's page lists what each of its paragraphs is cited
for, first paragraph first, each linking its event."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_an_event_page_shows_the_paragraph_of_each_source(page, site: str) -> None:
    page.goto(f"{site}/events/events/2025-08-19-paris-shaibani-dermer")
    documents = page.locator("table.event-related.documents")
    locators = documents.get_by_title(re.compile(r"^paragraph \d+ of the archived copy; text hash [0-9a-f]{8}$"))
    assert locators.count() >= 2
    assert all(re.fullmatch(r"¶\s\d+", text) for text in locators.all_inner_texts())
    assert documents.get_by_text("no public address known").count() >= 1
    claims = page.locator("table.event-related.claims")
    assert claims.get_by_title(re.compile(r"^paragraph \d+ of the archived copy")).count() >= 1


def test_a_document_page_lists_what_each_paragraph_supports(page, site: str) -> None:
    page.goto(f"{site}/events/documents/newarab-paris-meeting")
    rows = page.locator("table.document-citations tr:has(td)")
    assert rows.count() >= 3
    numbers = [int(n) for n in re.findall(r"¶\s(\d+)", " ".join(rows.all_inner_texts()))]
    assert numbers and numbers == sorted(numbers)
    link = rows.first.locator('a[href^="/events/events/"]').first
    target = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{target}")
    assert page.locator("h1").count() == 1
