"""A site served under a path prefix (Datasette's base_url, as behind a
proxy that serves it at example.org/prefix/): every link the site makes, in
the event list, the map's popups, the feeds, the calendar and the search,
is under the prefix, because the views give ids and the site makes the
links with Datasette's urls (no site path is written in SQL)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import feedparser
import icalendar
import pytest
from datasette.app import Datasette

from tests.support.site import in_process_site

PREFIX = "/prefix/"


@pytest.fixture(scope="module")
def ds(published_db: Path) -> Datasette:
    return in_process_site(published_db, base_url=PREFIX)


def get(ds: Datasette, path: str) -> str:
    """A page by its path without the prefix: datasette.client puts it in front."""
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response.text


def test_the_event_list_links_each_event_under_the_prefix(ds: Datasette) -> None:
    links = re.findall(r'href="([^"]*/events/events/[^"]+)"', get(ds, "/events/event_list"))
    assert links
    assert all(link.startswith(f"{PREFIX}events/events/") for link in links), links


def test_the_maps_popups_link_under_the_prefix(ds: Datasette) -> None:
    rows = asyncio.run(ds.client.get("/events/event_list.json?_shape=array&_size=max")).json()
    place = next(row["place_id"] for row in rows if row["place_id"])
    popups = asyncio.run(ds.client.get(f"/-/map/events.json?place={place}")).json()["popups"]
    assert popups
    assert all(popup["link"].startswith(f"{PREFIX}events/events/") for popup in popups)


@pytest.mark.parametrize("feed", ["event_feed", "release_feed"])
def test_the_feeds_entries_link_under_the_prefix(ds: Datasette, feed: str) -> None:
    parsed = feedparser.parse(get(ds, f"/events/{feed}.atom"))
    links = [entry.link for entry in parsed.entries if entry.get("link")]
    assert links
    assert all(f"{PREFIX}events/" in link for link in links), links


def test_a_followed_subjects_feed_links_under_the_prefix(ds: Datasette) -> None:
    rows = asyncio.run(ds.client.get("/events/event_list.json?_shape=array&_size=1")).json()
    parsed = feedparser.parse(get(ds, f"/-/follow/type/{rows[0]['event_type']}.atom"))
    assert parsed.entries
    assert all(f"{PREFIX}events/events/" in entry.link for entry in parsed.entries)


def test_the_calendars_events_link_under_the_prefix(ds: Datasette) -> None:
    calendar = icalendar.Calendar.from_ical(get(ds, "/events/calendar.ics"))
    urls = [str(event["url"]) for event in calendar.walk("VEVENT")]
    assert urls
    assert all(f"{PREFIX}events/events/" in url for url in urls)


def test_the_search_query_links_its_results_under_the_prefix(ds: Datasette) -> None:
    links = re.findall(r'href="([^"]*/events/(?:actors|places|events)/[^"]+)"', get(ds, "/events/search?q=Damascus"))
    assert links
    assert all(link.startswith(PREFIX) for link in links), links
