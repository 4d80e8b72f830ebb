"""An actor's and a place's page, in process over the published fixture: the
events with the actor's role and the date in words, the claims it makes and
the disputes it is a voice in, whom it met counting both columns of
actor_pair_counts, a place's events and those within it, and the small map
and timeline."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
from contextlib import closing
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


def json_of(site: Datasette, path: str) -> dict:
    response = asyncio.run(site.client.get(path))
    assert response.status_code == 200, response.text[:500]
    return response.json()


def json_rows(site: Datasette, path: str) -> list[dict]:
    rows = json_of(site, path)
    assert isinstance(rows, list)
    return rows


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
    """Tom Barrack's id sorts after everyone he met, so actor_pair_counts holds
    him only in its second column; the "Who met whom" page listed a pair only
    under its first (issue 27)."""
    with closing(sqlite3.connect(published_db)) as conn:
        stored = conn.execute("SELECT actor_a, actor_b FROM actor_pair_counts").fetchall()
    met = sorted(a for a, b in stored if b == "tom-barrack")
    assert met and "tom-barrack" not in {a for a, _ in stored}, "the fixture must hold him only second"
    # The actor's page, the view filtered or faceted by actor, and the ready-made query.
    page = section(page_text(site, "/events/actors/tom-barrack"), "subject-met")
    assert sorted(re.findall(r'href="/events/actors/([^"]+)"', page)) == met
    assert "Asaad al-Shaibani : 2 events, August 2025" in words(page)
    pairs = json_rows(site, "/events/actor_pairs.json?actor_a=tom-barrack&_shape=array")
    assert sorted(p["actor_b"] for p in pairs) == met and {p["actor_b_name"] for p in pairs} > {"Ron Dermer"}
    facet = json_of(site, "/events/actor_pairs.json?_facet=actor_a_name")["facet_results"]["actor_a_name"]["results"]
    assert {f["value"]: f["count"] for f in facet}["Tom Barrack"] == len(met)
    chosen = json_rows(site, "/events/who_met_whom.json?actor=Barrack&_shape=array")
    assert sorted(p["actor_b"] for p in chosen) == met and {p["actor_a"] for p in chosen} == {"tom-barrack"}
    # With no actor given, the query lists each pair once, as the table holds it.
    every = json_rows(site, "/events/who_met_whom.json?actor=&_shape=array")
    assert sorted((p["actor_a"], p["actor_b"]) for p in every) == sorted(stored)


def test_a_places_page_gives_the_events_there_and_within_it(site: Datasette) -> None:
    sweida = page_text(site, "/events/places/sweida")
    assert "Clashes and strikes in Sweida" in words(section(sweida, "subject-events-section"))
    assert "Did government forces commit abuses" in words(section(sweida, "subject-disputes"))
    assert 'href="/events/actors/israel"' in section(sweida, "subject-met")
    # Syria's page holds Sweida's event, Sweida being within it, and lists Sweida.
    country = page_text(site, "/events/places/syria-country")
    assert "Clashes and strikes in Sweida" in words(section(country, "subject-events-section"))
    assert 'href="/events/places/sweida"' in section(country, "subject-within")


def test_a_places_link_to_its_events_lists_those_within_it_as_its_page_does(site: Datasette) -> None:
    """The link to a place's events in the event list filtered by the place
    alone, leaving out the events of the places within it (issue 27)."""
    country = page_text(site, "/events/places/syria-country")
    on_page = re.findall(r'<a href="/events/events/([^"]+)">', section(country, "subject-events-section"))
    onward = section(country, "subject-onward")
    link = re.search(r'<a href="(/events/event_list\?[^"]+)">The events here and within it in the event list', onward)
    assert link and on_page, onward
    listed = json_rows(site, html.unescape(link[1]).replace("/event_list?", "/event_list.json?_shape=array&"))
    assert sorted(e["id"] for e in listed) == sorted(set(on_page))
    assert {e["place_id"] for e in listed} == {"sweida"}


def test_a_subjects_page_opens_with_its_name_and_what_it_is(site: Datasette) -> None:
    """The head both subject pages share (_subject_row.html), with each kind's own facts."""
    facts = {}
    for path in ("/events/actors/ahmed-al-sharaa", "/events/places/sweida"):
        text = page_text(site, path)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
        assert heading, path
        found = re.search(r'<p class="subject-facts">(.*?)</p>', text, re.S)
        assert found, path
        facts[path] = (heading[1], found[1])
    assert facts["/events/actors/ahmed-al-sharaa"] == (
        "Ahmed al-Sharaa",
        'Person: President of Syria, part of <a href="/events/actors/syria">Syria</a> · SY.',
    )
    assert facts["/events/places/sweida"] == (
        "Sweida",
        'City in <a href="/events/places/syria-country">Syria</a> · SY.',
    )
