"""What schema.sql declares, read back from SQLite itself.

The loader needs each table's fields, types, required fields and references
to check records. Rather than write those down a second time, it creates the
tables in an in-memory database and asks SQLite, so schema.sql stays the one
place where the data model lives.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import LoaderError

# The package's schema.sql: in a checkout a link to the top-level file, resolved
# to it; in an installed wheel a copy, so the site runs from any directory.
SCHEMA_PATH = Path(__file__).with_name("schema.sql").resolve()

# Separates the tables from what is created once the rows are loaded.
AFTER_LOAD_MARKER = re.compile(r"^-- @after-load\b.*$", re.MULTILINE)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # INTEGER, REAL, TEXT, BLOB or ANY: the STRICT types
    required: bool  # NOT NULL with no default: a record must give it
    json: bool  # holds a JSON array, written in YAML as a list
    default: str | None  # the DEFAULT clause's SQL, used when a record leaves the field out
    # An INTEGER that a CHECK holds to 0 or 1, written in YAML as true or false.
    boolean: bool = False


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    target: str


@dataclass(frozen=True)
class Check:
    """A named CHECK constraint: 'field: message' and its SQL expression."""

    field: str
    message: str
    expression: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    checks: tuple[Check, ...]

    def vocabulary(self, column: str) -> tuple[str, ...]:
        """The values a CHECK of the form `column IN ('a', 'b', ...)` allows; empty if none."""
        for check in self.checks:
            if match := re.search(rf"\b{column}\s+IN\s*\(([^)]*)\)", check.expression):
                return tuple(re.findall(r"'([^']*)'", match.group(1)))
        return ()


@dataclass(frozen=True)
class Schema:
    tables_sql: str
    after_load_sql: str
    tables: dict[str, Table]  # in the order schema.sql declares them


def split_schema(sql: str) -> tuple[str, str]:
    """Split schema.sql at its @after-load marker."""
    parts = AFTER_LOAD_MARKER.split(sql, maxsplit=1)
    if len(parts) != 2:
        raise ValueError("schema.sql has no '-- @after-load' marker line")
    return parts[0], parts[1]


NAMED_CHECK = re.compile(r'CONSTRAINT\s+"(\w+): ([^"]+)"\s+CHECK\s*\(')


def named_checks(sql: str) -> tuple[Check, ...]:
    """The CHECK constraints named "<field>: <message>" in a CREATE TABLE
    statement. SQLite stops at the first failing CHECK; knowing each one lets
    the loader report every rule a record breaks."""
    checks = []
    for match in NAMED_CHECK.finditer(sql):
        depth, quote, i = 1, "", match.end()
        while depth:
            char = sql[i]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            i += 1
        checks.append(Check(match.group(1), match.group(2), sql[match.end() : i - 1]))
    return tuple(checks)


def _table(conn: sqlite3.Connection, name: str, sql: str) -> Table:
    json_columns = set(re.findall(r"json_valid\((\w+)\)", sql))
    boolean_columns = set(re.findall(r"CHECK \((\w+) IN \(0, 1\)\)", sql))
    columns: dict[str, Column] = {}
    primary_key: list[tuple[int, str]] = []
    for _cid, column, type_, notnull, default, pk in conn.execute(f"PRAGMA table_info([{name}])"):
        columns[column] = Column(
            name=column,
            type=type_.upper(),
            required=bool(notnull) and default is None,
            json=column in json_columns,
            default=default,
            boolean=column in boolean_columns,
        )
        if pk:
            primary_key.append((pk, column))
    foreign_keys = tuple(
        ForeignKey(column=row[3], table=row[2], target=row[4])
        for row in conn.execute(f"PRAGMA foreign_key_list([{name}])")
    )
    return Table(
        name=name,
        columns=columns,
        primary_key=tuple(column for _, column in sorted(primary_key)),
        foreign_keys=tuple(sorted(foreign_keys, key=lambda fk: fk.column)),
        checks=named_checks(sql),
    )


@cache
def read_schema(path: Path = SCHEMA_PATH) -> Schema:
    if not path.is_file():
        raise LoaderError(f"{path}: no such file; run event-store from the repository's root, where schema.sql is")
    tables_sql, after_load_sql = split_schema(path.read_text(encoding="utf-8"))
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(tables_sql)
        tables = {
            name: _table(conn, name, sql)
            for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        }
    finally:
        conn.close()
    return Schema(tables_sql=tables_sql, after_load_sql=after_load_sql, tables=tables)
