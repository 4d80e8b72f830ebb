"""Relations, processes, feeds and the embed card as the site serves them, in
process, over the published fixture with tests/fixtures/relations/site added:
a process of two numbered rounds, one following the other, and a response."""

from __future__ import annotations

import asyncio
import html as markup
import re
import shutil
import sqlite3
from pathlib import Path

import feedparser
import pytest
from datasette.app import Datasette

from loader.build.database import build
from loader.citation import site_permalink
from tests.conftest import FIXTURES, published_sources
from tests.support.site import in_process_site, page_text

PROCESS = "2025-sharaa-dermer-contacts"
PARIS = "2025-08-19-paris-shaibani-dermer"
DAMASCUS = "2025-08-sharaa-barrack-damascus"
SWEIDA = "2025-07-sweida-clashes"


def related_sources(target: Path) -> Path:
    """The published fixture with the site's relations; for the browser tests too."""
    published_sources(target)
    shutil.copy(FIXTURES / "relations" / "site" / "relations.yml", target / "relations.yml")
    return target


@pytest.fixture(scope="module")
def related_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("related")
    db = directory / "events.db"  # the name metadata.yml describes
    build(related_sources(directory / "sources"), db)
    return db


@pytest.fixture(scope="module")
def ds(related_db: Path) -> Datasette:
    return in_process_site(related_db)


def words(html: str) -> str:
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_each_relation_is_said_in_words_on_both_events_pages(ds: Datasette) -> None:
    paris = words(page_text(ds, f"/events/events/{PARIS}"))
    assert "The second round of Indirect contacts through the year (2025)" in paris
    assert "Follows Barrack meets al-Sharaa in Damascus (August to September 2025, Damascus)" in paris
    assert "Responds to Clashes and strikes in Sweida" in paris
    assert "Says Officials meet in Paris ¶ 4 : The article places the meeting" in paris
    damascus = words(page_text(ds, f"/events/events/{DAMASCUS}"))
    assert "The first round of Indirect contacts through the year" in damascus
    assert "Followed by Shaibani and Dermer meet in Paris (19 August 2025, Paris)" in damascus
    assert "Inferred by the curators: It came after the Damascus meeting" in damascus
    assert "Answered by Shaibani and Dermer meet in Paris" in words(page_text(ds, f"/events/events/{SWEIDA}"))


def test_a_process_page_lists_its_parts_in_order_with_a_timeline_and_disputes(ds: Datasette) -> None:
    html = page_text(ds, f"/events/events/{PROCESS}")
    process = html[html.index('id="process"') :]
    rows = [words(row) for row in re.findall(r'<tr class="process-part">(.*?)</tr>', process, re.S)]
    assert [row.split(" ", 1)[0] for row in rows] == ["First", "Second"]
    assert rows[0].startswith(
        "First August to September 2025 Barrack meets al-Sharaa in Damascus (part by the curators"
    )
    assert "(part by the curators' inference)" in rows[0]
    assert rows[1].startswith("Second 19 August 2025 Shaibani and Dermer meet in Paris Paris")
    assert "Ron Dermer" in rows[1] and "Tom Barrack" in rows[1]
    assert len(re.findall(r'<a href="/events/events/[^"]+" style="left: ', process)) == 2
    assert "Were these the first direct talks between the two sides?" in process
    assert f'href="/-/follow/process/{PROCESS}.atom"' in process
    # An event that nothing is part of has no process section.
    assert 'id="process"' not in page_text(ds, f"/events/events/{PARIS}")


def feed(ds: Datasette, path: str) -> feedparser.FeedParserDict:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.text)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def test_a_subjects_feed_lists_its_events_only_titled_in_words_with_absolute_links(
    ds: Datasette, related_db: Path
) -> None:
    process = feed(ds, f"/-/follow/process/{PROCESS}.atom")
    assert process.feed.title == "The process: Indirect contacts through the year"
    # On the site's permalink, as every file read away from the site links.
    assert {e.link for e in process.entries} == {
        f"{site_permalink(ds)}/events/events/{id_}" for id_ in (PROCESS, PARIS, DAMASCUS)
    }
    conn = sqlite3.connect(related_db)
    dermer = {row[0] for row in conn.execute("SELECT event_id FROM event_actors WHERE actor_id = 'ron-dermer'")}
    conn.close()
    actor = feed(ds, "/-/follow/actor/ron-dermer.atom")
    assert actor.feed.title == "Events involving Ron Dermer"
    assert {e.link.rsplit("/", 1)[1] for e in actor.entries} == dermer
    assert all(e.summary for e in actor.entries)
    place = feed(ds, "/-/follow/place/damascus.atom")
    assert place.feed.title == "Events in Damascus"
    search = feed(ds, "/-/follow/search.atom?q=Suwayda")
    assert search.feed.title == "Events matching “Suwayda”"
    assert [e.link.rsplit("/", 1)[1] for e in search.entries] == [SWEIDA]
    assert asyncio.run(ds.client.get("/-/follow/actor/no-such-actor.atom")).status_code == 404


def test_subject_pages_link_their_feed(ds: Datasette) -> None:
    for path, feed_path in [
        ("/events/actors/ron-dermer", "/-/follow/actor/ron-dermer.atom"),
        ("/events/places/damascus", "/-/follow/place/damascus.atom"),
        ("/events/event_types/meeting", "/-/follow/type/meeting.atom"),
        ("/events/event_list?_search=Sweida", "/-/follow/search.atom?q=Sweida"),
    ]:
        assert re.search(rf'<p class="follow"><a href="{re.escape(feed_path)}"', page_text(ds, path)), path


def test_the_embed_card_is_plain_html_with_the_events_facts_sources_version_and_link(ds: Datasette) -> None:
    html = page_text(ds, f"/-/embed/{PARIS}")
    assert "<script" not in html.lower() and "<link" not in html.lower()
    text = words(html)
    assert "Shaibani and Dermer meet in Paris" in text and "19 August 2025 · Paris" in text
    assert "Officials meet in Paris, The New Arab" in text and "Syria confirms Paris meeting, The Cradle" in text
    assert "dataset version unreleased" in text
    assert f'href="{site_permalink(ds)}/events/events/{PARIS}"' in html
    assert asyncio.run(ds.client.get("/-/embed/no-such-event")).status_code == 404
