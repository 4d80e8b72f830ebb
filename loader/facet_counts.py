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
unfiltered page lists, each as a filter, whose page holds CLICK_MIN_ROWS
rows or more (or a share of a small table's). Any other filtered page is
counted live, over fewer rows, by plugins/facet_counts.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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


# The likelihood an `often` twin clause declares: any value above about a
# tenth makes SQLite walk the page's sort index rather than the key's.
OFTEN = 0.5


@dataclass(frozen=True)
class Indexed:
    """A column a view computes by looking values up by a key, which no index
    holds (the event list's place_name, its actor_names array); metadata.yml
    gives each (plugins: facet-counts: indexed) with `values`, SQL that lists
    each key's values as (key, value) rows. A filter on the column then gets a
    twin clause on the key, which the key's index answers, and an array is
    faceted by joining `values` to the page's keys rather than by building
    and unpacking every row's JSON; for an array, the key tells the rows apart."""

    key: str
    values: str
    array: bool = False

    @property
    def lookup(self) -> str:
        """The filter (Datasette's lookup) the twin clause stands beside."""
        return "arraycontains" if self.array else "exact"

    def clause(self, parameter: str, often: bool = False) -> str:
        """The rows whose key has the value bound to :parameter.

        SQLite guesses a list of keys to be short, so it reads every one of
        its rows, computes each for the page and sorts them all, even when
        they are a tenth of a million. With `often` (a value of many rows)
        the clause tells SQLite it holds for many rows, and a page in an
        indexed order then walks that index and stops once it is full; a
        count or a facet, which need every row, still read them by the key."""
        clause = f"[{self.key}] IN (SELECT key FROM ({self.values}) WHERE value = :{parameter})"
        return f"likelihood({clause}, {OFTEN})" if often else clause

    def rows_sql(self, parameter: str) -> str:
        """How many (key, value) pairs have the value bound to :parameter, up
        to :enough: for an array, about the rows a filter on it finds."""
        return f"SELECT count(*) FROM (SELECT 1 FROM ({self.values}) WHERE value = :{parameter} LIMIT :enough)"


def indexed_columns(settings: dict[str, Any], database: str, table: str) -> dict[str, Indexed]:
    """The `indexed` columns of one table or view, from the facet-counts setting."""
    configured = ((settings.get("indexed") or {}).get(database) or {}).get(table) or {}
    return {
        column: Indexed(config["key"], config["values"], bool(config.get("array")))
        for column, config in configured.items()
    }


CLICKED_VALUES = 30  # Datasette's default_facet_size: the values an unfiltered page lists
# A clicked value's page is counted ahead if it holds at least CLICK_MIN_ROWS
# rows, or at least a share of the rows: smaller pages Datasette counts live
# quickly (plugins/facet_counts.py reads a thousand rows' facets in a few tens
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
) -> None:
    """temp.<name>: the rows of temp.facet_rows counted (n) by their values
    of the member facets, so that the counts of any of those facets, or of
    any pair of them, are sums over its few rows instead of a pass over all
    the rows. An array facet's values are its elements, each counted once a
    row however often it repeats there, as Datasette's ArrayFacet counts."""
    values = [_value(facets, i) for i in members]
    selected = ", ".join(f"{value} AS v{i}" for (value, _), i in zip(values, members, strict=True))
    joins = " ".join(join for _, join in values if join)
    distinct = "DISTINCT r.rowid, " if joins else ""
    rows = f"SELECT {distinct}{selected} FROM temp.facet_rows AS r {joins}"
    grouped = ", ".join(f"v{i}" for i in members)
    db.execute(f"CREATE TEMP TABLE {name} AS SELECT {grouped}, count(*) AS n FROM ({rows}) GROUP BY {grouped}")


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


def _count_clicks(db: sqlite_utils.Database, tally: str, clicked: str, facet: str, params: dict[str, Any]) -> int:
    """The facet's most frequent values on each page that one of the clicked
    facet's listed values filters to, from a tally that holds both facets
    (in its columns named `clicked` and `facet`)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO facet_counts "
        "(source, filter_type, filter_facet, filter_value, type, facet, value, count) "
        "SELECT :source, :clicked_type, :clicked, a, :type, :facet, b, n FROM ("
        "  SELECT a, b, n, row_number() OVER (PARTITION BY a ORDER BY n DESC, b) AS rank FROM ("
        f"    SELECT {clicked} AS a, {facet} AS b, sum(n) AS n FROM temp.{tally}"
        f"    WHERE {clicked} IN ({LISTED}) AND {facet} IS NOT NULL GROUP BY {clicked}, {facet})"
        f") WHERE rank <= {CLICK_FACET_VALUES}",
        params,
    )
    return cursor.rowcount


# What a facet click adds to the query string, by Datasette's lookup (its
# toggle links): the type of facet whose stored counts stand for that page.
CLICK_LOOKUPS = {"exact": "column", "arraycontains": "array", "date": "date"}


class Click(NamedTuple):
    """A facet click's filter: its query string key and value, and the
    type and column of the facet whose stored counts stand for its page."""

    key: str
    type: str
    column: str
    value: str


def single_click(pairs: list[tuple[str, str]]) -> Click | None:
    """The click when a query string's (key, value) pairs hold one filter,
    and it is a facet click (column=value, column__arraycontains=value or
    column__date=value); None when they hold another lookup or more or
    fewer filters. Keys starting with an underscore are Datasette's options
    (a search among them), and are not looked at."""
    filters = [(key, value) for key, value in pairs if not key.startswith("_") or "__" in key]
    if len(filters) != 1:
        return None
    key, value = filters[0]
    column, _, lookup = key.rpartition("__") if "__" in key else (key, "", "exact")
    if lookup not in CLICK_LOOKUPS:
        return None
    return Click(key, CLICK_LOOKUPS[lookup], column, value)


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
            and _expression(facet_type, column)
        ):
            wanted.setdefault(source, [])
            if (facet_type, column) not in wanted[source]:
                wanted[source].append((facet_type, column))
    stored = 0
    with db.atomic():
        for source, facets in wanted.items():
            indexed = indexed_columns(settings, DATABASE, source) if source in clicks else None
            stored += _count_source(db, source, facets, indexed)
    return stored


def _count_source(
    db: sqlite_utils.Database, source: str, facets: list[tuple[str, str]], indexed: dict[str, Indexed] | None
) -> int:
    """Count a source's facets, and with `indexed` (the source's clicks are
    counted, and these are its indexed columns) its pages one click away."""
    clicks = indexed is not None
    columns = ", ".join(f"{_expression(*facet)} AS v{i}" for i, facet in enumerate(facets))
    db.execute(f"CREATE TEMP TABLE facet_rows AS SELECT {columns} FROM [{source}]")
    together = _counted_together(db, facets)
    tallies = {i: "facet_tally" for i in together}
    if together:
        _tally(db, "facet_tally", facets, together)
    for i in range(len(facets)):
        if i not in tallies:
            tallies[i] = f"facet_tally_{i}"
            _tally(db, tallies[i], facets, [*together, i] if clicks else [i])
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
                    stored += _count_clicks(db, tallies[i], f"v{clicked}", f"v{i}", params)
                    continue
                _tally_listed_clicks(db, facets, i)
                stored += _count_clicks(db, "facet_click", "clicked", "value", params)
                db.execute("DROP TABLE temp.facet_click")
            if clicked not in together:
                db.execute("DROP TABLE temp.facet_clicked")
    for tally in dict.fromkeys(tallies.values()):
        db.execute(f"DROP TABLE temp.{tally}")
    db.execute("DROP TABLE temp.facet_rows")
    return stored
