"""plugins/calendar_feed.py: a calendar a person would subscribe to.

The published fixture has an event at every date precision; one event is
made to last 100 days, known to the day. The feed and the event page's "add
to a calendar" file are read with icalendar and checked against the
database: a bar only for what is known to the day and lasts a few days,
everything else one day, marked."""

from __future__ import annotations

import asyncio
import datetime
import html
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar

from loader import PROJECT_ROOT
from loader.citation import metadata_permalink
from tests.support.generated import query
from tests.support.site import in_process_site

MAX_SPAN_DAYS = 14
# Absolute links are on the site's permalink base, which metadata.yml sets.
BASE = metadata_permalink(yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text())) or ""
LONG_DAYS = 100


@pytest.fixture(scope="module")
def calendar_db(published_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published fixture, with its first day-precision event made to last LONG_DAYS days."""
    db = tmp_path_factory.mktemp("calendar") / "events.db"
    shutil.copy(published_db, db)
    with closing(sqlite3.connect(db)) as conn:
        (event, start) = conn.execute(
            "SELECT id, start_date FROM events WHERE date_precision = 'day' ORDER BY rowid LIMIT 1"
        ).fetchone()
        end = datetime.date.fromisoformat(start) + datetime.timedelta(days=LONG_DAYS - 1)
        conn.execute("UPDATE events SET end_date = ? WHERE id = ?", [end.isoformat(), event])
        conn.commit()
    return db


def get(db: Path, path: str) -> bytes:
    async def run() -> bytes:
        response = await in_process_site(db).client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        return response.content

    return asyncio.run(run())


def events(db: Path) -> dict[str, dict]:
    sql = "SELECT id, title, date_label, date_precision, start_date, end_date FROM event_list"
    return {
        row[0]: dict(zip(["id", "title", "label", "precision", "start", "end"], row, strict=True))
        for row in query(db, sql)
    }


def check_entry(entry: Any, event: dict) -> None:
    """An entry shows the event as a calendar can honestly: its days, or its first day marked."""
    start, end = entry.decoded("dtstart"), entry.decoded("dtend")
    first, last = datetime.date.fromisoformat(event["start"]), datetime.date.fromisoformat(event["end"])
    days = (last - first).days + 1
    summary, description = str(entry["summary"]), str(entry.get("description", ""))
    assert isinstance(start, datetime.date) and not isinstance(start, datetime.datetime)
    assert start == first
    if event["precision"] == "day" and days <= MAX_SPAN_DAYS:
        assert (end - start).days == days and summary == event["title"]
    elif event["precision"] == "days":
        assert (end - start).days == days <= 7
        assert summary == f"{event['title']} (date uncertain: {event['label']})"
        assert description.startswith(f"Date uncertain: {event['label']}; shown across the days")
    elif event["precision"] == "day":
        assert (end - start).days == 1
        assert summary == f"{event['title']} (begins; lasts until {last.day} {last:%B %Y})"
        assert description.startswith(f"Lasts {days} days")
    else:
        assert (end - start).days == 1
        assert summary == f"{event['title']} (date uncertain: {event['label']})"
        assert description.startswith(f"Date uncertain: known only as {event['label']}")
    assert str(entry["url"]) == f"{BASE}/events/events/{event['id']}"
    assert str(entry["transp"]) == "TRANSPARENT"  # news, not the subscriber's own appointment


def test_the_feed_shows_a_span_only_for_what_is_known_to_the_day_and_short(calendar_db: Path) -> None:
    """Every event once; no entry longer than two weeks; the days event
    across its days and the week, month and year events on their first
    possible day, all marked "date uncertain"; the 100-day event on its
    first day, "begins"."""
    known = events(calendar_db)
    feed = Calendar.from_ical(get(calendar_db, "/events/calendar.ics"))
    entries = feed.walk("VEVENT")
    assert sorted(str(entry["uid"]).removesuffix("@event-store") for entry in entries) == sorted(known)
    for entry in entries:
        check_entry(entry, known[str(entry["uid"]).removesuffix("@event-store")])
        assert (entry.decoded("dtend") - entry.decoded("dtstart")).days <= MAX_SPAN_DAYS
    precisions = {event["precision"] for event in known.values()}
    assert {"day", "days", "week", "month", "year"} <= precisions
    assert any("(begins; lasts until" in str(entry["summary"]) for entry in entries)


def test_add_to_a_calendar_on_an_event_page_is_marked_the_same_way(calendar_db: Path) -> None:
    """The event page's own .ics link, for an event of each precision."""
    known = events(calendar_db)
    chosen: dict[str, dict] = {}
    for event in known.values():
        chosen.setdefault(event["precision"], event)
    for event in chosen.values():
        page = get(calendar_db, f"/events/events/{event['id']}").decode("utf-8")
        (link,) = re.findall(r'<a href="([^"]+)">add to a calendar \(\.ics\)</a>', page)
        (entry,) = Calendar.from_ical(get(calendar_db, html.unescape(link))).walk("VEVENT")
        check_entry(entry, event)
