"""The schema reference of docs/reference.md, generated from the two files that hold its facts.

Each fact about a column is written once: its type, whether it is required,
what it refers to and which values it allows live in schema.sql; what it
means lives in metadata.yml, where Datasette shows it beside the column. The
reference's section is generated from both (with cog, see the notes for
contributors in docs/architecture.md), so none of the three can drift from another.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

from .metadata import METADATA_PATH, tables_metadata
from .schema import Column, Table, read_schema


def table_metadata(table: str, path: Path = METADATA_PATH) -> dict:
    return tables_metadata(path).get(table) or {}


def view_columns() -> dict[str, list[str]]:
    """Each view of schema.sql and its columns, as SQLite reports them once every part has run."""
    schema = read_schema()
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(schema.tables_sql)
        conn.executescript(schema.after_load_sql)
        names = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY rowid")]
        return {name: [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")] for name in names}
    finally:
        conn.close()


def column_facts(table: Table, column: Column) -> str:
    """What schema.sql says of a column, in words: its type, key, reference and values."""
    facts = [column.type.lower() if not column.json else "JSON list"]
    if column.name in table.primary_key:
        facts.append("key")
    elif column.required:
        facts.append("required")
    facts += [f"→ `{fk.table}`" for fk in table.foreign_keys if fk.column == column.name]
    if values := table.vocabulary(column.name):
        facts.append("one of " + ", ".join(f"`{v}`" for v in values))
    return "; ".join(facts)


def schema_markdown() -> str:
    """Every table of schema.sql with its description and, for each column,
    the facts of schema.sql and the meaning given in metadata.yml."""
    parts = []
    described = tables_metadata()
    for table in read_schema().tables.values():
        meta = described.get(table.name) or {}
        columns = meta.get("columns") or {}
        lines = [f"**`{table.name}`** — {meta.get('description', '').strip()}", ""]
        lines += ["| column | schema | meaning |", "| --- | --- | --- |"]
        lines += [
            f"| `{name}` | {column_facts(table, column)} | {columns.get(name, '')} |"
            for name, column in table.columns.items()
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def views_markdown() -> str:
    """Every view of schema.sql, with what metadata.yml says it is for."""
    described = tables_metadata()
    return "\n".join(
        f"- `{name}` — {' '.join((described.get(name) or {}).get('description', '').split())}"
        for name in view_columns()
    )


# The package's layers, lowest first, each a row of the folders (or, for
# "core", the modules at the package's top that no other row names) that
# stand side by side. A module imports from its own folder and from the rows
# below it only: never upward, and never from a neighbour in its own row
# (records and imports know nothing of each other, nor do release and desk).
# tests/test_layers.py holds every import of the package to it.
LAYERS: list[list[str]] = [
    ["core"],
    ["records", "imports"],
    ["build"],
    ["release", "desk"],
    ["site"],
    ["cli", "reference"],
    ["__main__"],
]


def layer_of(module: str) -> tuple[int, str]:
    """(row, folder) of a dotted module name of the package."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "core"
    for row, folders in enumerate(LAYERS):
        if name in folders:
            return row, name
    return 0, "core"


def layers_markdown() -> str:
    """The layers as docs/architecture.md shows them, highest first."""
    rows = ["| layer | folders |", "| --- | --- |"]
    for row, folders in reversed(list(enumerate(LAYERS))):
        named = ", ".join("the package's top modules" if f == "core" else f"`loader/{f}`" for f in folders)
        rows.append(f"| {row} | {named} |")
    return "\n".join(rows)


def layout_markdown(package: Path = Path(__file__).parent) -> str:
    """Every module of the package with the first sentence of its docstring,
    as a table, for docs/architecture.md: read from the files (not imported,
    so no plugin registers and no command runs), so the layout a contributor
    reads is the one the code has."""
    rows = ["| module | what it is for |", "| --- | --- |"]
    for path in sorted(package.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        paragraph = " ".join(docstring.split("\n\n", 1)[0].split())
        first = re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", paragraph, maxsplit=1)[0]
        name = path.relative_to(package.parent).with_suffix("").as_posix().replace("/__init__", "/")
        rows.append(f"| `{name}` | {first.replace('|', '/')} |")
    return "\n".join(rows)
