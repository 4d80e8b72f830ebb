"""A site served under a path prefix (Datasette's base_url, as behind a
proxy that serves it at example.org/prefix/): every link the site makes, in
the event list, the map's popups, the feeds, the calendar, the search and
metadata.yml's descriptions, is under the prefix, because the views give ids
(the popups' links relative to the database's address) and the site makes
the links with Datasette's urls (no site path is written in SQL); and a site
served at its root links exactly as metadata.yml writes."""

from __future__ import annotations

import asyncio
import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import icalendar
import pytest
from datasette.app import Datasette

from loader.metadata import read_metadata
from tests.support.site import in_process_site

PREFIX = "/prefix/"
# The site's public address, as its operator sets the permalink: with the prefix.
PUBLIC = "https://example.org/prefix/"
# Where datasette.client sends a request, for resolving a page's relative links.
ORIGIN = "http://localhost"


@pytest.fixture(scope="module")
def ds(published_db: Path) -> Datasette:
    return in_process_site(published_db, permalink=PUBLIC, base_url=PREFIX)


@pytest.fixture(scope="module")
def at_root(published_db: Path) -> Datasette:
    return in_process_site(published_db)


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
    assert all(link.startswith(f"{PUBLIC}events/") for link in links), links


def test_a_followed_subjects_feed_links_under_the_prefix(ds: Datasette) -> None:
    rows = asyncio.run(ds.client.get("/events/event_list.json?_shape=array&_size=1")).json()
    parsed = feedparser.parse(get(ds, f"/-/follow/type/{rows[0]['event_type']}.atom"))
    assert parsed.entries
    assert all(entry.link.startswith(f"{PUBLIC}events/events/") for entry in parsed.entries)


def test_the_calendars_events_link_under_the_prefix(ds: Datasette) -> None:
    calendar = icalendar.Calendar.from_ical(get(ds, "/events/calendar.ics"))
    urls = [str(event["url"]) for event in calendar.walk("VEVENT")]
    assert urls
    assert all(url.startswith(f"{PUBLIC}events/events/") for url in urls)


def test_the_citation_and_the_geojson_give_the_public_address_once(ds: Datasette) -> None:
    """The permalink holds the prefix, as the site's public address does; the
    site's own paths hold it too, and the absolute links take it once."""
    rows = asyncio.run(ds.client.get("/events/event_list.json?_shape=array&_size=1")).json()
    page = unescape(get(ds, f"/events/events/{rows[0]['id']}"))
    cited = re.findall(r"https://example\.org/[^\s<>\"'}]*", page)
    assert f"{PUBLIC}events/events/{rows[0]['id']}" in cited
    features = json.loads(get(ds, "/events/event_list.geojson"))["features"]
    urls = [feature["properties"]["url"] for feature in features]
    assert urls
    assert all(url.startswith(f"{PUBLIC}events/events/") for url in urls), urls
    assert not any(PREFIX + PREFIX.lstrip("/") in url for url in cited + urls)


def test_the_search_query_links_its_results_under_the_prefix(ds: Datasette) -> None:
    links = re.findall(r'href="([^"]*/events/(?:actors|places|events)/[^"]+)"', get(ds, "/events/search?q=Damascus"))
    assert links
    assert all(link.startswith(PREFIX) for link in links), links


def site_links(page: str, url: str) -> list[str]:
    """The paths on this site that a page's links and sources lead to, resolved
    as a browser resolves them against the page's URL; other sites' are left out."""
    found = (urljoin(url, unescape(value)) for value in re.findall(r'(?:href|src|action)="([^"]*)"', page))
    return [urlsplit(link).path for link in found if urlsplit(link).netloc in ("", "localhost")]


def popup_links(ds: Datasette, path: str) -> list[str]:
    """The map popups' links in a page's JSON rows, resolved against the JSON's URL, as the map resolves them."""
    url = f"{ds.urls.path(path)}.json?_shape=array&_size=max"
    rows = asyncio.run(ds.client.get(path + ".json?_shape=array&_size=max")).json()
    return [urljoin(ORIGIN + url, json.loads(row["popup"])["link"]) for row in rows]


@pytest.mark.parametrize(
    "path",
    ["/", "/events", "/events/event_list", "/events/place_list", "/events/timeline", "/events/calendar", "/-/about"],
)
def test_every_link_of_a_page_is_under_the_prefix(ds: Datasette, path: str) -> None:
    """The home page (metadata.yml's description_html, source and about
    links), the database, the lists, ready-made queries with links in their
    descriptions, and the about page (the description again)."""
    links = site_links(get(ds, path), ORIGIN + ds.urls.path(path))
    assert links
    assert all(link.startswith(PREFIX) for link in links), [link for link in links if not link.startswith(PREFIX)]


def test_metadatas_links_are_as_written_at_the_sites_root(at_root: Datasette) -> None:
    metadata = read_metadata()
    home = get(at_root, "/")
    for link in re.findall(r'href="([^"]*)"', metadata["description_html"]):
        assert f'href="{link}"' in home
    for key in ("source_url", "about_url"):
        assert f'href="{metadata[key]}"' in home
    timeline = get(at_root, "/events/timeline")
    assert 'href="/-/timeline"' in timeline and 'href="/prefix/' not in timeline


@pytest.mark.parametrize("view, table", [("event_list", "events"), ("place_list", "places")])
def test_the_popups_in_a_lists_json_link_its_records_under_the_prefix(ds: Datasette, view: str, table: str) -> None:
    links = popup_links(ds, f"/events/{view}")
    assert links
    assert all(urlsplit(link).path.startswith(f"{PREFIX}events/{table}/") for link in links), links
    for link in links[:3]:
        get(ds, urlsplit(link).path.removeprefix(PREFIX.rstrip("/")))


def test_the_popups_link_their_records_at_the_sites_root(at_root: Datasette) -> None:
    links = popup_links(at_root, "/events/event_list")
    assert links
    assert all(urlsplit(link).path.startswith("/events/events/") for link in links), links
    get(at_root, urlsplit(links[0]).path)


@pytest.mark.parametrize("ds_name, prefix", [("ds", PREFIX), ("at_root", "/")])
def test_a_popup_cell_links_its_record_from_ones_own_query(
    request: pytest.FixtureRequest, ds_name: str, prefix: str
) -> None:
    """The database's SQL page is at the database's address itself, not beside
    it: the popup cell's link is resolved by the site, not left to the browser."""
    site = request.getfixturevalue(ds_name)
    page = get(site, "/events?sql=" + "select+popup+from+event_list+limit+3")
    links = re.findall(r'<td class="col-popup[^>]*><a href="([^"]+)"', page)
    assert len(links) == 3
    assert all(link.startswith(f"{prefix}events/events/") for link in links), links


def test_the_maps_tiles_are_under_the_prefix(ds: Datasette, at_root: Datasette) -> None:
    tiles = r'DATASETTE_CLUSTER_MAP_TILE_LAYER = "([^"]+)"'
    assert re.findall(tiles, get(ds, "/events/place_list"))[-1] == f"{PREFIX}-/tiles/basemap/{{z}}/{{x}}/{{y}}.png"
    assert re.findall(tiles, get(at_root, "/events/place_list"))[-1] == "/-/tiles/basemap/{z}/{x}/{y}.png"
