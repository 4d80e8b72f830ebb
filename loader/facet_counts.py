"""Count, once per build, the facets of every page a reader opens unfiltered.

Datasette 0.65 counts each configured facet with a GROUP BY over the whole
table on every view of a page, one after another; at a million events the
event list's six facets take seconds, and those that reach
facet_time_limit_ms are silently left off the page. The database is
immutable, so the counts of an unfiltered page are the same for every
visitor: they are counted here, with the same SQL semantics as Datasette's
column, array and date facets, into schema.sql's facet_counts table, for
whatever facets metadata.yml configures, and plugins/facet_counts.py serves
them. Filtered pages are still counted by Datasette, from the indexes.
"""

from __future__ import annotations

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


def _counting_sql(rows: str, facet_type: str, column: str) -> str | None:
    """The GROUP BY over rows whose result is Datasette's facet of that type, unlimited."""
    col = f"[{column}]"
    if facet_type == "column":
        return f"SELECT {col}, count(*) FROM {rows} WHERE {col} IS NOT NULL GROUP BY {col}"
    if facet_type == "date":
        return f"SELECT date({col}), count(*) FROM {rows} WHERE date({col}) IS NOT NULL GROUP BY date({col})"
    if facet_type == "array":
        # Rows containing each value, a value repeated within one array counted
        # once, as Datasette's ArrayFacet counts; numbering the rows stands in
        # for its DISTINCT over whole rows, which a view has no key for.
        return (
            f"SELECT value, count(*) FROM (SELECT DISTINCT n, j.value AS value FROM "
            f"(SELECT row_number() OVER () AS n, {col} AS a FROM {rows}) AS numbered, json_each(numbered.a) AS j "
            "WHERE j.value IS NOT NULL) GROUP BY value"
        )
    return None  # a facet type of another plugin: Datasette counts it live


def count_facets(db: sqlite_utils.Database, metadata_path: Path = METADATA_PATH) -> int:
    """Fill facet_counts for every configured facet of a table or view the
    database has; return the number of values stored.

    A view's faceted columns are computed once into a temporary table and
    counted from there, so a view with several facets (the event list's place
    names and actor lists need lookups for every event) is read only once."""
    metadata = YAML(typ="safe").load(metadata_path.read_text(encoding="utf-8")) or {}
    tables, views = set(db.table_names()), set(db.view_names())
    wanted: dict[str, list[tuple[str, str]]] = {}
    for source, facet_type, column in configured_facets(metadata):
        if source in tables | views and column in {c.name for c in db[source].columns}:
            wanted.setdefault(source, []).append((facet_type, column))
    stored = 0
    with db.atomic():
        for source, facets in wanted.items():
            rows = f"[{source}]"
            if source in views:
                rows = "temp.facet_rows"
                columns = ", ".join(dict.fromkeys(f"[{column}]" for _, column in facets))
                db.execute(f"CREATE TEMP TABLE facet_rows AS SELECT {columns} FROM [{source}]")
            for facet_type, column in facets:
                sql = _counting_sql(rows, facet_type, column)
                if sql is not None:
                    cursor = db.execute(
                        f"INSERT OR IGNORE INTO facet_counts (source, type, facet, value, count) SELECT ?, ?, ?, * FROM ({sql})",
                        [source, facet_type, column],
                    )
                    stored += cursor.rowcount
            if source in views:
                db.execute("DROP TABLE temp.facet_rows")
    return stored
