"""Import rows written in the events table's own columns.

The simplest way to bring events from elsewhere: one event per row, in
columns named as schema.sql names them, referring to the event types and
places that the curated sources (or an earlier import) already hold. The
rules are the YAML path's own, from rules.py and schema.sql.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..rules import slug, type_problem
from ..schema import Schema
from .rows import unknown_name

if TYPE_CHECKING:  # a type of the writing process only (see importer.py)
    import sqlite_utils

# Written by the import itself, from the name given with --import.
IMPLIED = ("origin",)


class Mapper:
    """One row, one event: its values typed by the column they are in, and
    each reference checked against what the database already holds."""

    name: ClassVar[str] = "events"
    text_values: ClassVar[bool] = False

    def __init__(self, header: list[str], origin: str, entity: Any, schema: Schema):
        self.table = schema.tables["events"]
        implied = [c for c in header if c in IMPLIED]
        if implied:
            raise ValueError(f"column {implied[0]} is set by the import, from --import NAME=FILE; remove the column")
        unknown = [(position, c) for position, c in enumerate(header, 1) if c not in self.table.columns]
        if unknown:
            position, name = unknown[0]
            raise ValueError(unknown_name("column", name, position, self.table.columns))
        missing = [c for c, column in self.table.columns.items() if column.required and c not in header]
        if missing:
            raise ValueError("missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        self.header = header
        self.origin = origin
        self.entity = entity
        self.columns = {"events": (*header, *IMPLIED)}
        self.references = {fk.column: fk.table for fk in self.table.foreign_keys}
        self.id_index = header.index("id")

    @classmethod
    def matches(cls, header: list[str]) -> bool:
        return True

    @classmethod
    def default_origin(cls, path: Path) -> str:
        return slug(path.stem, 60) or "x"

    @classmethod
    def prepare(cls, db: sqlite_utils.Database) -> None:
        """Nothing: the rows refer only to what the database holds already."""

    @staticmethod
    def source_column(field: str) -> str:
        return field

    def label(self, values: list[Any]) -> str:
        return str(values[self.id_index] or "-")

    def map(self, values: list[Any]) -> tuple[list[tuple[str, tuple]], list[tuple[str, str]]]:
        problems: list[tuple[str, str]] = []
        row = []
        for name, value in zip(self.header, values, strict=True):
            column = self.table.columns[name]
            if value == "":
                value = None
            elif isinstance(value, str) and column.type in ("INTEGER", "REAL"):
                try:
                    value = int(value) if column.type == "INTEGER" else float(value)
                except ValueError:
                    problems.append((name, f"'{value}' is not a number"))
                    continue
            if error := type_problem(column.type, column.json, value):
                problems.append((name, error))
            elif (
                value is not None
                and name in self.references
                and self.entity(self.references[name], value, None) is None
            ):
                problems.append((name, f"'{value}' is not a known {self.references[name]} id"))
            row.append(value)
        if problems:
            return [], problems
        return [("events", (*row, self.origin))], []
