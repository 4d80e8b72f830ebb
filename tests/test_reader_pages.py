"""Readers' things on readers' pages (issue 27): the event list without its
view's SQL in the way, the home page's links to the disputes and the About
page, and the About page's figures, each read back against SQL on the same
database (the valid fixture with the publish fixture, served in process)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from datasette.app import Datasette

from tests.support.site import in_process_site, page_text


@pytest.fixture(scope="module")
def ds(published_db: Path) -> Datasette:
    return in_process_site(published_db)


def one(db: Path, sql: str) -> object:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchone()[0]


def test_event_list_folds_its_view_sql_under_one_line(ds: Datasette) -> None:
    html = page_text(ds, "/events/event_list")
    # The view's CREATE VIEW is there for programmers, once, inside a closed <details>.
    assert html.count("CREATE VIEW event_list") == 1
    folded = re.search(r'<details class="sql-definition">\s*<summary>[^<]+</summary>\s*<pre[^>]*>CREATE VIEW', html)
    assert folded, "the view's SQL is not folded"
    assert '<details class="sql-definition" open' not in html
    assert html.index("<main>") < html.index("CREATE VIEW") < html.index("</main>")


def test_home_page_links_the_disputes_and_the_about_page(ds: Datasette) -> None:
    html = page_text(ds, "/")
    assert 'href="/events/disputes_by_question">What the sources disagree about</a>' in html
    assert 'href="/-/about">About this site</a>' in html


def test_no_page_the_home_page_links_opens_with_sql(ds: Datasette) -> None:
    """Its SQL stays a click away, folded or behind "show"; only the database
    page, "All tables, views and queries", is where one writes SQL."""
    paths = set(re.findall(r'<a href="(/[^"#]*)"', page_text(ds, "/"))) - {"/events"}
    assert "/events/disputed_events" in paths
    for path in sorted(p for p in paths if not p.endswith((".ics", ".db", ".json", ".csv"))):
        html = re.sub(r"<details\b.*?</details>", "", page_text(ds, path), flags=re.S)
        assert not re.search(r'id="sql-(query|editor)"|CREATE VIEW', html), path


def test_about_page_says_what_the_database_holds(ds: Datasette, published_db: Path) -> None:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page_text(ds, "/-/about")))
    events = one(published_db, "select count(*) from events")
    documents = one(published_db, "select count(*) from documents")
    first = one(published_db, "select date_label from event_list order by start_date, end_date, id limit 1")
    last = one(published_db, "select date_label from event_list order by end_date desc, start_date desc, id limit 1")
    built = one(published_db, "select sources_date from dataset_release")
    assert f"{events} events from {documents} source documents" in text
    assert f"from {first} to {last}" in text
    assert f"Built from the sources of {built}" in text
    with closing(sqlite3.connect(published_db)) as conn:
        statuses = conn.execute("select status, count(*) from events group by 1").fetchall()
    for status, count in statuses:
        assert f"{count} {status}:" in text
    for heading in ("Who curates it", "How sure it is", "What it is not", "When it was last updated"):
        assert heading in text


def test_database_page_lists_readers_pages_first_and_folds_the_internals(ds: Datasette) -> None:
    html = page_text(ds, "/events")
    readers = html[
        html.index('<ul class="reader-pages">') : html.index("</ul>", html.index('<ul class="reader-pages">'))
    ]
    internals = html[
        html.index('<details class="internals">') : html.index("</details>", html.index('<details class="internals">'))
    ]
    # The pages in words, in the newcomer's order, before the SQL box.
    assert readers.index(">Events</a>") < readers.index(">Places</a>") < readers.index(">Actors</a>")
    assert html.index('class="reader-pages"') < html.index('id="sql-editor"')
    # Caches, bookkeeping and indexes are listed only under the fold.
    for internal in ("monthly_counts", "facet_counts", "map_cells", "imports", "reconciliation", "events_fts"):
        assert internal not in readers, internal
    for internal in ("monthly_counts", "imports", "reconciliation"):
        assert f"<code>{internal}</code>" in internals or f">{internal}</a>" in internals, internal


def test_a_months_page_gives_the_bar_and_the_filter_number_each_labelled(ds: Datasette, published_db: Path) -> None:
    """The fixture's month-long events make a month's From/To list longer than its bar (issue 27)."""
    with closing(sqlite3.connect(published_db)) as conn:
        months = conn.execute("select month, events from overview_months where events > 0").fetchall()
        shown = 0
        for key, began in months:
            first, last = f"{key}-01", f"{key}-31"
            (overlapping,) = conn.execute(
                "select count(*) from events where end_date >= ? and start_date <= ?", (first, last + "~")
            ).fetchone()
            if overlapping > began:
                text = page_text(ds, f"/-/timeline?month={key}")
                assert f"{began} event{'' if began == 1 else 's'} began in" in text
                assert f"{overlapping} events were (or may have been) under way in" in text
                shown += 1
    assert shown, "no month of the fixture has an event that began before it"


def test_event_page_says_why_an_event_has_no_place(ds: Datasette, published_db: Path) -> None:
    with closing(sqlite3.connect(published_db)) as conn:
        (event, why) = conn.execute("select id, place_unknown from events where place_id is null").fetchone()
    html = page_text(ds, f"/events/events/{event}")
    assert f'<p class="place-unknown"><em>No place:</em> {why}</p>' in html
    assert "place-precision" not in html


def test_event_page_says_how_closely_its_place_stands_for_it(ds: Datasette, published_db: Path) -> None:
    with closing(sqlite3.connect(published_db)) as conn:
        (event, place) = conn.execute(
            "select e.id, p.name from events e join places p on p.id = e.place_id"
            " where e.geo_precision = 'representative'"
        ).fetchone()
    text = re.sub(r"\s+", " ", page_text(ds, f"/events/events/{event}"))
    assert f'{place}</a> <span class="place-precision">(a place that stands in for where it happened)</span>' in text
    assert "place-unknown" not in text


def test_event_page_says_how_its_date_was_inferred(ds: Datasette, published_db: Path) -> None:
    with closing(sqlite3.connect(published_db)) as conn:
        (event, how) = conn.execute("select id, date_inference from events where date_inference is not null").fetchone()
        (plain,) = conn.execute("select id from events where date_inference is null").fetchone()
    html = page_text(ds, f"/events/events/{event}")
    assert f'<p class="date-inference"><em>How the date was inferred:</em> {how}</p>' in html
    assert "not said by a document:</em> date." in html
    assert "date-inference" not in page_text(ds, f"/events/events/{plain}")
