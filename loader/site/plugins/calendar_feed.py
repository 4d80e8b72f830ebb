"""The events as an iCalendar feed (.ics) that calendar programs read as they should.

datasette-ics writes every entry as a date-time at 00:00 UTC with no
DTSTAMP, so an event on 19 August shows in New York from the evening of the
18th, and its entries lack URL, LOCATION and GEO. This renderer writes RFC
5545 with the icalendar library instead: whole-day entries (VALUE=DATE,
DTEND the day after the last possible day, so an event known only to a
month or a year spans it), DTSTAMP from the dataset's build date, and the
event's page, place and point. It renders any query or view with the
columns of the event_calendar view (event_uid, event_name, event_dtstart,
and optionally event_dtend, event_description, event_url, event_location,
event_latitude, event_longitude); add `_plain=1` to read it as text.
"""

from __future__ import annotations

import datetime
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response
from icalendar import Calendar, Event, vGeo

REQUIRED = {"event_uid", "event_name", "event_dtstart"}


def can_render(columns: list[str]) -> bool:
    return REQUIRED <= set(columns)


async def stamp(datasette: Any, database: str) -> datetime.datetime:
    """When the feed's data was made: the build's sources date, so two builds of the
    same sources give the same feed; the current time for a database without one."""
    db = datasette.get_database(database)
    if await db.table_exists("dataset_release"):
        found = (await db.execute("select sources_date from dataset_release")).first()
        if found and found[0]:
            day = datetime.date.fromisoformat(found[0][:10])
            return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def calendar(rows: list[dict], name: str, dtstamp: datetime.datetime, absolute: Any) -> Calendar:
    feed = Calendar()
    feed.add("prodid", "-//event-store//Israel-Syria talks events//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", name)
    for row in rows:
        entry = Event()
        entry.add("uid", row["event_uid"])
        entry.add("dtstamp", dtstamp)
        entry.add("summary", row["event_name"])
        start = datetime.date.fromisoformat(row["event_dtstart"])
        entry.add("dtstart", start)
        end = row.get("event_dtend")
        entry.add("dtend", datetime.date.fromisoformat(end) if end else start + datetime.timedelta(days=1))
        if row.get("event_description"):
            entry.add("description", row["event_description"])
        if row.get("event_url"):
            entry.add("url", absolute(row["event_url"]))
        if row.get("event_location"):
            entry.add("location", row["event_location"])
        if row.get("event_latitude") is not None and row.get("event_longitude") is not None:
            entry.add("geo", vGeo((row["event_latitude"], row["event_longitude"])))
        feed.add_component(entry)
    return feed


async def render(
    datasette: Any, columns: list[str], rows: list, request: Any, database: str, query_name: Any
) -> Response:
    if not can_render(columns):
        # Raised, not returned: Datasette sets a renderer's response to the
        # query's own status, so client_errors.py answers it with a 400.
        raise ValueError("iCalendar needs the columns " + ", ".join(sorted(REQUIRED)))
    name = datasette.metadata("title") or "Events"
    if query_name:
        name = (await datasette.get_canned_query(database, query_name, request.actor) or {}).get("title") or name

    def absolute(path: str) -> str:
        return path if "://" in path else datasette.absolute_url(request, path)

    feed = calendar(
        [dict(zip(columns, row, strict=True)) for row in rows], name, await stamp(datasette, database), absolute
    )
    plain = request.args.get("_plain")
    return Response(
        feed.to_ical().decode("utf-8"),
        content_type="text/plain; charset=utf-8" if plain else "text/calendar; charset=utf-8",
        status=200,
    )


# Last, so that this renderer wins over datasette-ics's where an older
# environment still has that plugin installed: the last renderer of an extension is kept.
@hookimpl(trylast=True)
def register_output_renderer() -> dict:
    return {"extension": "ics", "render": render, "can_render": can_render}
