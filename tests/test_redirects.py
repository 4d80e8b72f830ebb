"""Stable links: a renamed event's old id, the changes feeds and what a release's feed counts.

A throwaway git repository of the valid fixture is released, then gains two
events, one of which is re-dated and so renamed (its old id kept in
`aliases`) and the other deleted again, and is released a second time. The
site of that release, in process, is asked for the old id, and both Atom
feeds are read with feedparser and every link in them followed.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
from datasette.app import Datasette

from loader.citation import SITE_SETTINGS
from loader.release.cut import ReleaseResult, release
from loader.site.worker import site_options
from tests.support.git import commit_all, git, released_sources

FIXTURES = Path(__file__).parent / "fixtures"
PERMALINK = "https://events.example.org"
OLD_ID = "2025-09-strike-near-damascus"
NEW_ID = "2025-08-strike-near-damascus"
DROPPED = "2025-09-strike-entered-twice"


def event(id_: str, month: str, title: str, aliases: list[str] | None = None) -> dict:
    last_day = {"08": "31", "09": "30"}[month]
    record = {
        "id": id_,
        "title": title,
        "summary": "A strike near the Syrian capital.",
        "event_type": "airstrike",
        "start_date": f"2025-{month}-01",
        "end_date": f"2025-{month}-{last_day}",
        "date_precision": "month",
        "place_id": "damascus",
        "documents": [{"document_id": "newarab-paris-meeting", "paragraphs": ["2:9ae4d6bf"]}],
    }
    if aliases:
        record["aliases"] = aliases
    return record


def write_events(sources: Path, *events: dict) -> None:
    # JSON is YAML: the records as they are, quoted.
    (sources / "events" / "later.yml").write_text(json.dumps({"events": list(events)}, indent=1), encoding="utf-8")


@pytest.fixture(scope="module")
def second_release(tmp_path_factory: pytest.TempPathFactory) -> ReleaseResult:
    directory = tmp_path_factory.mktemp("renamed")
    sources, _ = released_sources(directory)
    write_events(
        sources,
        event(OLD_ID, "09", "A strike near Damascus"),
        event(DROPPED, "09", "A strike near Damascus, entered twice"),
    )
    commit_all(sources, "A strike near Damascus", date="2026-01-06T09:00:00+00:00")
    write_events(sources, event(NEW_ID, "08", "A strike near Damascus", aliases=[OLD_ID]))
    git(sources, "commit", "-q", "-am", "Re-date the strike; drop its duplicate", date="2026-01-07T09:00:00+00:00")
    return release(sources, directory / "none.db", directory / "dist", released="2026-01-07")


@pytest.fixture(scope="module")
def ds(second_release: ReleaseResult) -> Datasette:
    options = site_options()
    options["metadata"]["plugins"][SITE_SETTINGS] = {"permalink": PERMALINK + "/"}
    return Datasette([], immutables=[str(second_release.directory / "events.db")], **options)


@pytest.fixture(scope="module")
def prefixed(second_release: ReleaseResult) -> Datasette:
    """The same site served under a path prefix (base_url), which reaches the
    site's own code with the request's path, before Datasette strips it."""
    options = site_options()
    options["settings"] = {**options["settings"], "base_url": "/prefix/"}
    return Datasette([], immutables=[str(second_release.directory / "events.db")], **options)


def get(ds: Datasette, path: str) -> httpx.Response:
    return asyncio.run(ds.client.get(path))


def test_an_old_id_redirects_to_its_event(ds: Datasette) -> None:
    for suffix, query in (("", ""), (".json", "?_shape=object")):
        response = get(ds, f"/events/events/{OLD_ID}{suffix}{query}")
        assert response.status_code == 301
        assert response.headers["location"] == f"/events/events/{NEW_ID}{suffix}{query}"
        assert get(ds, response.headers["location"]).status_code == 200
    assert get(ds, "/events/events/2025-09-never-an-event").status_code == 404


def test_an_old_id_redirects_to_its_event_under_the_prefix(prefixed: Datasette) -> None:
    response = get(prefixed, f"/events/events/{OLD_ID}")
    assert response.status_code == 301
    assert response.headers["location"] == f"/prefix/events/events/{NEW_ID}"


def test_an_event_page_shows_its_history_under_former_ids(ds: Datasette) -> None:
    page = get(ds, f"/events/events/{NEW_ID}").text
    history = page[page.index('id="history"') :]
    # The commit that added it under its old id, and the one that renamed it.
    assert "A strike near Damascus</td>" in history and "Re-date the strike; drop its duplicate" in history
    assert f"<strong>id</strong>: {OLD_ID} → {NEW_ID}" in history


def feed(ds: Datasette, name: str) -> feedparser.FeedParserDict:
    response = get(ds, f"/events/{name}.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/atom+xml"
    parsed = feedparser.parse(response.text)
    assert parsed.version == "atom10" and not parsed.bozo
    return parsed


@pytest.mark.parametrize("name", ["event_feed", "release_feed"])
def test_every_feed_link_is_absolute_and_answers_without_a_redirect(ds: Datasette, name: str) -> None:
    parsed = feed(ds, name)
    title = ds.table_metadata("events", name)["title"]
    assert parsed.feed.title.startswith(title) and "select" not in parsed.feed.title.lower()
    links = [link.href for link in parsed.feed.links] + [entry.link for entry in parsed.entries]
    assert links and all(link.startswith(PERMALINK + "/") for link in links), links
    for link in links:
        parts = urlsplit(link)
        status = get(ds, parts.path + (f"?{parts.query}" if parts.query else "")).status_code
        assert status in (200, 410), (link, status)


def test_a_release_feed_counts_what_the_release_holds(ds: Datasette, second_release: ReleaseResult) -> None:
    added = json.loads((second_release.directory / "changes.json").read_text())["tables"]["events"]["added"]
    assert added == [NEW_ID]
    entries = [e for e in feed(ds, "release_feed").entries if e.title.startswith(f"Release {second_release.version}:")]
    assert [e.title for e in entries] == [f"Release {second_release.version}: new event: A strike near Damascus"]
    assert entries[0].link == f"{PERMALINK}/events/events/{NEW_ID}"


def test_the_changes_page_lists_current_ids(second_release: ReleaseResult) -> None:
    conn = sqlite3.connect(second_release.directory / "events.db")
    try:
        listed = {row[0] for row in conn.execute("select event_id from event_feed where event_id is not null")}
        current = {row[0] for row in conn.execute("select id from events")}
    finally:
        conn.close()
    assert NEW_ID in listed and OLD_ID not in listed
    # The duplicate never reached a release: its history is the one place it is.
    assert listed - current == {DROPPED}
