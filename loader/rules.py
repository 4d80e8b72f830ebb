"""The value rules that YAML records and imported rows share.

A record from sources/ and a row from an imported file go into the same
tables, so they are held to the same rules and refused in the same words:
what Python must check before SQLite sees a value (its type, its length,
control characters, integers beyond 64 bits), and, once SQLite refuses a
row, which of schema.sql's constraints it breaks. schema.sql's CHECK
constraints stay the only statement of the rules about values themselves.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .problems import Problem, closest, echo
from .schema import Table

# An import's reading process imports these rules, and sqlite_utils (numpy
# with it) would cost its start half a second: refusals, which only the
# writing process calls, imports it when it runs.
if TYPE_CHECKING:
    import sqlite_utils

MAX_TEXT = 20_000  # characters in one field: longer is a paste gone wrong
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INT_RANGE = (-(2**63), 2**63 - 1)
CONSTRAINT_ERROR = re.compile(r"^(CHECK|NOT NULL|UNIQUE) constraint failed: (.*)$")
SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class Record:
    """A row on its way into a table, with where each of its fields was written."""

    table: str
    values: dict[str, Any]
    path: str
    line: int
    label: str  # how messages name the record: its id, or where it sits
    lines: dict[str, int] = field(default_factory=dict)
    # Fields left out of values because they are of the wrong type: the
    # schema's rules about them would only repeat that problem.
    mistyped: set[str] = field(default_factory=set)
    # Columns written under another name (a relation's "from" and "to"),
    # which messages use, as the curator wrote them.
    written: dict[str, str] = field(default_factory=dict)

    def line_of(self, column: str) -> int:
        return self.lines.get(column, self.line)

    def problem(self, column: str, message: str) -> Problem:
        return Problem(self.path, self.line_of(column), self.label, self.written.get(column, column), message)


def slug(text: str, limit: int | None = None) -> str:
    """Text as an id is written: lowercase letters, digits and hyphens."""
    return SLUG.sub("-", text.lower())[:limit].strip("-")


class UnreadableNumber:
    """An integer of more digits than Python reads (4,300), kept as its
    length so the field, rather than its whole file, is refused."""

    def __init__(self, digits: int):
        self.digits = digits


def kind(value: Any) -> str:
    """What a value is, in a curator's words."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "text"


def scalar(value: Any) -> str:
    """A wrong value, echoed after its kind when it is short enough to read."""
    return f" ({echo(value)})" if isinstance(value, (str, bool, int, float)) else ""


def type_problem(column_type: str, is_json: bool, value: Any) -> str | None:
    """Why a value cannot go into a column of this type, if it cannot."""
    if value is None:
        return None
    if isinstance(value, UnreadableNumber):
        if is_json or column_type == "TEXT":
            return f"expected {'a list of text values' if is_json else 'text'}, got a number of {value.digits:,} digits"
        return f"is a number of {value.digits:,} digits, too large for a 64-bit integer"
    if is_json:
        if not isinstance(value, list):
            return f"expected a list of text values, got {kind(value)}{scalar(value)}"
        for item in value:
            if not isinstance(item, str):
                return f"expected a list of text values, but one item is {kind(item)}"
            if error := type_problem("TEXT", False, item):
                return error
        return None
    if column_type == "TEXT":
        if not isinstance(value, str):
            hint = f" ({echo(value)}: put it in quotes)" if kind(value) in ("a number", "true/false") else ""
            return f"expected text, got {kind(value)}{hint}"
        if len(value) > MAX_TEXT:
            return f"is {len(value):,} characters long; the limit is {MAX_TEXT:,}"
        if match := CONTROL.search(value):
            return f"contains the control character U+{ord(match.group()):04X}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {kind(value)}{scalar(value)}"
    # SQLite takes no integer beyond 64 bits, not even into a REAL column.
    if isinstance(value, int) and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        return "is too large for a 64-bit integer"
    if column_type == "INTEGER":
        if not isinstance(value, int):
            return f"expected a whole number, got {value}"
    elif not math.isfinite(value):
        return f"expected a finite number, got {value}"
    return None


def text_problems(values: Sequence[Any]) -> list[tuple[int, str]]:
    """Control characters and runaway lengths in a row of values, as (index,
    why). The whole row is checked at once, and each field only when the row
    as a whole fails, since nearly every row passes."""
    joined = "".join(v for v in values if isinstance(v, str))
    if len(joined) <= MAX_TEXT and not CONTROL.search(joined):
        return []
    return [
        (i, error) for i, v in enumerate(values) if isinstance(v, str) and (error := type_problem("TEXT", False, v))
    ]


def refusals(db: sqlite_utils.Database, table: Table, record: Record, error: sqlite3.Error) -> list[Problem]:
    """Every rule of schema.sql that a refused record breaks, each pinned to its field.

    SQLite names only the first constraint that failed, so each named CHECK
    is evaluated on its own against the record's values as well.
    """
    problems = []
    match = CONSTRAINT_ERROR.match(str(error))
    if not match:
        problems.append(record.problem("-", f"refused by the database: {error}"))
    elif match.group(1) != "CHECK":
        column = match.group(2).split(", ")[-1].split(".", 1)[-1]
        if match.group(1) == "NOT NULL":
            message = "is required"
        else:
            message = f"must be unique; another record has the same value, {echo(record.values.get(column))}"
        problems.append(record.problem(column, message))
    given = [c for c in table.columns.values() if c.name in record.values or c.default is None]
    row = ", ".join(f"? AS [{c.name}]" if c in given else f"{c.default} AS [{c.name}]" for c in table.columns.values())
    from sqlite_utils.db import jsonify_if_needed

    # As sqlite-utils stores them, so lists (aliases) bind as JSON text.
    values = [jsonify_if_needed(record.values.get(c.name)) for c in given]
    for check in table.checks:
        if any(re.search(rf"\b{column}\b", check.expression) for column in record.mistyped):
            continue
        broken = db.execute(f"SELECT NOT ({check.expression}) FROM (SELECT {row})", values).fetchone()[0]
        if broken:
            problems.append(record.problem(check.field, check.message + got(table, check.field, record.values)))
    return problems


def got(table: Table, column: str, values: dict[str, Any]) -> str:
    """The value a broken rule is about, for its message; with the nearest
    allowed value, when the rule is a list of them."""
    value = values.get(column)
    if value is None:
        return ""
    near = closest(value, table.vocabulary(column)) if isinstance(value, str) else None
    return f" (got {echo(value)}" + (f", did you mean '{near}'?)" if near else ")")
