"""Search everything (/-/search), in process over the published fixture: a
spelling that no alias records reaches the record it means, and brings every
event, document and claim that names the record in any of its spellings;
results come grouped by kind, ranked; a miss offers the nearest names; the
page shows no SQL; and the test's spellings are in no alias of the fixture,
so it is the matcher that finds them."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from loader.desk.find import entries_from_sources
from loader.desk.names import Entry, Matcher
from loader.site.plugins import search
from tests.support.site import in_process_site, page_text

# Spellings a reader types that no record of the fixture holds.
UNRECORDED = {"Sheibani": "asaad-al-shaibani", "Chaibani": "asaad-al-shaibani", "Swaida": "sweida"}


@pytest.fixture(scope="module")
def site(published_db: Path) -> Datasette:
    return in_process_site(published_db)


def groups(ds: Datasette, q: str) -> dict[str, list[str]]:
    """Each group's id and the links of its rows, in the page's order."""
    text = page_text(ds, f"/-/search?q={q}")
    return {
        kind: re.findall(r'<li><a href="([^"]+)"', section)
        for kind, section in re.findall(r'<section id="(\w+)" class="search-group.*?>(.*?)</section>', text, re.S)
    }


def test_the_unrecorded_spellings_are_in_no_alias(published_db: Path) -> None:
    names = {n.casefold() for e in entries_from_sources(published_db.parent / "sources") for n in e.names()}
    for spelling in UNRECORDED:
        assert not any(spelling.casefold() in n for n in names), spelling


@pytest.mark.parametrize("spelling", sorted(UNRECORDED))
def test_a_spelling_no_alias_holds_reaches_its_record(site: Datasette, spelling: str) -> None:
    record = UNRECORDED[spelling]
    found = groups(site, spelling)
    kind = "actors" if record.startswith("asaad") else "places"
    assert found[kind][0] == f"/events/{kind}/{record}"


def test_a_reached_record_brings_what_names_it_in_any_spelling(site: Datasette) -> None:
    found = groups(site, "Swaida")
    # The event that happened there first; documents and claims that write Sweida or Suwayda.
    assert found["events"][0] == "/events/events/2025-07-sweida-clashes"
    assert "/events/documents/sana-sweida-denial" in found["documents"]
    assert found["claims"]
    assert list(found) == [k for k in ("actors", "places", "events", "documents", "claims") if k in found]
    # The record's own spelling finds the same things.
    assert groups(site, "Sweida") == found


def test_an_actor_brings_the_claims_they_make(site: Datasette, published_db: Path) -> None:
    claims = (
        sqlite3.connect(published_db).execute("SELECT id FROM claims WHERE claimant_id = 'ahmed-al-sharaa'").fetchall()
    )
    found = groups(site, "Charaa")
    assert found["actors"][0] == "/events/actors/ahmed-al-sharaa"
    assert {f"/events/claims/{c}" for (c,) in claims} <= set(found.get("claims", []))


def test_a_miss_offers_the_nearest_names_and_the_page_shows_no_sql(site: Datasette) -> None:
    text = page_text(site, "/-/search?q=Shebanski")
    assert 'class="search-none"' in text
    suggestions = re.search(r'class="search-suggestions">(.*?)</div>', text, re.S)
    assert suggestions and 'href="/-/search?q=Asaad%20al-Shaibani">Asaad al-Shaibani</a>' in suggestions[1]
    visible = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", text, flags=re.S)
    assert not re.search(r"\bselect\b.*\bfrom\b", visible, re.I | re.S)
    assert re.search(r'class="search-sql">[^<]*<a href="/events/search\?q=Shebanski"', text)


def test_the_home_page_searches_here_and_the_matcher_is_built_once(site: Datasette) -> None:
    assert re.search(r'<form class="home-search" action="/-/search"', page_text(site, "/"))
    first = asyncio.run(search.matcher(site))
    page_text(site, "/-/search?q=Sweida")
    assert asyncio.run(search.matcher(site)) is first


def test_each_word_may_name_its_own_record(site: Datasette) -> None:
    """Two names in one query: each reaches its record, and an event must involve both."""
    found = groups(site, "Sheibani Paris")
    assert found["actors"] == ["/events/actors/asaad-al-shaibani"]
    assert found["places"] == ["/events/places/paris"]
    assert found["events"] == ["/events/events/2025-08-19-paris-shaibani-dermer"]


def test_a_tables_search_that_finds_nothing_points_to_search_everything(site: Datasette) -> None:
    """The event list's own search knows recorded spellings only: "Sheibani"
    found nothing there and said nothing more (issue 27)."""
    missed = page_text(site, "/events/event_list?_search=Sheibani")
    assert 'href="/-/search?q=Sheibani">Search everything for “Sheibani”</a>' in missed
    assert missed.index("<main>") < missed.index('class="message-info no-match"') < missed.index("</main>")
    found = page_text(site, "/events/event_list?_search=Shibani")
    assert "no-match" not in found and "/events/events/2025-08-19-paris-shaibani-dermer" in found


def test_a_spelling_a_record_writes_reaches_it_and_not_a_name_the_key_reads_alike() -> None:
    """The matching key reads Asaad (the minister) and Assad (the former
    president) alike; a reader typing either means the record that writes it."""
    found = Matcher(
        [
            Entry("actor", "bashar-al-assad", "Bashar al-Assad", ("Assad", "Bashar al-Asad")),
            Entry("actor", "assad-government", "Assad government"),
            Entry("actor", "asaad-al-shaibani", "Asaad al-Shaibani", ("Asad al-Shaibani",)),
        ]
    )

    def reached(q: str) -> list[str]:
        return sorted({c.entry.id for _, term in search.terms(found, q) for c in term})

    assert reached("Assad") == ["assad-government", "bashar-al-assad"]
    assert reached("asaad") == ["asaad-al-shaibani"]
    # A spelling both write belongs to both; one neither writes reaches through the key.
    assert reached("Asad") == ["asaad-al-shaibani", "bashar-al-assad"]
    assert "asaad-al-shaibani" in reached("Assaad")
