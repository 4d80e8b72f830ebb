"""Facets counted at build time: the build stores, for every facet that
metadata.yml configures, the counts Datasette would compute live, and the
site serves an unfiltered page's facets from them. Expected values are
Datasette's own live counts of the same database (a filter that every row
passes makes Datasette count live)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

import pytest
from datasette.app import Datasette
from datasette.utils import parse_metadata

from loader.facet_counts import CLICK_MIN_SHARE, configured_facets
from loader.serve import METADATA_PATH
from tests.support.generated import generated_db
from tests.support.site import in_process_site


@pytest.fixture(scope="module")
def imported_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published fixture with 600 generated ACLED events imported beside it."""
    return generated_db(tmp_path_factory.mktemp("facets"), 600)


def site(db: Path) -> Datasette:
    return in_process_site(db, facet_time_limit_ms=60_000)


def facets(ds: Datasette, path: str) -> dict[str, list[tuple]]:
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, response.text[:500]
    data = response.json()
    assert not data.get("facets_timed_out")
    return {
        name: [(v["value"], v["label"], v["count"]) for v in facet["results"]]
        for name, facet in data["facet_results"].items()
    }


def changed_copy(db: Path, directory: Path, find: str, update: str) -> tuple[Path, tuple]:
    """A copy of db in which `update` changed the stored counts of the row `find`
    picks (its values are update's parameters), and that row: a page that shows
    the change was served from the stored counts, not counted live."""
    copy = directory / "events.db"
    shutil.copy(db, copy)
    with closing(sqlite3.connect(copy)) as conn:
        found = conn.execute(find).fetchone()
        conn.execute(update, found)
        conn.commit()
    return copy, found


SOURCES = sorted({source for source, _, _ in configured_facets(parse_metadata(METADATA_PATH.read_text()))})


@pytest.mark.parametrize("source", SOURCES)
def test_stored_counts_are_datasettes_live_counts(imported_db: Path, source: str) -> None:
    ds = site(imported_db)
    stored = facets(ds, f"/events/{source}.json?_facet_size=max")
    live = facets(ds, f"/events/{source}.json?_facet_size=max&_where=1")
    assert stored == live
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


def click_key(facet_type: str, column: str) -> str:
    """The query string key a click on a facet value adds (Datasette's toggle link)."""
    return {"column": column, "array": f"{column}__arraycontains", "date": f"{column}__date"}[facet_type]


@pytest.mark.parametrize("source", CLICKS)
def test_pages_one_click_away_are_stored_and_are_datasettes_counts(imported_db: Path, source: str) -> None:
    conn = sqlite3.connect(imported_db)
    clicked = conn.execute(
        "select filter_type, filter_facet, filter_value, count(*) from facet_counts "
        "where source = ? and filter_type <> '' group by 1, 2, 3",
        [source],
    ).fetchall()
    conn.close()
    # Every configured facet whose clicks SQLite finds by index and whose most
    # frequent value holds the share of rows worth counting ahead, and no other:
    # the event list's place_name is not one of its facets (a click on it gets an indexed twin clause instead).
    configured = [(t, c) for s, t, c in configured_facets(parse_metadata(METADATA_PATH.read_text())) if s == source]
    conn = sqlite3.connect(imported_db)
    indexed = set()
    for facet_type, column in configured:
        where = {"column": f"[{column}] = ?", "array": f"? in (select value from json_each([{column}]))"}.get(
            facet_type, f"date([{column}]) = ?"
        )
        plan = conn.execute(f"explain query plan select count(*) from [{source}] where {where}", [""]).fetchall()
        ((top,),) = conn.execute(
            "select max(count) from facet_counts where source = ? and filter_type = '' and type = ? and facet = ?",
            [source, facet_type, column],
        )
        rows = conn.execute(f"select count(*) from [{source}]").fetchone()[0]
        if plan[0][3].startswith("SEARCH") and top >= CLICK_MIN_SHARE * rows:
            indexed.add((facet_type, column))
    conn.close()
    assert {(t, c) for t, c, _, _ in clicked} == indexed
    assert len(indexed) >= 4
    if source == "event_list":
        assert ("column", "place_name") not in indexed
    ds = site(imported_db)
    # The most frequent value of each clicked facet, and one of the rarest stored.
    chosen: dict[tuple[str, str], list[str]] = {}
    for facet_type, column, value, _ in clicked:
        chosen.setdefault((facet_type, column), []).append(value)
    for (facet_type, column), values in chosen.items():
        for value in (values[0], values[-1]):
            query = urlencode({click_key(facet_type, column): value})
            stored = facets(ds, f"/events/{source}.json?{query}")
            live = facets(ds, f"/events/{source}.json?{query}&_where=1")
            assert stored == live, (facet_type, column, value)


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


def test_a_click_on_a_looked_up_name_reads_by_the_keys_index(imported_db: Path) -> None:
    """A click on the event list's place_name (a name the view looks up by
    key) gets its twin clause on place_id: the same rows, found by index."""
    conn = sqlite3.connect(imported_db)
    ((name, expected),) = conn.execute(
        "select p.name, count(*) from events e join places p on p.id = e.place_id group by p.name order by 2 desc limit 1"
    ).fetchall()
    expected_ids = sorted(i for (i,) in conn.execute("select id from event_list where place_name = ?", [name]))
    ds = site(imported_db)
    response = asyncio.run(
        ds.client.get(
            f"/events/event_list.json?{urlencode({'place_name': name})}&_size=max&_shape=objects&_extra=query"
        )
    )
    data = response.json()
    assert sorted(row["id"] for row in data["rows"]) == expected_ids and len(expected_ids) == expected
    query = data["query"]
    assert "place_id IN (SELECT id FROM places WHERE name = :twin_0)" in query["sql"]
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
