"""The events as an iCalendar feed (.ics) that a person would subscribe to.

datasette-ics writes every entry as a date-time at 00:00 UTC with no
DTSTAMP, so an event on 19 August shows in New York from the evening of the
18th, and its entries lack URL, LOCATION and GEO. This renderer writes RFC
5545 with the icalendar library instead: whole-day entries (VALUE=DATE),
DTSTAMP from the dataset's build date, and the event's page (an absolute
URL, see loader.site.downloads), place and point. Every entry is TRANSP:TRANSPARENT:
an event in the news is not the subscriber's own appointment and must not
make them look busy.

A calendar shows a span as a bar on every one of its days, which is honest
only for what happened on each of them, or for a short choice of days. So
an entry spans its days only when the event is known to the day
(`date_precision` 'day') and lasts at most MAX_SPAN_DAYS, or is known to be
on one of a few days ('days', a week at most: schema.sql bounds it), then
marked "(date uncertain: between 5 and 6 January 2026)"; otherwise it is
one all-day entry on the first day it can have been:

- an event known only to a week, a month or a year is marked in its title
  "(date uncertain: July 2025)", with the same words first in its
  description: it was not on that day, and the entry says so, rather than a
  bar across the whole month (the feed had 43 of 50 entries longer than two
  weeks, up to 427 days, and the 1973 war as a year-long bar);
- an event known to the day that lasts longer is marked "(begins; lasts
  until 30 August 2025)".

The precision and the date in words come from the event_list view by the
rows' `id` (the event_calendar view, and so the calendar query and the
event page's "add to a calendar", carry it); a query with no `id` column is
judged by its span alone.

Downloads are whole: the calendar query's feed holds every event, however
many, read MAX_ROWS at a time (Datasette's canned query would stop at its
row limit with no word of it) and written as it is read; a table page's
feed with `_stream=on` holds every row that matches, page after page. A
file that holds only part (a page of a table without `_stream=on`, or a
visitor's own SQL past the row limit) says so in the calendar's description.

It renders any query or view with the columns of the event_calendar view
(event_uid, event_name, event_dtstart, and optionally event_dtend,
event_description, event_url, event_location, event_latitude,
event_longitude, id); an event's row with no event_url links the event's
page, made by the site; add `_plain=1` to read it as text.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response
from icalendar import Calendar, Event, vGeo

from loader.site.downloads import (
    PAGING_ARGS,
    StreamedResponse,
    absolute_url,
    event_path,
    later_pages,
    wants_stream,
    with_args,
)

REQUIRED = {"event_uid", "event_name", "event_dtstart"}
MAX_SPAN_DAYS = 14  # the longest bar a calendar shows for an event known to the day
END = b"END:VCALENDAR\r\n"
Dating = dict[str, tuple[str, str]]  # an event's id: (its date in words, its date precision)


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


async def dating(datasette: Any, database: str, rows: Sequence[dict]) -> Dating:
    """Each row's event's date in words and precision, by its id, from the event_list view."""
    ids = [str(row["id"]) for row in rows if row.get("id") is not None]
    if not ids:
        return {}
    db = datasette.get_database(database)
    if "event_list" not in await db.view_names():
        return {}
    found = await db.execute(
        f"select id, date_label, date_precision from event_list where id in ({', '.join('?' for _ in ids)})", ids
    )
    return {row["id"]: (row["date_label"], row["date_precision"]) for row in found.rows}


def entry(
    row: dict, dtstamp: datetime.datetime, absolute: Callable[[str], str], link: Callable[[str], str], dated: Dating
) -> Event:
    """One row as a VEVENT: its span when a calendar can show it honestly, else
    its first day, marked; an event's row links its page (`link` of its id)."""
    start = datetime.date.fromisoformat(row["event_dtstart"])
    end = datetime.date.fromisoformat(row["event_dtend"]) if row.get("event_dtend") else start
    end = max(end, start + datetime.timedelta(days=1))  # DTEND is the day after the last
    label, precision = dated.get(str(row.get("id")), (None, None))
    days = (end - start).days
    summary, note = row["event_name"], None
    if precision == "days":
        summary += f" (date uncertain: {label})"
        note = f"Date uncertain: {label}; shown across the days it can have been on."
    elif precision not in (None, "day"):
        summary += f" (date uncertain: {label})"
        note = f"Date uncertain: known only as {label}; shown on the first day it can have been."
        end = start + datetime.timedelta(days=1)
    elif days > MAX_SPAN_DAYS:
        last = end - datetime.timedelta(days=1)
        until = f"{last.day} {last:%B %Y}"
        summary += f" (begins; lasts until {until})"
        note = f"Lasts {days} days, {label or start.isoformat()}; shown on its first day only."
        end = start + datetime.timedelta(days=1)
    event = Event()
    event.add("uid", row["event_uid"])
    event.add("dtstamp", dtstamp)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("transp", "TRANSPARENT")
    description = "\n\n".join(part for part in (note, row.get("event_description")) if part)
    if description:
        event.add("description", description)
    if page := row.get("event_url") or (link(str(row["id"])) if str(row.get("id")) in dated else None):
        event.add("url", absolute(page))
    if row.get("event_location"):
        event.add("location", row["event_location"])
    if row.get("event_latitude") is not None and row.get("event_longitude") is not None:
        event.add("geo", vGeo((row["event_latitude"], row["event_longitude"])))
    return event


def calendar_head(name: str, part: str | None) -> bytes:
    """The VCALENDAR's own lines, up to its first entry; part says what a partial file holds."""
    feed = Calendar()
    feed.add("prodid", "-//event-store//Israel-Syria talks events//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", name)
    if part:
        feed.add("description", part)  # RFC 7986
        feed.add("x-wr-caldesc", part)  # what Apple's and Google's calendars show
    text = feed.to_ical()
    assert text.endswith(END)
    return text[: -len(END)]


def partial(request: Any, data: dict, returned: int, absolute: Callable[[str], str]) -> str | None:
    """What a file holding part of the rows says; None when it holds them all."""
    if data.get("next"):
        matched = data.get("filtered_table_rows_count")
        everything = absolute(with_args(request, ".ics", PAGING_ARGS - {"_plain"}, [("_stream", "on")]))
        return (
            f"This file holds {returned:,} entries"
            + (f" of {matched:,}" if matched is not None else "")
            + f", one page; every entry is in {everything}"
        )
    if data.get("truncated"):
        return (
            f"This file holds the first {returned:,} entries of the query, the most the site returns at once; "
            "the calendar query's own feed holds every event."
        )
    return None


async def canned_pages(datasette: Any, database: str, data: dict, size: int) -> AsyncIterator[list[dict]]:
    """The rows of a canned query past its first `size`, `size` at a time, on the
    same connections and limits as the query (its SQL is the site's own)."""
    db = datasette.get_database(database)
    sql, params = data["query"]["sql"], dict(data["query"].get("params") or {})
    offset = size
    while True:
        page = await db.execute(
            f"select * from ({sql}) limit :_page_size offset :_page_offset",
            {**params, "_page_size": size, "_page_offset": offset},
        )
        if not page.rows:
            return
        yield [dict(row) for row in page.rows]
        offset += size


async def render(
    datasette: Any,
    columns: list[str],
    rows: list,
    request: Any,
    database: str,
    query_name: Any,
    data: dict,
) -> Response:
    if not can_render(columns):
        # Raised, not returned: Datasette sets a renderer's response to the
        # query's own status, so client_errors.py answers it with a 400.
        raise ValueError("iCalendar needs the columns " + ", ".join(sorted(REQUIRED)))
    name = datasette.metadata("title") or "Events"
    if query_name:
        name = (await datasette.get_canned_query(database, query_name, request.actor) or {}).get("title") or name
    dtstamp = await stamp(datasette, database)

    def absolute(path: str) -> str:
        return absolute_url(datasette, request, path)

    def event_page(event_id: str) -> str:
        return event_path(datasette, event_id)

    async def entries(page: list[dict]) -> bytes:
        dated = await dating(datasette, database, page)
        return b"".join(entry(row, dtstamp, absolute, event_page, dated).to_ical() for row in page)

    first = [dict(zip(columns, row, strict=True)) for row in rows]
    content_type = "text/plain; charset=utf-8" if request.args.get("_plain") else "text/calendar; charset=utf-8"
    more: AsyncIterator[list[dict]] | None = None
    if query_name and data.get("truncated"):
        more = canned_pages(datasette, database, data, len(first))
    elif wants_stream(request, data):
        more = later_pages(datasette, request, str(data["next"]), "iCalendar")
    if more is None:
        head = calendar_head(name, partial(request, data, len(first), absolute))
        return Response(head + await entries(first) + END, content_type=content_type)
    pages = more

    async def write_all(writer: Any) -> None:
        await writer.write(calendar_head(name, None).decode("utf-8"))
        await writer.write((await entries(first)).decode("utf-8"))
        async for page in pages:
            await writer.write((await entries(page)).decode("utf-8"))
        await writer.write(END.decode("utf-8"))

    return StreamedResponse(write_all, content_type=content_type)


# Last, so that this renderer wins over datasette-ics's where an older
# environment still has that plugin installed: the last renderer of an extension is kept.
@hookimpl(trylast=True)
def register_output_renderer() -> dict:
    return {"extension": "ics", "render": render, "can_render": can_render}
