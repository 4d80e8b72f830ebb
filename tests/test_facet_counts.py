"""Facets counted at build time: the build stores, for every facet that
metadata.yml configures, the counts Datasette would compute live, and the
site serves an unfiltered page's facets from them. Expected values are
Datasette's own live counts of the same database (a filter that every row
passes makes Datasette count live)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from datasette.app import Datasette
from datasette.utils import parse_metadata

from loader import PROJECT_ROOT
from loader.build.facet_counts import CLICK_MIN_ROWS, CLICK_MIN_SHARE, configured_facets
from loader.metadata import METADATA_PATH
from loader.stored_pages import CHARTS, indexed_columns, square_query, stored_page
from tests.support.generated import changed_copy, click_key, overview_links, query
from tests.support.site import in_process_site

# Time limits no facet reaches on a loaded machine: Datasette 0.65 caps a
# facet's limit at sql_time_limit_ms, and drops a facet that ran out of time
# from a JSON page without a word (facets_timed_out is only in the HTML's
# context), so a slow moment would read as a missing facet.
UNLIMITED: dict[str, Any] = {"facet_time_limit_ms": 60_000, "sql_time_limit_ms": 60_000}


def site(db: Path) -> Datasette:
    return in_process_site(db, **UNLIMITED)


@pytest.fixture(scope="module")
def imported_site(imported_db: Path) -> Datasette:
    """One site over imported_db for the tests that only read it: a site's
    start and its first requests cost more than most tests' own checks."""
    return site(imported_db)


def facets(ds: Datasette, path: str) -> dict[str, list[tuple]]:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:500]
    data = response.json()
    return {
        name: [(v["value"], v["label"], v["count"]) for v in facet["results"]]
        for name, facet in data["facet_results"].items()
    }


SOURCES = sorted({source for source, _, _ in configured_facets(parse_metadata(METADATA_PATH.read_text()))})


@pytest.fixture(scope="module")
def own_unfiltered_facets(own_facets: OwnFacets) -> dict[str, dict[str, list[tuple]]]:
    return own_facets(*(f"/events/{source}.json?_facet_size=max" for source in SOURCES))


@pytest.mark.parametrize("source", SOURCES)
def test_stored_counts_are_datasettes_live_counts(
    imported_site: Datasette, own_unfiltered_facets: dict[str, dict[str, list[tuple]]], source: str
) -> None:
    path = f"/events/{source}.json?_facet_size=max"
    stored = served_facets(imported_site, path)
    assert stored == own_unfiltered_facets[path]
    assert stored, f"{source} has configured facets but none was served"


def test_every_configured_facet_is_stored(imported_db: Path) -> None:
    """Every configured facet with a value to count, but those of the sources
    metadata.yml says to skip; one with no value is left to Datasette, which shows nothing."""
    conn = sqlite3.connect(imported_db)
    stored = set(conn.execute("select distinct source, type, facet from facet_counts"))
    expected = set()
    metadata = parse_metadata(METADATA_PATH.read_text())
    skipped = set(metadata["plugins"]["facet-counts"].get("skip") or [])
    assert not {source for source, _, _ in stored} & skipped
    for source, facet_type, column in configured_facets(metadata):
        if source in skipped:
            continue
        test = f"json_array_length([{column}]) > 0" if facet_type == "array" else f"[{column}] is not null"
        if conn.execute(f"select exists (select 1 from [{source}] where {test})").fetchone()[0]:
            expected.add((source, facet_type, column))
    conn.close()
    assert len(expected) > 30
    assert expected == stored


def test_unfiltered_page_is_served_from_the_stored_counts(imported_db: Path, tmp_path: Path) -> None:
    """Change one stored count: the unfiltered page shows it, a filtered page does not."""
    db, (count, value) = changed_copy(
        imported_db,
        tmp_path,
        "select count, value from facet_counts where source = 'events' and facet = 'event_type' order by count desc",
        "update facet_counts set count = ? + 1000 where source = 'events' and facet = 'event_type' and value = ?",
    )
    ds = site(db)
    assert dict((v, c) for v, _, c in facets(ds, "/events/events.json")["event_type"])[value] == count + 1000
    assert dict((v, c) for v, _, c in facets(ds, "/events/events.json?_where=1")["event_type"])[value] == count


CLICKS = ["events", "event_list"]  # metadata.yml's facet-counts clicks


@pytest.mark.parametrize("source", CLICKS)
def test_pages_one_click_away_are_stored_and_are_datasettes_counts(
    imported_db: Path, source: str, imported_site: Datasette, own_facets: OwnFacets
) -> None:
    conn = sqlite3.connect(imported_db)
    clicked = conn.execute(
        "select filter_type, filter_facet, filter_value, count(*) from facet_counts "
        "where source = ? and filter_type <> '' and filter_period = '' group by 1, 2, 3",
        [source],
    ).fetchall()
    conn.close()
    # Every configured facet whose clicks SQLite finds by index (with the twin
    # clause of an `indexed` column) and whose most frequent value holds the
    # rows worth counting ahead, and no other: the event list's actor_names is
    # found by its twin; its place_name is not one of its facets.
    metadata = parse_metadata(METADATA_PATH.read_text())
    configured = [(t, c) for s, t, c in configured_facets(metadata) if s == source]
    twins = indexed_columns(metadata["plugins"]["facet-counts"], "events", source)
    conn = sqlite3.connect(imported_db)
    indexed = set()
    for facet_type, column in configured:
        lookup, where = {
            "column": ("exact", f"[{column}] = :value"),
            "array": ("arraycontains", f":value in (select value from json_each([{column}]))"),
        }.get(facet_type, ("date", f"date([{column}]) = :value"))
        if column in twins and twins[column].lookup == lookup:
            where += f" and {twins[column].clause('value')}"
        plan = conn.execute(
            f"explain query plan select count(*) from [{source}] where {where}", {"value": ""}
        ).fetchall()
        ((top,),) = conn.execute(
            "select max(count) from facet_counts where source = ? and filter_type = '' and type = ? and facet = ?",
            [source, facet_type, column],
        )
        rows = conn.execute(f"select count(*) from [{source}]").fetchone()[0]
        if plan[0][3].startswith("SEARCH") and top >= min(CLICK_MIN_ROWS, CLICK_MIN_SHARE * rows):
            indexed.add((facet_type, column))
    conn.close()
    assert {(t, c) for t, c, _, _ in clicked} == indexed
    assert len(indexed) >= 4
    if source == "event_list":
        assert ("array", "actor_names") in indexed and ("column", "place_name") not in indexed
    # The most frequent value of each clicked facet, and one of the rarest stored.
    chosen: dict[tuple[str, str], list[str]] = {}
    for facet_type, column, value, _ in clicked:
        chosen.setdefault((facet_type, column), []).append(value)
    paths = [
        f"/events/{source}.json?{urlencode({click_key(facet_type, column): value})}"
        for (facet_type, column), values in chosen.items()
        for value in (values[0], values[-1])
    ]
    own = own_facets(*paths)
    for path in paths:
        assert served_facets(imported_site, path) == own[path], path


def test_a_click_page_is_served_from_the_stored_counts(imported_db: Path, tmp_path: Path) -> None:
    db, (value, status) = changed_copy(
        imported_db,
        tmp_path,
        "select filter_value, value from facet_counts where source = 'event_list' and filter_facet = 'event_type' "
        "and facet = 'status' order by count desc limit 1",
        "update facet_counts set count = 99999 where source = 'event_list' and filter_facet = 'event_type' "
        "and filter_value = ? and facet = 'status' and value = ?",
    )
    ds = site(db)
    served = facets(ds, f"/events/event_list.json?{urlencode({'event_type': value})}")["status"]
    assert (status, status, 99999) in served
    # A second filter is no longer a page the build counted: Datasette counts it.
    live = facets(ds, f"/events/event_list.json?{urlencode({'event_type': value, 'date_precision': 'day'})}")
    assert all(count != 99999 for _, _, count in live["status"])


def test_every_overview_square_has_its_facets_stored(
    imported_db: Path, imported_site: Datasette, own_facets: OwnFacets
) -> None:
    """Each page the overview links has its facets stored, and the first and
    last of each chart (and of the bar of all events) are served the counts
    Datasette's own facets give."""
    links = overview_links(asyncio.run(imported_site.client.get("/-/overview")).text)
    assert set(links) == {"", *(key for _, _, key in CHARTS)}
    stored = set(
        query(
            imported_db,
            "select distinct filter_type, filter_facet, filter_value, filter_period from facet_counts "
            "where source = 'event_list' and filter_period <> ''",
        )
    )
    pages = [stored_page(parse_qsl(link.split("?", 1)[1])) for chart in links.values() for link, _ in chart]
    assert {
        (
            page.click.type if page.click else "",
            page.click.column if page.click else "",
            page.click.value if page.click else "",
            page.period,
        )
        for page in pages
        if page
    } == stored
    assert None not in pages and len(stored) == len(pages) > 3 * len(links)
    paths = [link.replace("?", ".json?", 1) for chart in links.values() for link, _ in (chart[0], chart[-1])]
    own = own_facets(*paths)
    for path in paths:
        assert served_facets(imported_site, path) == own[path], path


def test_a_square_page_is_served_from_the_stored_counts(imported_db: Path, tmp_path: Path) -> None:
    db, (value, period, actor) = changed_copy(
        imported_db,
        tmp_path,
        "select filter_value, filter_period, value from facet_counts where source = 'event_list' "
        "and filter_facet = 'actor_ids' and facet = 'actor_names' order by count desc limit 1",
        "update facet_counts set count = 99999 where source = 'event_list' and filter_facet = 'actor_ids' "
        "and filter_value = ? and filter_period = ? and facet = 'actor_names' and value = ?",
    )
    path = f"/events/event_list.json?{square_query(period, 'actor_ids__arraycontains', value)}"
    ds = site(db)
    assert (actor, 99999) in served_facets(ds, path)["actor_names"]
    assert (actor, 99999) not in served_facets(ds, f"{path}&status=confirmed")["actor_names"]


def test_a_click_on_a_looked_up_name_reads_by_the_keys_index(imported_db: Path, imported_site: Datasette) -> None:
    """A click on the event list's place_name (a name the view looks up by
    key) gets its twin clause on place_id: the same rows, found by index."""
    conn = sqlite3.connect(imported_db)
    ((name, expected),) = conn.execute(
        "select p.name, count(*) from events e join places p on p.id = e.place_id group by p.name order by 2 desc limit 1"
    ).fetchall()
    expected_ids = sorted(i for (i,) in conn.execute("select id from event_list where place_name = ?", [name]))
    ds = imported_site
    response = asyncio.run(
        ds.client.get(
            f"/events/event_list.json?{urlencode({'place_name': name})}&_size=max&_shape=objects&_extra=query"
        )
    )
    data = response.json()
    assert sorted(row["id"] for row in data["rows"]) == expected_ids and len(expected_ids) == expected
    query = data["query"]
    assert (
        "[place_id] IN (SELECT key FROM (SELECT id AS key, name AS value FROM places) WHERE value = :twin_0)"
        in query["sql"]
    )
    plan = conn.execute(f"explain query plan {query['sql']}", query["params"]).fetchall()
    conn.close()
    assert plan[0][3].startswith("SEARCH") and "place_id" in plan[0][3]
    # Its array facet, counted live by rowid, counts what Datasette's own ArrayFacet SQL counts.
    served = facets(ds, f"/events/event_list.json?{urlencode({'place_name': name})}&_facet_size=max")["actor_names"]
    conn = sqlite3.connect(imported_db)
    rows_sql = query["sql"].split(" order by ")[0].split(" limit ")[0]
    datasettes = conn.execute(
        f"with inner as ({rows_sql}), deduped_array_items as (select distinct j.value, inner.* "
        "from json_each([inner].actor_names) j join inner) select value, count(*) from deduped_array_items "
        "group by value order by count(*) desc, value",
        query["params"],
    ).fetchall()
    conn.close()
    assert [(value, count) for value, _, count in served] == datasettes[: len(served)] and len(served) > 3


def test_a_page_of_an_actor_of_many_events_walks_the_date_order(imported_db: Path, own_facets: OwnFacets) -> None:
    """A click on an actor with many events reads the event list in its date
    order until the page is full (its twin clause declared likely); a click on
    an actor with few reads that actor's events by key. Both give the rows
    Datasette's own filter gives, newest first."""
    conn = sqlite3.connect(imported_db)
    (rows,) = conn.execute("select count(*) from event_list").fetchone()
    counts = conn.execute(
        "select a.name, count(distinct ea.event_id) from event_actors ea join actors a on a.id = ea.actor_id "
        "group by a.name order by 2 desc, 1"
    ).fetchall()
    (busy, many), (rare, few) = counts[0], counts[-1]
    page_size = many * many // rows - 1  # the largest page for which `many` rows count as many
    assert page_size >= 1 and few * few < (page_size + 1) * rows
    ds = in_process_site(imported_db, default_page_size=page_size, **UNLIMITED)
    for name, expected_count, walks in ((busy, many, True), (rare, few, False)):
        expected = conn.execute(
            "select id, start_date from event_list where ? in (select value from json_each(actor_names))", [name]
        ).fetchall()
        data = asyncio.run(
            ds.client.get(
                f"/events/event_list.json?{urlencode({'actor_names__arraycontains': name})}"
                "&_size=max&_shape=objects&_extra=query"
            )
        ).json()
        served = [(row["id"], row["start_date"]) for row in data["rows"]]
        assert sorted(served) == sorted(expected) and len(served) == expected_count
        assert [date for _, date in served] == sorted((date for _, date in served), reverse=True)
        query = data["query"]
        plan = conn.execute(f"explain query plan {query['sql']}", query["params"]).fetchall()
        assert ("EXISTS (SELECT 1 FROM" in query["sql"]) == walks
        if walks:
            assert plan[0][3] == "SCAN e USING INDEX events_start_date"
        else:
            assert plan[0][3].startswith("SEARCH")
    conn.close()
    # Facets counted live beside the hint (a second filter) are Datasette's own.
    path = f"/events/event_list.json?{urlencode({'actor_names__arraycontains': busy, 'date_precision': 'day'})}"
    live = {name: [(value, count) for value, _, count in values] for name, values in facets(ds, path).items()}
    assert live == own_facets(path)[path] and live["actor_names"]


@pytest.mark.parametrize("prefix", ["{year}", "{month}", "{year[0]}{year[1]}_{year[3]}", "2%"])
def test_a_filter_by_the_start_of_a_date_reads_a_range_of_dates(
    imported_db: Path, prefix: str, imported_site: Datasette
) -> None:
    """start_date__startswith (the overview's squares) gets a range of dates
    as its twin when the prefix is digits and dashes: the rows are those of
    Datasette's LIKE, found through an index of dates. A prefix with LIKE's
    wildcards gets no twin, and finds what LIKE finds."""
    conn = sqlite3.connect(imported_db)
    year, month = conn.execute(
        "select substr(start_date, 1, 4), substr(start_date, 1, 7) from events group by 2 order by count(*) desc"
    ).fetchone()
    value = prefix.format(year=year, month=month)
    expected = sorted(
        i
        for (i,) in conn.execute(
            "select id from events where start_date like ? and date_precision != 'year'", [value + "%"]
        )
    )
    query = urlencode({"start_date__startswith": value, "date_precision__not": "year"})
    data = asyncio.run(
        imported_site.client.get(f"/events/event_list.json?{query}&_size=max&_shape=objects&_extra=query")
    ).json()
    assert sorted(row["id"] for row in data["rows"]) == expected and expected
    sql, params = data["query"]["sql"], data["query"]["params"]
    ranged = value.replace("-", "").isdigit()
    assert ("[start_date] >= :twin_0 AND [start_date] < :twin_1" in sql) == ranged
    plan = [row[3] for row in conn.execute(f"explain query plan {sql}", params)]
    conn.close()
    assert any("(start_date>? AND start_date<?)" in step for step in plan) == ranged


# Datasette with the site's metadata and none of its plugins, in a process of
# its own: plugins, once registered, stay registered in the process that loaded
# them, and Datasette loads every installed plugin, the site's package included,
# unless told it runs under its own tests. It answers a line of paths (JSON)
# with a line of their facets.
OWN_FACETS = """
import asyncio, json, sys
sys._called_from_test = True  # Datasette then loads no installed plugin (datasette/plugins.py)
from datasette.app import Datasette
from datasette.utils import parse_metadata
from loader.metadata import METADATA_PATH
ds = Datasette([], immutables=[sys.argv[1]], metadata=parse_metadata(METADATA_PATH.read_text()),
               settings=json.loads(sys.argv[2]))
for line in sys.stdin:
    pages = {}
    for path in json.loads(line):
        data = asyncio.run(ds.client.get(path)).json()
        pages[path] = {name: [[v["value"], v["count"]] for v in facet["results"]] for name, facet in data["facet_results"].items()}
    print(json.dumps(pages), flush=True)
"""


class OwnFacets:
    """Pages' facets as Datasette counts them with none of the site's plugins,
    from one process kept for the module: its start (importing Datasette) cost
    more than most tests' own requests, and what it answers for a path depends
    only on the database, which no test changes."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", OWN_FACETS, str(db), json.dumps(UNLIMITED)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )

    def __call__(self, *paths: str) -> dict[str, dict[str, list[tuple]]]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(paths) + "\n")
        self.process.stdin.flush()
        out = self.process.stdout.readline()
        assert out, f"Datasette's own facets ended with exit code {self.process.wait()}"
        return {
            path: {name: [tuple(pair) for pair in values] for name, values in page.items()}
            for path, page in json.loads(out).items()
        }

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait()


@pytest.fixture(scope="module")
def own_facets(imported_db: Path) -> Iterator[OwnFacets]:
    own = OwnFacets(imported_db)
    yield own
    own.close()


def served_facets(ds: Datasette, path: str) -> dict[str, list[tuple]]:
    return {name: [(value, count) for value, _, count in values] for name, values in facets(ds, path).items()}


@pytest.mark.parametrize(
    "query",
    [
        # A search: never counted ahead, so every facet is counted live.
        "_search=Damascus",
        # Two filters, one of them on an array through its twin clause.
        "date_precision=day&actor_names__arraycontains={actor}",
        # The overview's link for an actor, by id.
        "actor_ids__arraycontains={actor_id}",
        # A name the view looks up, filtered through its twin.
        "place_name={place}&_facet_size=max",
        # An overview square's filters, with a range as the period's twin; all
        # of each facet's values, which the build does not store.
        "actor_ids__arraycontains={actor_id}&start_date__startswith={year}&date_precision__not=year&_facet_size=max",
    ],
)
def test_facets_counted_live_are_datasettes_own(
    imported_db: Path, query: str, imported_site: Datasette, own_facets: OwnFacets
) -> None:
    """Column facets counted together in one query, and array facets counted
    through their `indexed` values, give the values and counts that
    Datasette's own facet classes give."""
    conn = sqlite3.connect(imported_db)
    actor_id, actor = conn.execute(
        "select a.id, a.name from event_actors ea join actors a on a.id = ea.actor_id "
        "group by a.id order by count(*) desc limit 1 offset 3"
    ).fetchone()
    (place,) = conn.execute(
        "select p.name from events e join places p on p.id = e.place_id group by p.id order by count(*) desc limit 1"
    ).fetchone()
    (year,) = conn.execute(
        "select substr(start_date, 1, 4) from events group by 1 order by count(*) desc limit 1"
    ).fetchone()
    conn.close()
    values = {
        key: quote(value) for key, value in {"actor": actor, "actor_id": actor_id, "place": place, "year": year}.items()
    }
    path = f"/events/event_list.json?{query.format(**values)}"
    served = served_facets(imported_site, path)
    assert served == own_facets(path)[path]
    assert all(served.values()) and "actor_names" in served
