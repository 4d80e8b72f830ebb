"""Count, once per build, the facets of every page a reader opens unfiltered.

Datasette 0.65 counts each configured facet with a GROUP BY over the whole
table on every view of a page, one after another; at a million events the
event list's six facets take seconds, and those that reach
facet_time_limit_ms are silently left off the page. The database is
immutable, so the counts of an unfiltered page are the same for every
visitor: they are counted here, with the same SQL semantics as Datasette's
column, array and date facets, into schema.sql's facet_counts table, for
whatever facets metadata.yml configures, and plugins/facet_counts.py serves
them. So are the largest pages one facet click away: the values an
unfiltered page lists, each as a filter. Any other filtered page is counted
by Datasette, over fewer rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils
from ruamel.yaml import YAML

from . import PROJECT_ROOT

METADATA_PATH = PROJECT_ROOT / "metadata.yml"
DATABASE = "events"


def configured_facets(metadata: dict[str, Any], database: str = DATABASE) -> Iterator[tuple[str, str, str]]:
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
# A clicked value's page is counted ahead only if it holds at least this share
# of the rows: smaller pages Datasette counts live quickly, from the index that
# finds them, and leaving them out keeps the build's work down.
CLICK_MIN_SHARE = 0.01
CLICK_FACET_VALUES = 31  # what a page of that size asks for: one more, to know it is truncated


def _values(facet_type: str, column: str, side: str) -> tuple[str, str] | None:
    """A row's values for a facet, as (SQL expression, join onto temp.facet_rows AS r)."""
    col = f"r.[{column}]"
    if facet_type == "column":
        return col, ""
    if facet_type == "date":
        return f"date({col})", ""
    if facet_type == "array":
        return f"j{side}.value", f"JOIN json_each({col}) AS j{side}"
    return None  # a facet type of another plugin: Datasette counts it live


def _rows_sql(rows: str, selected: str, joins: str, where: str, arrays: bool) -> str:
    """One row per row of rows and value. An array counts a row once
    however often a value repeats in it, as Datasette's ArrayFacet counts."""
    distinct = "DISTINCT r.rowid, " if arrays else ""
    return f"SELECT {distinct}{selected} FROM {rows} AS r {joins} WHERE {where}"


def _count(db: sqlite_utils.Database, source: str, rows: str, facet: tuple[str, str]) -> int:
    expression, join = _values(*facet, "b")  # type: ignore[misc]
    valued = _rows_sql(rows, f"{expression} AS b", join, f"{expression} IS NOT NULL", bool(join))
    cursor = db.execute(
        "INSERT OR IGNORE INTO facet_counts (source, type, facet, value, count) "
        f"SELECT ?, ?, ?, b, count(*) FROM ({valued}) GROUP BY b",
        [source, *facet],
    )
    return cursor.rowcount


def _count_clicks(
    db: sqlite_utils.Database, source: str, rows: str, clicked: tuple[str, str], facet: tuple[str, str], min_rows: int
) -> int:
    """The facet's most frequent values on each page that one of the clicked
    facet's listed values, of at least min_rows rows, filters to."""
    (a, join_a), (b, join_b) = _values(*clicked, "a"), _values(*facet, "b")  # type: ignore[misc]
    listed = (
        "SELECT value FROM facet_counts WHERE source = :source AND filter_type = '' AND type = :clicked_type "
        f"AND facet = :clicked AND count >= :min_rows ORDER BY count DESC, value LIMIT {CLICKED_VALUES}"
    )
    valued = _rows_sql(
        rows,
        f"{a} AS a, {b} AS b",
        f"{join_a} {join_b}",
        f"{a} IN ({listed}) AND {b} IS NOT NULL",
        bool(join_a or join_b),
    )
    cursor = db.execute(
        "INSERT OR IGNORE INTO facet_counts "
        "(source, filter_type, filter_facet, filter_value, type, facet, value, count) "
        "SELECT :source, :clicked_type, :clicked, a, :type, :facet, b, n FROM ("
        "  SELECT a, b, n, row_number() OVER (PARTITION BY a ORDER BY n DESC, b) AS rank"
        f"  FROM (SELECT a, b, count(*) AS n FROM ({valued}) GROUP BY a, b)"
        f") WHERE rank <= {CLICK_FACET_VALUES}",
        {
            "source": source,
            "clicked_type": clicked[0],
            "clicked": clicked[1],
            "type": facet[0],
            "facet": facet[1],
            "min_rows": min_rows,
        },
    )
    return cursor.rowcount


# The WHERE clause a click on a facet's value gives the page (Datasette's
# exact, arraycontains and date filters).
CLICK_FILTERS = {
    "column": "[{c}] = ?",
    "array": "? IN (SELECT value FROM json_each([{c}]))",
    "date": "date([{c}]) = ?",
}


def found_by_index(db: sqlite_utils.Database, source: str, facet: tuple[str, str]) -> bool:
    """Whether SQLite finds the rows of a click on this facet from an index.
    Where it cannot (a view's lookup such as the event list's place names),
    the clicked page's own rows and count read every row whatever its facets
    cost, so counting that page ahead would not make it fast."""
    where = CLICK_FILTERS[facet[0]].format(c=facet[1])
    plan = db.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM [{source}] WHERE {where}", [""]).fetchall()
    return bool(plan) and plan[0][3].startswith("SEARCH")


def count_facets(db: sqlite_utils.Database, metadata_path: Path = METADATA_PATH) -> int:
    """Fill facet_counts for every configured facet of a table or view the
    database has, and for the pages one click away in the tables and views
    the `facet-counts` plugin setting lists under `clicks` (counting them
    costs a GROUP BY for every pair of their facets), for each facet whose
    clicks an index answers; return the number of values stored. Sources
    listed under `skip` are left to Datasette.

    A view's faceted columns are first copied into a temporary table, so a
    view whose facets need lookups for every row (the event list's place
    names and actor lists) is computed only once."""
    metadata = YAML(typ="safe").load(metadata_path.read_text(encoding="utf-8")) or {}
    settings = (metadata.get("plugins") or {}).get("facet-counts") or {}
    clicks, skipped = set(settings.get("clicks") or []), set(settings.get("skip") or [])
    tables, views = set(db.table_names()), set(db.view_names())
    wanted: dict[str, list[tuple[str, str]]] = {}
    for source, facet_type, column in configured_facets(metadata):
        if (
            source in tables | views
            and source not in skipped
            and column in {c.name for c in db[source].columns}
            and _values(facet_type, column, "")
        ):
            wanted.setdefault(source, [])
            if (facet_type, column) not in wanted[source]:
                wanted[source].append((facet_type, column))
    stored = 0
    with db.atomic():
        for source, facets in wanted.items():
            rows = f"[{source}]"
            if source in views:
                rows = "temp.facet_rows"
                columns = ", ".join(dict.fromkeys(f"[{column}]" for _, column in facets))
                db.execute(f"CREATE TEMP TABLE facet_rows AS SELECT {columns} FROM [{source}]")
            for facet in facets:
                stored += _count(db, source, rows, facet)
            if source in clicks:
                min_rows = math.ceil(CLICK_MIN_SHARE * db.execute(f"SELECT count(*) FROM {rows}").fetchone()[0])
                for clicked in (f for f in facets if found_by_index(db, source, f)):
                    for facet in facets:
                        stored += _count_clicks(db, source, rows, clicked, facet, min_rows)
            if source in views:
                db.execute("DROP TABLE temp.facet_rows")
    return stored
