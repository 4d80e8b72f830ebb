"""What changed between two releases, record by record and field by field.

Readers of a new release ask what is new since the one they cited; ACLED
answers with a changed timestamp and a separate list of deleted ids. Here the
two releases' databases are compared table by table on their primary keys,
in SQL (the tables can hold a large import), and every changed field is
given with its old and new value. A record that is gone is listed with its
withdrawal (date, reason, replacement) when it has one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..build.compare import differing, key_sql, only_in
from ..files import connect_readonly, readonly_uri
from ..schema import Schema


@dataclass
class Changed:
    key: str
    fields: dict[str, dict[str, Any]]  # column: {"old": value, "new": value}


@dataclass
class TableChanges:
    added: list[str] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    withdrawn: list[dict[str, Any]] = field(default_factory=list)  # key, withdrawn, reason, replaced_by

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.withdrawn)


@dataclass
class Changes:
    previous: str | None  # the previous release's version; None for the first release
    version: str
    tables: dict[str, TableChanges]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _table_changes(conn: sqlite3.Connection, table: str, key: list[str]) -> TableChanges:
    old_columns = {row[1] for row in conn.execute(f"PRAGMA old.table_info([{table}])")}
    new_columns = [row[1] for row in conn.execute(f"PRAGMA main.table_info([{table}])")]
    result = TableChanges()
    if not old_columns:  # a table the previous release did not have
        result.added = [
            row[0] for row in conn.execute(f"SELECT {key_sql('n', key)} FROM main.[{table}] AS n ORDER BY 1")
        ]
        return result
    result.added = [row[0] for row in conn.execute(only_in("main", "old", table, key) + " ORDER BY 1")]
    shared = [c for c in new_columns if c in old_columns and c not in key]
    if shared:
        for row in conn.execute(differing("main", "old", table, key, shared) + " ORDER BY 1"):
            fields = {
                column: {"old": row[1 + 2 * i], "new": row[2 + 2 * i]}
                for i, column in enumerate(shared)
                if row[1 + 2 * i] != row[2 + 2 * i]
            }
            result.changed.append(Changed(row[0], fields))
    has_withdrawals = "withdrawals" != table and len(key) == 1
    for row in conn.execute(only_in("old", "main", table, key) + " ORDER BY 1"):
        entry: dict[str, Any] = {"key": row[0], "withdrawn": None, "reason": None, "replaced_by": None}
        if has_withdrawals:
            found = conn.execute(
                "SELECT withdrawn, reason, replaced_by FROM main.withdrawals WHERE table_name = ? AND id = ?",
                [table, row[0]],
            ).fetchone()
            if found:
                entry.update(withdrawn=found[0], reason=found[1], replaced_by=found[2])
        result.withdrawn.append(entry)
    return result


def compare(
    previous: Path | None, current: Path, schema: Schema, previous_version: str | None, version: str
) -> Changes:
    """The changes to the curated tables (those schema.sql declares for
    records) from the previous release's database to the current one's."""
    conn = connect_readonly(current)
    try:
        if previous is None:  # an empty database: every record is added
            conn.execute("ATTACH ':memory:' AS old")
        else:
            conn.execute("ATTACH ? AS old", [readonly_uri(previous)])
        tables = {name: _table_changes(conn, name, list(table.primary_key)) for name, table in schema.tables.items()}
    finally:
        conn.close()
    return Changes(previous_version, version, tables)


def _cell(value: Any) -> str:
    text = "(empty)" if value is None else str(value)
    text = text if len(text) <= 200 else text[:199] + "…"
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(changes: Changes) -> str:
    """CHANGES.md: the same changes for people, table by table."""
    since = f"since {changes.previous}" if changes.previous else "(the first release: every record is new)"
    lines = [f"# Changes in {changes.version} {since}", ""]
    if not any(changes.tables.values()):
        lines += ["No record was added, changed or withdrawn.", ""]
    else:
        lines += ["| table | added | changed | withdrawn |", "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {table} | {len(found.added)} | {len(found.changed)} | {len(found.withdrawn)} |"
            for table, found in changes.tables.items()
            if found
        ]
        lines.append("")
    for table, found in changes.tables.items():
        if not found:
            continue
        lines += [f"## {table}", ""]
        if found.added and not changes.previous:
            lines += [f"{len(found.added)} records; changes.json lists them.", ""]
        elif found.added:
            lines += [f"Added ({len(found.added)}): " + ", ".join(f"`{key}`" for key in found.added), ""]
        if found.changed:
            lines += [
                f"Changed ({len(found.changed)}):",
                "",
                "| record | field | old | new |",
                "| --- | --- | --- | --- |",
            ]
            for changed in found.changed:
                for column, values in changed.fields.items():
                    lines.append(f"| `{changed.key}` | {column} | {_cell(values['old'])} | {_cell(values['new'])} |")
            lines.append("")
        if found.withdrawn:
            lines += [f"Withdrawn ({len(found.withdrawn)}):", ""]
            for entry in found.withdrawn:
                detail = f" on {entry['withdrawn']}: {entry['reason']}" if entry["reason"] else ""
                replaced = f"; replaced by `{entry['replaced_by']}`" if entry["replaced_by"] else ""
                lines.append(f"- `{entry['key']}`{detail}{replaced}")
            lines.append("")
    return "\n".join(lines)
