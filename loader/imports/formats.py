"""The formats a file of events can be imported in, behind one small interface.

The importer reads, batches and writes rows without knowing whose columns
they are in: each format says whether a header is its own, which store
columns it writes, how it turns one row into store rows, what it needs in
the database first, and which name its events carry by default. A new
format is a new module with a class that fits `Format`, added to FORMATS.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..errors import InvalidImport
from ..schema import Schema
from . import acled, store_columns
from .rows import Rows

if TYPE_CHECKING:  # a type of the writing process only (see importer.py)
    import sqlite_utils

# Rows to write, as (table, values), and problems, as (source column, message).
Mapped = tuple[list[tuple[str, tuple]], list[tuple[str, str]]]
# entity(table, key, make_row): the id of a row rows share, queueing make_row()'s row the first time.
Entity = Callable[[str, Any, Callable[[], tuple] | None], str | None]


class Format(Protocol):
    name: ClassVar[str]  # recorded in imports.format
    text_values: ClassVar[bool]  # whether NDJSON values reach map() as text, as CSV gives them
    columns: dict[str, tuple[str, ...]]  # the columns written to each table, in the order map() gives them

    def __init__(self, header: list[str], origin: str, entity: Entity, schema: Schema) -> None: ...

    @classmethod
    def matches(cls, header: list[str]) -> bool: ...

    @classmethod
    def default_origin(cls, path: Path) -> str: ...

    @classmethod
    def prepare(cls, db: sqlite_utils.Database) -> None: ...

    @staticmethod
    def source_column(field: str) -> str: ...

    def label(self, values: list[Any]) -> str: ...

    def map(self, values: list[Any]) -> Mapped: ...


# The first whose header matches is the file's format; the store's own columns match any header.
FORMATS: tuple[type[Format], ...] = (acled.Mapper, store_columns.Mapper)
BY_NAME = {fmt.name: fmt for fmt in FORMATS}


def format_for(header: list[str]) -> type[Format]:
    return next(fmt for fmt in FORMATS if fmt.matches(header))


def default_origin(path: Path) -> str:
    """The name a file's events carry when none is given: its format's choice,
    or, for a file whose header cannot be read, its own name (the build then
    says what is wrong with it)."""
    try:
        rows = Rows(path)
    except (InvalidImport, OSError):
        return store_columns.Mapper.default_origin(path)
    rows.close()
    return format_for(rows.header).default_origin(path)
