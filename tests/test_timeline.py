"""The timeline and the overview at more events than one page holds: the
fixture with 700 generated ACLED events imported beside it, served in
process. Expected values come from SQL on the same file (the events, and
the build's own tables counted again live)."""

from __future__ import annotations

import asyncio
import calendar
import json
import re
import shutil
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette

from loader.site.plugins.timeline import column_label, month_label
from tests.support.generated import generated_db
from tests.support.generated import query as sql
from tests.support.site import in_process_site
from tests.support.site import page_text as page

EVENTS = 700


@pytest.fixture(scope="module")
def imported_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_db(tmp_path_factory.mktemp("timeline"), EVENTS)


@pytest.fixture(scope="module")
def ds(imported_db: Path) -> Datasette:
    return in_process_site(imported_db)


def ids(text: str) -> list[str]:
    return re.findall(r'<tr class="event" data-id="([^"]+)"', text)


def link(text: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', text)
    return found.group(1).replace("&amp;", "&") if found else None


def test_pages_list_every_event_once_in_order_and_link_back(ds: Datasette, imported_db: Path) -> None:
    expected = [i for (i,) in sql(imported_db, "select id from events order by start_date, end_date, id")]
    pages: list[tuple[str, str]] = []
    path: str | None = "/-/timeline"
    while path:
        text = page(ds, path)
        pages.append((path, text))
        path = link(text, "next")
    seen = [i for _, text in pages for i in ids(text)]
    assert seen == expected
    assert len(pages) > 2 and all(0 < len(ids(text)) <= 200 for _, text in pages)
    assert link(pages[0][1], "prev") is None
    for (before, before_text), (_, text) in zip(pages, pages[1:], strict=False):
        earlier = link(text, "prev")
        assert earlier is not None and ids(page(ds, earlier)) == ids(before_text), before


def test_a_bar_lists_the_events_it_counts_and_names_the_overlap_count(ds: Datasette, imported_db: Path) -> None:
    """Issue 27: a bar's click listed from its month onward, and its number
    disagreed unlabelled with the From/To filter's for the same month."""
    text = page(ds, "/-/timeline")
    months = re.findall(r'data-month="(\d{4}-\d{2})" data-count="(\d+)"', text)
    busy, count = next((m, int(count)) for m, count in months[len(months) // 2 :] if int(count))
    assert f"month={busy}" in text
    month_page = page(ds, f"/-/timeline?{urlencode({'month': busy})}")
    began = [
        i
        for (i,) in sql(
            imported_db,
            "select id from events where substr(start_date, 1, 7) = ? order by start_date, end_date, id",
            (busy,),
        )
    ]
    assert ids(month_page) == began and len(began) == count
    # The From/To filter's number for the same month is on the page, labelled, and is what that filter lists.
    first, last = f"{busy}-01", f"{busy}-{calendar.monthrange(int(busy[:4]), int(busy[5:]))[1]:02d}"
    overlap = sql(imported_db, "select count(*) from events where end_date >= ? and start_date <= ?", (first, last))
    (overlapping,) = overlap[0]
    if overlapping > count:
        assert f"{overlapping} events were (or may have been) under way" in month_page
        assert f"from_date={first}&amp;to_date={last}" in month_page
    assert f"{overlapping} events whose dates overlap {first} to {last}" in page(
        ds, f"/-/timeline?{urlencode({'from_date': first, 'to_date': last})}"
    )


def test_chart_counts_every_month_from_the_first_to_the_last(ds: Datasette, imported_db: Path) -> None:
    text = page(ds, "/-/timeline")
    drawn = [(m, int(c)) for m, c in re.findall(r'data-month="(\d{4}-\d{2})" data-count="(\d+)"', text)]
    live = Counter(
        m for (m,) in sql(imported_db, "select substr(start_date, 1, 7) from events where date_precision <> 'year'")
    )
    assert [m for m, _ in drawn][0] == min(live) and [m for m, _ in drawn][-1] == max(live)
    assert dict(drawn) == {m: live.get(m, 0) for m, _ in drawn}
    years = [int(m[:4]) * 12 + int(m[5:]) for m, _ in drawn]
    assert years == list(range(years[0], years[0] + len(years)))  # no month left out
    one_year = page(ds, "/-/timeline?from_date=2020&to_date=2020")
    assert re.findall(r'data-month="(\d{4}-\d{2})"', one_year) == [f"2020-{m:02d}" for m in range(1, 13)]


def test_overview_rows_are_the_busiest_and_the_rest_summed(ds: Datasette, imported_db: Path) -> None:
    text = page(ds, "/-/overview")
    chart = text[text.index('class="overview-chart grid grid-actor"') :]
    chart = chart[: chart.index("</svg>")]
    live = sql(
        imported_db,
        "select a.name, substr(e.start_date, 1, 7), count(distinct e.id) from events e"
        " join event_actors ea on ea.event_id = e.id join actors a on a.id = ea.actor_id"
        " where e.date_precision <> 'year' group by a.id, 2",
    )
    totals: Counter[str] = Counter()
    for name, _, count in live:
        totals[name] += count
    busiest = sorted(totals, key=lambda name: (-totals[name], name))
    assert len(busiest) > 13
    shown = re.findall(r'text-anchor="end">([^<]+) \((\d+)\)</text>', chart)
    assert [(name, int(total)) for name, total in shown[:12]] == [(n, totals[n]) for n in busiest[:12]]
    assert shown[12] == (f"{len(busiest) - 12} others", str(sum(totals[n] for n in busiest[12:])))
    # A square names its count in words a screen reader says: "1 event", "2 events".
    labels = re.findall(r'aria-label="[^"]*: (\d+) (events?)"', text)
    assert labels and all((n == "1") == (word == "event") for n, word in labels)
    assert any(n == "1" for n, _ in labels)
    # Nine years of generated events are more months than a chart shows: its columns are years.
    bars = dict(re.findall(r'class="bar" data-month="([^"]*)" data-count="(\d+)"', text))
    years = sql(
        imported_db,
        "select substr(start_date, 1, 4), count(*) from events where date_precision <> 'year' group by 1",
    )
    assert len(years) > 4 and {year: int(count) for year, count in bars.items()} == dict(years)


def test_actor_pairs_are_the_pairs_of_the_events(imported_db: Path) -> None:
    live = sql(
        imported_db,
        "select a.actor_id, b.actor_id, count(distinct a.event_id), min(e.start_date), max(e.start_date)"
        " from event_actors a join event_actors b on b.event_id = a.event_id and a.actor_id < b.actor_id"
        " join events e on e.id = a.event_id"
        " where a.role not in ('target', 'affected') and b.role not in ('target', 'affected')"
        " group by 1, 2 order by 1, 2",
    )
    # The view lists each pair under each of its actors: once each way round.
    stored = sql(imported_db, "select actor_a, actor_b, events, first_date, last_date from actor_pairs order by 1, 2")
    turned = [(b, a, *rest) for a, b, *rest in live]
    assert stored == sorted(live + turned) and len(stored) > 10
    ((ids_ok,),) = sql(
        imported_db,
        "select min(json_array_length(event_ids) = events) from actor_pairs",
    )
    assert ids_ok == 1


def test_a_pairs_page_names_the_first_events_and_counts_the_rest(imported_db: Path, tmp_path: Path) -> None:
    """Give the first pair 40 events (at this size pairs share a few): its
    cell links the first ten by title and counts the rest."""
    db = tmp_path / "events.db"
    shutil.copy(imported_db, db)
    events = [i for (i,) in sql(db, "select id from events order by start_date, end_date, id limit 40")]
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("update actor_pair_counts set events = 9999, event_ids = ? where rowid = 1", [json.dumps(events)])
        conn.commit()
    text = page(in_process_site(db), "/events/actor_pairs?_sort_desc=events&_size=1")
    cell = text[text.index('<td class="col-event_ids') :]
    cell = cell[: cell.index("</td>")]
    assert re.findall(r'<a href="/events/events/([^"]+)">', cell) == events[:10]
    assert "and 30 more" in cell


def test_a_month_after_the_last_event_is_a_page_of_none(ds: Datasette, imported_db: Path) -> None:
    """Issue 23: such a month answered 500 (the heading read the first event of none)."""
    ((last_date,),) = sql(imported_db, "select max(start_date) from events")
    year = int(last_date[:4]) + 1
    text = page(ds, f"/-/timeline?month={year}-02")
    assert ids(text) == [] and f"No events began in February {year}" in text


@pytest.mark.parametrize(
    ("from_date", "to_date", "wrong"),
    [
        ("2025-13-01", "", "From “2025-13-01”"),
        ("2025-08-01", "2025-02-30", "To “2025-02-30”"),
        ("Aug 2025", "", "From"),
    ],
)
def test_a_mistyped_date_gets_a_message_and_keeps_what_was_typed(
    ds: Datasette, from_date: str, to_date: str, wrong: str
) -> None:
    """Issue 27: a date that is not one listed nothing, or everything, without a word."""
    response = asyncio.run(ds.client.get(f"/-/timeline?{urlencode({'from_date': from_date, 'to_date': to_date})}"))
    assert response.status_code == 400
    assert re.search(
        rf'role="alert">{re.escape(wrong)}[^<]* is not a date: write it as YYYY, YYYY-MM or YYYY-MM-DD', response.text
    )
    assert f'value="{from_date}"' in response.text and ids(response.text) == []


@pytest.mark.parametrize("month", ["abc", "9999-99", "2024-13", "2024-00", "0000-1x"])
def test_a_malformed_month_is_a_clear_400(ds: Datasette, month: str) -> None:
    response = asyncio.run(ds.client.get(f"/-/timeline?{urlencode({'month': month})}"))
    assert response.status_code == 400 and "give it as YYYY-MM" in response.text, response.text[:300]


def test_the_pages_month_words_are_the_views_date_words(imported_db: Path) -> None:
    """A month is written in SQL (date_label, for the exports) and in Python
    (the pages' charts): the two must say a month alike."""

    rows = sql(
        imported_db,
        "select start_date, date_label from event_list where date_precision = 'month' limit 20",
    )
    assert rows
    for start, label in rows:
        assert label == month_label(start[:7])
    assert month_label("2025-03", short=True) == column_label("2025-03") == "Mar 2025"
    assert column_label("2025") == "2025"
