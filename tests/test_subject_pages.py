"""An actor's and a place's page, in process over the published fixture: the
events with the actor's role and the date in words, the claims it makes and
the disputes it is a voice in, whom it met counting both columns of
actor_pair_counts, a place's events and those within it, and the small map
and timeline."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from tests.support.site import in_process_site, page_text


@pytest.fixture(scope="module")
def site(published_db: Path) -> Datasette:
    return in_process_site(published_db)


def section(text: str, name: str) -> str:
    found = re.search(rf'<section class="{name}">(.*?)</section>', text, re.S)
    assert found, name
    return found[1]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_an_actors_page_gives_its_events_claims_and_disputes(site: Datasette) -> None:
    text = page_text(site, "/events/actors/syria")
    events = words(section(text, "subject-events-section"))
    assert "between 13 and 20 July 2025 Clashes and strikes in Sweida target" in events
    assert 'href="/events/events/2025-07-sweida-clashes"' in section(text, "subject-events-section")
    claims = section(text, "subject-claims")
    assert 'href="/events/claims/sana-denies-abuses"' in claims and "denies" in words(claims)
    assert 'href="/events/disputes/sweida-government-abuses"' in section(text, "subject-disputes")
    # The map marks the place of its event; the timeline counts its year.
    assert re.search(r'<a href="/events/places/sweida" aria-label="Sweida: 1 event"><circle ', text)
    years = re.search(r'<table class="subject-years">.*?</table>', text, re.S)
    assert years and "2025 1" in words(years[0])


def test_who_met_whom_counts_an_actor_in_either_column(site: Datasette, published_db: Path) -> None:
    pairs = (
        sqlite3.connect(published_db)
        .execute("SELECT actor_a FROM actor_pair_counts WHERE actor_b = 'tom-barrack'")
        .fetchall()
    )
    assert pairs, "the fixture must hold Tom Barrack in the second column"
    met = section(page_text(site, "/events/actors/tom-barrack"), "subject-met")
    for (other,) in pairs:
        assert f'href="/events/actors/{other}"' in met
    assert "Asaad al-Shaibani : 2 events, August 2025" in words(met)


def test_a_places_page_gives_the_events_there_and_within_it(site: Datasette) -> None:
    sweida = page_text(site, "/events/places/sweida")
    assert "Clashes and strikes in Sweida" in words(section(sweida, "subject-events-section"))
    assert "Did government forces commit abuses" in words(section(sweida, "subject-disputes"))
    assert 'href="/events/actors/israel"' in section(sweida, "subject-met")
    # Syria's page holds Sweida's event, Sweida being within it, and lists Sweida.
    country = page_text(site, "/events/places/syria-country")
    assert "Clashes and strikes in Sweida" in words(section(country, "subject-events-section"))
    assert 'href="/events/places/sweida"' in section(country, "subject-within")
