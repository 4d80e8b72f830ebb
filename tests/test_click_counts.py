"""A facet click's HTML page shows the row count the build stored
(loader/site/plugins/click_counts.py); every other page, and every JSON page, is counted
by Datasette. Expected counts are Datasette's own, from the JSON of the same
page; a copy of the database whose stored count was changed tells a stored
count from a live one."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette

from loader.stored_pages import square_query
from tests.support.generated import changed_copy, click_key, overview_links, query
from tests.support.site import in_process_site

HEADING = re.compile(r"<h3>\s*([\d,]+) rows?\b")
MARKER = "_nocount=counted"  # loader/site/plugins/click_counts.py's
# The busiest value of each kind of click the build stores counts for.
BUSIEST = (
    "select type, facet, value, count from facet_counts where source = ? and filter_type = '' and type = ? "
    "and facet = ? order by count desc, value limit 1"
)
CLICKS = [
    ("event_list", "array", "actor_names"),
    ("event_list", "column", "event_type"),
    ("event_list", "column", "place_id"),
    ("events", "column", "event_type"),
    ("events", "date", "start_date"),
]


def get(ds: Datasette, path: str) -> str:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:500]
    return response.text


def shown_count(ds: Datasette, path: str) -> int | None:
    """The count an HTML page's heading shows, if any."""
    found = HEADING.search(get(ds, path))
    return int(found.group(1).replace(",", "")) if found else None


def live_count(ds: Datasette, path: str) -> int:
    """Datasette's count(*) of the page, from its JSON."""
    response = asyncio.run(ds.client.get(path.replace("?", ".json?", 1)))
    assert response.status_code == 200, response.text[:500]
    count = response.json()["filtered_table_rows_count"]
    assert isinstance(count, int)
    return count


def click_path(source: str, facet_type: str, column: str, value: str, **more: str) -> str:
    return f"/events/{source}?{urlencode({click_key(facet_type, column): value, **more})}"


@pytest.fixture(scope="module")
def imported_site(imported_db: Path) -> Datasette:
    """One site over imported_db for the tests that only read it: a site's
    start costs more than most of their requests."""
    return in_process_site(imported_db)


@pytest.mark.parametrize(("source", "facet_type", "column"), CLICKS)
def test_a_click_shows_datasettes_count(
    imported_db: Path, imported_site: Datasette, source: str, facet_type: str, column: str
) -> None:
    ((_, _, value, stored),) = query(imported_db, BUSIEST, (source, facet_type, column))
    ds = imported_site
    path = click_path(source, facet_type, column, value)
    assert shown_count(ds, path) == live_count(ds, path) == stored
    assert stored > 1


@pytest.fixture(scope="module")
def changed(imported_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Datasette, str, int]:
    """A site over a copy whose stored count of the busiest actor is 1,000 too
    many; the actor's click, and its true count."""
    db, (value, count) = changed_copy(
        imported_db,
        tmp_path_factory.mktemp("changed"),
        "select value, count from facet_counts where source = 'event_list' and filter_type = '' "
        "and facet = 'actor_names' order by count desc limit 1",
        "update facet_counts set count = count + 1000 where source = 'event_list' and filter_type = '' "
        "and facet = 'actor_names' and value = ? and count = ?",
    )
    return in_process_site(db), click_path("event_list", "array", "actor_names", value), count


def test_the_count_shown_is_the_stored_one(changed: tuple[Datasette, str, int]) -> None:
    ds, path, count = changed
    assert shown_count(ds, path) == count + 1000
    assert live_count(ds, path) == count


def test_links_from_a_click_are_counted_afresh(changed: tuple[Datasette, str, int]) -> None:
    """The page's links carry the marker; the JSON it links to, and a page
    of two filters reached from it, count live."""
    ds, path, count = changed
    links = [
        html.unescape(link).removeprefix("http://localhost") for link in re.findall(r'href="([^"]*)"', get(ds, path))
    ]
    json_link = next(link for link in links if ".json?" in link and MARKER in link)
    response = asyncio.run(ds.client.get(json_link))
    assert response.json()["filtered_table_rows_count"] == count
    narrower = next(link for link in links if MARKER in link and "event_type=" in link and ".json" not in link)
    assert shown_count(ds, narrower) == live_count(ds, narrower) < count


@pytest.mark.parametrize(
    "extra",
    [{"_search": "clash"}, {"_where": "1"}, {"status": "confirmed"}, {"_sort_desc": "start_date", "_size": "5"}],
)
def test_a_click_with_anything_else_is_counted_live(changed: tuple[Datasette, str, int], extra: dict) -> None:
    """Another filter or a search is counted by Datasette; a visitor's SQL
    (`_where`) is not counted at all (loader/site/plugins/sql_gate.py keeps it to its 1 s);
    sorting or a page size changes no count, and keeps the stored one."""
    ds, path, count = changed
    shown = shown_count(ds, f"{path}&{urlencode(extra)}")
    if set(extra) <= {"_sort_desc", "_size"}:
        assert shown == count + 1000
    elif "_where" in extra:
        assert shown is None
    else:
        assert shown == live_count(ds, f"{path}&{urlencode(extra)}")
        assert shown != count + 1000


def test_a_reader_who_asks_for_no_count_gets_none(changed: tuple[Datasette, str, int]) -> None:
    ds, path, _ = changed
    assert shown_count(ds, f"{path}&_nocount=1") is None


def test_an_overview_square_shows_datasettes_count(imported_site: Datasette) -> None:
    """The first and last page each overview chart links (and its bar of all
    events) shows the count of the square, which is Datasette's own."""
    ds = imported_site
    links = overview_links(get(ds, "/-/overview"))
    assert len(links) == 4
    for link, events in (square for chart in links.values() for square in (chart[0], chart[-1])):
        assert shown_count(ds, link) == live_count(ds, link) == events > 0


def test_a_square_shows_the_count_of_its_square(imported_db: Path, tmp_path: Path) -> None:
    db, (key, month, count) = changed_copy(
        imported_db,
        tmp_path,
        "select key, month, events from monthly_counts where dimension = 'actor' order by events desc limit 1",
        "update monthly_counts set events = events + 1000 where dimension = 'actor' and key = ? and month = ? "
        "and events = ?",
    )
    ds = in_process_site(db)
    path = f"/events/event_list?{square_query(month, 'actor_ids__arraycontains', key)}"
    assert shown_count(ds, path) == count + 1000
    assert live_count(ds, path) == count
    assert shown_count(ds, f"{path}&status=confirmed") == live_count(ds, f"{path}&status=confirmed")
