"""The site of a release, in process: each event's history, withdrawn ids
answered with their replacement, and the Atom feeds,
read with feedparser. The sources are a throwaway git repository made here,
released twice."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import feedparser
import httpx
import pytest
from datasette.app import Datasette

from loader.release.cut import ReleaseResult, release
from tests.support.git import commit_all, released_sources
from tests.support.site import in_process_site

FIXTURES = Path(__file__).parent / "fixtures"
RENAMED = "2025-07-strikes-on-damascus"
REPLACEMENT = "2025-07-israeli-strikes-on-damascus"
CHANGED = "2025-08-19-paris-shaibani-dermer"


def release_twice(directory: Path, fresh_clone: bool = False) -> tuple[ReleaseResult, ReleaseResult]:
    """Release the valid fixture, commit the bookkeeping, change the records,
    commit, release again; with fresh_clone, the first release's directory is
    gone by then, as in a new clone, so the second rebuilds it from git."""
    sources, first = released_sources(directory)
    shutil.copy(FIXTURES / "release" / "paris.yml", sources / "events" / "paris.yml")
    shutil.copy(FIXTURES / "release" / "withdrawals.yml", sources / "withdrawals.yml")
    shutil.copy(FIXTURES / "release" / "relations.yml", sources / "relations.yml")
    commit_all(sources, "Rename the July strikes; Barrack mediates", date="2026-01-06T09:00:00+00:00")
    if fresh_clone:
        shutil.rmtree(first.directory)
    second = release(sources, directory / "none.db", directory / "dist", released="2026-01-07")
    return first, second


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseResult, ReleaseResult]:
    return release_twice(tmp_path_factory.mktemp("released"))


@pytest.fixture(scope="module")
def ds(released: tuple[ReleaseResult, ReleaseResult]) -> Datasette:
    return in_process_site(released[1].directory / "events.db")


def fetch(ds: Datasette, path: str, status: int = 200) -> httpx.Response:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    return response


def test_versions_come_from_the_commits(released: tuple[ReleaseResult, ReleaseResult]) -> None:
    assert [r.version for r in released] == ["2026.01.05", "2026.01.06"]
    changes = json.loads((released[1].directory / "changes.json").read_text())
    assert changes["previous"] == "2026.01.05"
    assert changes["tables"]["events"]["added"] == [REPLACEMENT]


def test_without_dist_the_previous_release_is_rebuilt_from_git(
    released: tuple[ReleaseResult, ReleaseResult], tmp_path: Path
) -> None:
    _, second = release_twice(tmp_path, fresh_clone=True)
    # The same commits (same content, names and dates) in another clone: the
    # same release, byte for byte, changes since the first included.
    assert (second.directory / "SHA256SUMS").read_bytes() == (released[1].directory / "SHA256SUMS").read_bytes()
    assert sorted(p.name for p in second.directory.parent.iterdir()) == ["event-store-2026.01.06"]


def test_the_event_page_shows_its_history(ds: Datasette) -> None:
    page = fetch(ds, f"/events/events/{CHANGED}").text
    history = page[page.index('id="history"') :]
    assert "Rename the July strikes; Barrack mediates" in history and "First records" in history
    assert "<strong>status</strong>: disputed → confirmed" in history


def test_a_withdrawn_id_says_so_and_links_its_replacement(ds: Datasette) -> None:
    page = fetch(ds, f"/events/events/{RENAMED}", status=410).text
    assert "was withdrawn" in page and "2025-10-02" in page and "Renamed to say whose strikes they were." in page
    assert f'href="/events/events/{REPLACEMENT}"' in page
    fetch(ds, "/events/events/never-published", status=404)
    gone = fetch(ds, f"/events/events/{RENAMED}.json", status=410).json()
    assert gone["withdrawal"] == {
        "table_name": "events",
        "id": RENAMED,
        "withdrawn": "2025-10-02",
        "reason": "Renamed to say whose strikes they were.",
        "replaced_by": REPLACEMENT,
    }


def test_the_commit_feed_lists_the_changed_events(ds: Datasette) -> None:
    feed = feedparser.parse(fetch(ds, "/events/event_feed.atom").text)
    assert feed.version == "atom10" and not feed.bozo
    titles = [entry.title for entry in feed.entries]
    assert "Changed event: Shaibani and Dermer meet in Paris" in titles
    assert "New event: Israeli strikes on Damascus" in titles
    assert f"Removed event: {RENAMED}" in titles
    changed = next(e for e in feed.entries if e.title.startswith("Changed event"))
    assert changed.link.endswith(f"/events/events/{CHANGED}")
    assert "status" in changed.summary and "summary" in changed.summary


def test_the_release_feed_groups_changes_by_release(ds: Datasette) -> None:
    feed = feedparser.parse(fetch(ds, "/events/release_feed.atom").text)
    assert not feed.bozo
    titles = {entry.title for entry in feed.entries}
    assert "Release 2026.01.06: changed event: Shaibani and Dermer meet in Paris" in titles
    assert "Release 2026.01.06: new event: Israeli strikes on Damascus" in titles
    assert f"Release 2026.01.06: removed event: {RENAMED}" in titles
    assert "Release 2026.01.05: new event: Shaibani and Dermer meet in Paris" in titles
    assert "Dataset version 2026.01.06, released 2026-01-07" in titles
