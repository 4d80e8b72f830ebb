"""Count, once per build, the facets of every page a reader opens unfiltered.

Datasette 0.65 counts each configured facet with a GROUP BY over the whole
table on every view of a page, one after another; at a million events the
event list's six facets take seconds, and those that reach
facet_time_limit_ms are silently left off the page. The database is
immutable, so the counts of an unfiltered page are the same for every
visitor: they are counted here, with the same SQL semantics as Datasette's
column, array and date facets, into schema.sql's facet_counts table, for
whatever facets metadata.yml configures, and loader/site/plugins/facet_counts.py serves
them. So are the largest pages one facet click away: the values an
unfiltered page lists, each as a filter, whose page holds CLICK_MIN_ROWS
rows or more (or a share of a small table's). So are the pages the
overview's squares link (loader/stored_pages.py): a name's events of a month or
year, which, filtered three ways, no single index finds, and the bar of all
events of each period, which holds a tenth of the rows. Any other filtered
page is counted live, over fewer rows, by loader/site/plugins/facet_counts.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from .. import DATABASE_NAME
from ..metadata import METADATA_PATH, read_metadata
from ..stored_pages import (
    CHARTS,
    DATED,
    LINKED,
    PERIOD,
    ROWS,
    SHOWN_KEYS,
    Indexed,
    as_click,
    filter_column,
    indexed_columns,
    period_width,
)


def configured_facets(metadata: dict[str, Any], database: str = DATABASE_NAME) -> Iterator[tuple[str, str, str]]:
    """(source, facet type, column) for each facet metadata.yml configures,
    read the way Datasette's load_facet_configs reads them: a plain name is a
    column facet, {type: column} or {type: {column: ...}} names its type."""
    tables = (metadata.get("databases") or {}).get(database, {}).get("tables") or {}
    for source, options in tables.items():
        for config in (options or {}).get("facets") or []:
            if isinstance(config, str):
                yield source, "column", config
                continue
            ((facet_type, value),) = dict(config).items()
            column = value if isinstance(value, str) else value.get("column") or value.get("simple")
            yield source, facet_type, column


CLICKED_VALUES = 30  # Datasette's default_facet_size: the values an unfiltered page lists
# A clicked value's page is counted ahead if it holds at least CLICK_MIN_ROWS
# rows, or at least a share of the rows: smaller pages Datasette counts live
# quickly (loader/site/plugins/facet_counts.py reads a thousand rows' facets in a few tens
# of milliseconds), from the index that finds them, and leaving them out keeps
# the build's work down.
CLICK_MIN_ROWS = 1_000
CLICK_MIN_SHARE = 0.01
CLICK_FACET_VALUES = 31  # what a page of that size asks for: one more, to know it is truncated
# Facets of few values are counted together, in one pass over the rows; which
# they are is judged on a sample of the rows, whose distinct combinations of
# those facets' values must stay under a share of its size. The choice only
# decides how fast the counts are made, never what they are.
SAMPLE_ROWS = 10_000
TOGETHER_SHARE = 0.1


def _expression(facet_type: str, column: str) -> str | None:
    """What temp.facet_rows holds of a facet: the value it counts, or an array's JSON."""
    return {"column": f"[{column}]", "date": f"date([{column}])", "array": f"[{column}]"}.get(facet_type)


def _value(facets: list[tuple[str, str]], i: int) -> tuple[str, str]:
    """Facet i's value in a row of temp.facet_rows AS r, and the join an array needs."""
    if facets[i][0] == "array":
        return f"j{i}.value", f"JOIN json_each(r.v{i}) AS j{i}"
    return f"r.v{i}", ""


def _tally(
    db: sqlite_utils.Database,
    name: str,
    facets: list[tuple[str, str]],
    members: list[int],
    rows: str = "facet_rows",
    by: tuple[str, ...] = (),
) -> None:
    """temp.<name>: the rows of temp.<rows> counted (n) by their values of
    the member facets (and of the `by` columns, which tell pages apart), so
    that the counts of any of those facets, or of any pair of them, are sums
    over its few rows instead of a pass over all the rows. An array facet's
    values are its elements, each counted once a row however often it
    repeats there, as Datasette's ArrayFacet counts."""
    values = [_value(facets, i) for i in members]
    selected = ", ".join(
        [*(f"r.{column} AS {column}" for column in by)]
        + [f"{value} AS v{i}" for (value, _), i in zip(values, members, strict=True)]
    )
    joins = " ".join(join for _, join in values if join)
    distinct = "DISTINCT r.rowid, " if joins else ""
    grouped = ", ".join([*by, *(f"v{i}" for i in members)])
    db.execute(
        f"CREATE TEMP TABLE {name} AS SELECT {grouped}, count(*) AS n "
        f"FROM (SELECT {distinct}{selected} FROM temp.{rows} AS r {joins}) GROUP BY {grouped}"
    )


def _counted_together(db: sqlite_utils.Database, facets: list[tuple[str, str]]) -> list[int]:
    """The facets (but arrays) whose values, in a sample of the rows, combine
    into few enough distinct rows to be counted together."""
    sample = f"(SELECT * FROM temp.facet_rows LIMIT {SAMPLE_ROWS})"
    (rows,) = db.execute(f"SELECT count(*) FROM {sample}").fetchone()
    candidates = [i for i, (facet_type, _) in enumerate(facets) if facet_type != "array"]
    distinct = {i: db.execute(f"SELECT count(DISTINCT v{i}) FROM {sample}").fetchone()[0] for i in candidates}
    together: list[int] = []
    for i in sorted(candidates, key=lambda i: (distinct[i], i)):
        columns = ", ".join(f"v{j}" for j in [*together, i])
        (combinations,) = db.execute(f"SELECT count(*) FROM (SELECT DISTINCT {columns} FROM {sample})").fetchone()
        if combinations <= rows * TOGETHER_SHARE:
            together.append(i)
    return sorted(together)


# The clicked facet's values that an unfiltered page lists, of at least :min_rows rows.
LISTED = (
    "SELECT value FROM facet_counts WHERE source = :source AND filter_type = '' AND type = :clicked_type "
    f"AND facet = :clicked AND count >= :min_rows ORDER BY count DESC, value LIMIT {CLICKED_VALUES}"
)


def _count(db: sqlite_utils.Database, source: str, facet: tuple[str, str], tally: str, i: int) -> int:
    """Store a facet's counts over all the rows, from a tally that holds it."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO facet_counts (source, type, facet, value, count) "
        f"SELECT ?, ?, ?, v{i}, sum(n) FROM temp.{tally} WHERE v{i} IS NOT NULL GROUP BY v{i}",
        [source, *facet],
    )
    return cursor.rowcount


def _count_pages(
    db: sqlite_utils.Database, tally: str, pages: dict[str, str], facet: str, params: dict[str, Any], where: str = ""
) -> int:
    """The facet's most frequent values on each page of a filter's (the
    clicked facet's, or an overview chart's), from a tally that holds the
    facet in its column `facet` and tells the pages apart by the columns
    `pages` maps facet_counts' columns to (filter_value, and filter_period
    for a square)."""
    stored, columns = ", ".join(pages), ", ".join(pages.values())
    cursor = db.execute(
        "INSERT OR IGNORE INTO facet_counts "
        f"(source, filter_type, filter_facet, {stored}, type, facet, value, count) "
        f"SELECT :source, :clicked_type, :clicked, {columns}, :type, :facet, b, n FROM ("
        f"  SELECT {columns}, b, n, row_number() OVER (PARTITION BY {columns} ORDER BY n DESC, b) AS rank FROM ("
        f"    SELECT {columns}, {facet} AS b, sum(n) AS n FROM temp.{tally}"
        f"    WHERE {facet} IS NOT NULL {where} GROUP BY {columns}, {facet})"
        f") WHERE rank <= {CLICK_FACET_VALUES}",
        params,
    )
    return cursor.rowcount


# The WHERE clause a click on a facet's value gives the page (Datasette's
# exact, arraycontains and date filters), by the lookup the click adds.
CLICK_FILTERS = {
    "column": ("exact", "[{c}] = :value"),
    "array": ("arraycontains", ":value IN (SELECT value FROM json_each([{c}]))"),
    "date": ("date", "date([{c}]) = :value"),
}


def found_by_index(
    db: sqlite_utils.Database, source: str, facet: tuple[str, str], indexed: dict[str, Indexed] | None = None
) -> bool:
    """Whether SQLite finds the rows of a click on this facet from an index,
    with the twin clause an `indexed` column's click gets. Where it cannot,
    the clicked page's own rows and count read every row whatever its facets
    cost, so counting that page ahead would not make it fast."""
    lookup, where = CLICK_FILTERS[facet[0]]
    twin = (indexed or {}).get(facet[1])
    if twin and twin.lookup == lookup:
        where += " AND " + twin.clause("value")
    plan = db.execute(
        f"EXPLAIN QUERY PLAN SELECT count(*) FROM [{source}] WHERE {where.format(c=facet[1])}", {"value": ""}
    ).fetchall()
    return bool(plan) and plan[0][3].startswith("SEARCH")


def _find_listed_clicks(
    db: sqlite_utils.Database, facets: list[tuple[str, str]], clicked: int, params: dict[str, Any]
) -> None:
    """temp.facet_clicked (row, clicked): the rows of a many-valued facet's
    listed values, found once for the tallies of every facet on their pages."""
    value, join = _value(facets, clicked)
    db.execute(
        "CREATE TEMP TABLE facet_clicked AS "
        f"SELECT DISTINCT r.rowid AS row, {value} AS clicked FROM temp.facet_rows AS r {join} "
        f"WHERE {value} IN ({LISTED})",
        params,
    )


def _tally_listed_clicks(db: sqlite_utils.Database, facets: list[tuple[str, str]], i: int) -> None:
    """temp.facet_click (clicked, value, n): a tally of facet i over the rows
    of temp.facet_clicked alone, each row once for each distinct value of an array."""
    value, join = _value(facets, i)
    distinct = "DISTINCT " if join else ""
    db.execute(
        "CREATE TEMP TABLE facet_click AS SELECT clicked, value, count(*) AS n FROM ("
        f"SELECT {distinct}c.row, c.clicked, {value} AS value FROM temp.facet_clicked AS c "
        f"JOIN temp.facet_rows AS r ON r.rowid = c.row {join}) GROUP BY clicked, value"
    )


def count_facets(db: sqlite_utils.Database, metadata_path: Path = METADATA_PATH) -> int:
    """Fill facet_counts for every configured facet of a table or view the
    database has, and for the pages one click away in the tables and views
    the `facet-counts` plugin setting lists under `clicks`, for each facet
    whose clicks an index answers (with the twin clause of an `indexed`
    column); return the number of values stored.
    Sources listed under `skip` are left to Datasette.

    A source's faceted values are first copied into a temporary table, so a
    view whose facets need lookups for every row (the event list's place
    names and actor lists) is computed once, and a table's wide rows are read
    once. Then the facets of few values are tallied together in one pass, and
    each other facet in one pass with them: every count, on the unfiltered
    page and one click away, is a sum over a tally, where counting each pair
    of facets apart would read every row once a pair."""
    metadata = read_metadata(metadata_path)
    settings = (metadata.get("plugins") or {}).get("facet-counts") or {}
    clicks, skipped = set(settings.get("clicks") or []), set(settings.get("skip") or [])
    tables, views = set(db.table_names()), set(db.view_names())
    wanted: dict[str, list[tuple[str, str]]] = {}
    for source, facet_type, column in configured_facets(metadata):
        if (
            source in tables | views
            and source not in skipped
            and column in {c.name for c in db[source].columns}
            and _expression(facet_type, column)
        ):
            wanted.setdefault(source, [])
            if (facet_type, column) not in wanted[source]:
                wanted[source].append((facet_type, column))
    stored = 0
    with db.atomic():
        for source, facets in wanted.items():
            indexed = indexed_columns(settings, DATABASE_NAME, source) if source in clicks else None
            stored += _count_source(db, source, facets, indexed)
    return stored


def _square_columns(db: sqlite_utils.Database, source: str) -> str:
    """What temp.facet_rows holds for the overview's squares, when the
    source is the page they link and has their columns: each row's period
    (period), whether it is dated to more than a year (dated), and its key
    in each chart (k0, k1, ...: a value, or for an array its JSON)."""
    period, dated = filter_column(PERIOD)[0], filter_column(DATED[0])[0]
    charts = [filter_column(key)[0] for _, _, key in CHARTS]
    if source != LINKED or not {period, dated, *charts} <= {c.name for c in db[source].columns}:
        return ""
    (months,) = db.execute("SELECT count(*) FROM overview_months").fetchone()
    keys = "".join(f", [{column}] AS k{i}" for i, column in enumerate(charts))
    return f", substr([{period}], 1, {period_width(months)}) AS period, [{dated}] <> '{DATED[1]}' AS dated{keys}"


def _count_squares(
    db: sqlite_utils.Database,
    source: str,
    facets: list[tuple[str, str]],
    together: list[int],
    tallies: dict[int, str],
) -> int:
    """Count the facets of each page an overview square links: the bar of
    all events, and each chart's shown names, their events of each period
    dated to more than a year.

    The source's tallies, which then also tell periods and dated rows apart,
    hold the bar's counts, and those of a chart whose key is a facet counted
    together (the event type): both are sums over them, with no pass over
    the rows. Any other chart's rows (each row once for each of its shown
    keys) are copied with their key and period, and tallied as the source's
    rows are, the facets of few values together."""
    stored = 0
    period = {"filter_period": "period"}
    for i, (facet_type, column) in enumerate(facets):
        bar = {"source": source, "clicked_type": "", "clicked": "", "type": facet_type, "facet": column}
        stored += _count_pages(db, tallies[i], period, f"v{i}", bar, "AND dated")
    for chart, (dimension, _, key) in enumerate(CHARTS):
        click = as_click(key, "")
        assert click is not None, key
        params: dict[str, Any] = {
            "source": source,
            "clicked_type": click.type,
            "clicked": click.column,
            "dimension": dimension,
            "rows": ROWS,
        }
        if (click.type, click.column) in facets and facets.index((click.type, click.column)) in together:
            name = f"v{facets.index((click.type, click.column))}"
            for i, (facet_type, column) in enumerate(facets):
                params.update(type=facet_type, facet=column)
                shown = f"AND dated AND {name} IN ({SHOWN_KEYS})"
                stored += _count_pages(db, tallies[i], {"filter_value": name, **period}, f"v{i}", params, shown)
            continue
        name, join = (f"r.k{chart}", "") if click.type != "array" else ("k.value", f"JOIN json_each(r.k{chart}) AS k")
        copied = ", ".join(f"r.v{i} AS v{i}" for i in range(len(facets)))
        db.execute(
            f"CREATE TEMP TABLE square_rows AS SELECT {name} AS key, r.period AS period, {copied} "
            f"FROM temp.facet_rows AS r {join} WHERE r.dated AND {name} IN ({SHOWN_KEYS})",
            params,
        )
        square_tallies = {i: "square_tally" for i in together}
        if together:
            _tally(db, "square_tally", facets, together, "square_rows", ("key", "period"))
        for i in range(len(facets)):
            if i not in square_tallies:
                square_tallies[i] = f"square_tally_{i}"
                _tally(db, square_tallies[i], facets, [i], "square_rows", ("key", "period"))
        for i, (facet_type, column) in enumerate(facets):
            params.update(type=facet_type, facet=column)
            stored += _count_pages(db, square_tallies[i], {"filter_value": "key", **period}, f"v{i}", params)
        for tally in ["square_rows", *dict.fromkeys(square_tallies.values())]:
            db.execute(f"DROP TABLE temp.{tally}")
    return stored


def _count_source(
    db: sqlite_utils.Database, source: str, facets: list[tuple[str, str]], indexed: dict[str, Indexed] | None
) -> int:
    """Count a source's facets, and with `indexed` (the source's clicks are
    counted, and these are its indexed columns) its pages one click away and
    the pages the overview's squares link."""
    clicks = indexed is not None
    columns = ", ".join(f"{_expression(*facet)} AS v{i}" for i, facet in enumerate(facets))
    squares = _square_columns(db, source) if clicks else ""
    db.execute(f"CREATE TEMP TABLE facet_rows AS SELECT {columns}{squares} FROM [{source}]")
    together = _counted_together(db, facets)
    tallies = {i: "facet_tally" for i in together}
    by = ("period", "dated") if squares else ()
    if together:
        _tally(db, "facet_tally", facets, together, by=by)
    for i in range(len(facets)):
        if i not in tallies:
            tallies[i] = f"facet_tally_{i}"
            _tally(db, tallies[i], facets, [*together, i] if clicks else [i], by=by)
    stored = sum(_count(db, source, facet, tallies[i], i) for i, facet in enumerate(facets))
    if clicks:
        (rows,) = db.execute("SELECT count(*) FROM temp.facet_rows").fetchone()
        for clicked, (clicked_type, clicked_column) in enumerate(facets):
            params = {
                "source": source,
                "clicked_type": clicked_type,
                "clicked": clicked_column,
                "min_rows": min(CLICK_MIN_ROWS, math.ceil(CLICK_MIN_SHARE * rows)),
            }
            if not found_by_index(db, source, facets[clicked], indexed) or not db.execute(LISTED, params).fetchone():
                continue
            if clicked not in together:
                _find_listed_clicks(db, facets, clicked, params)
            for i, (facet_type, column) in enumerate(facets):
                params.update(type=facet_type, facet=column)
                if clicked in together:
                    listed = f"AND v{clicked} IN ({LISTED})"
                    stored += _count_pages(db, tallies[i], {"filter_value": f"v{clicked}"}, f"v{i}", params, listed)
                    continue
                _tally_listed_clicks(db, facets, i)
                stored += _count_pages(db, "facet_click", {"filter_value": "clicked"}, "value", params)
                db.execute("DROP TABLE temp.facet_click")
            if clicked not in together:
                db.execute("DROP TABLE temp.facet_clicked")
    if squares:
        stored += _count_squares(db, source, facets, together, tallies)
    for tally in dict.fromkeys(tallies.values()):
        db.execute(f"DROP TABLE temp.{tally}")
    db.execute("DROP TABLE temp.facet_rows")
    return stored
