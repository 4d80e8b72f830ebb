"""metadata.yml: Datasette's metadata and the plugins' configuration, which
the build (the facets it counts ahead), the release (titles, descriptions,
the permalink) and the reference (what each column means) read too.

It stays at the project's top, where curators edit it; loader/metadata.yml is
a symbolic link to it, which the wheel carries as a file (setuptools copies
what a link points to), so an installed site has it wherever it is run from.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from . import DATABASE_NAME
from .files import parse_yaml
from .schema import read_schema

# Resolved: in a checkout, the top-level file itself (its mtime, its git history).
METADATA_PATH = (Path(__file__).parent / "metadata.yml").resolve()


def read_metadata(path: Path = METADATA_PATH) -> dict[str, Any]:
    """The file as parsed: YAML's safe subset, as Datasette reads it (with PyYAML)."""
    return parse_yaml(path.read_text(encoding="utf-8")) or {}


class NamedBy(NamedTuple):
    """What names the values of a column that refers to a table: the table,
    the column the values are keys of, and the column that labels its rows."""

    table: str
    key: str
    label: str


def tables_metadata(path: Path = METADATA_PATH) -> dict[str, dict[str, Any]]:
    """What the file says of each table and view of the database, by name."""
    return read_metadata(path)["databases"][DATABASE_NAME].get("tables") or {}


def label_columns(path: Path = METADATA_PATH) -> dict[str, str]:
    """Each table's label_column: the column Datasette shows for a reference to its rows."""
    tables = tables_metadata(path)
    return {name: table["label_column"] for name, table in tables.items() if table.get("label_column")}


@cache
def _references() -> tuple[dict[tuple[str, str], NamedBy], dict[str, NamedBy]]:
    labels = label_columns()
    own: dict[tuple[str, str], NamedBy] = {}
    anywhere: dict[str, NamedBy] = {}
    for table in read_schema().tables.values():
        for fk in table.foreign_keys:
            if fk.table in labels:
                own[(table.name, fk.column)] = named = NamedBy(fk.table, fk.target, labels[fk.table])
                if fk.table != table.name:  # parent_id names the row's own table, which differs table by table
                    anywhere[fk.column] = named
    return own, anywhere


def named_by(table: str, column: str) -> NamedBy | None:
    """What names a column's values: the foreign key schema.sql declares on
    the table's column, else that of any table's column of the name (a
    record's nested fields, a view's columns), with the target's
    label_column. So which column names which table is read from the two
    files that say it, not written down a third time."""
    own, anywhere = _references()
    return own.get((table, column)) or anywhere.get(column)


def referring_columns() -> dict[str, NamedBy]:
    """Every column name that refers to a labelled table in some table, and what names its values."""
    return dict(_references()[1])
