"""Read the curated YAML records and check them, reporting every problem at once.

Curators fix records by the file and line an error names, so every check
here keeps the line of the record and of each of its fields, and none of
them stops at the first problem. The checks run in two passes: this module
checks what only Python can see (the YAML itself, unknown and missing fields,
types, duplicate ids, references), then each record is tried against the
tables of schema.sql in memory, so the CHECK constraints there are the only
statement of the value rules.
"""

from __future__ import annotations

import difflib
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import sqlite_utils
from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, NodeEvent, ScalarEvent
from ruamel.yaml.reader import ReaderError

from . import PROJECT_ROOT, provenance
from .schema import Schema, Table, read_schema

DEFAULT_SOURCES = PROJECT_ROOT / "sources"

# Lists written inside an event stand for rows of another table whose
# event_id is the enclosing event's id.
NESTED = {
    "events": {"actors": "event_actors", "documents": "event_documents", "claims": "claims", "disputes": "disputes"}
}
# An event must cite at least one document, whichever file cites it.
REQUIRED_CHILDREN = {("events", "event_documents"): "documents"}

MAX_DEPTH = 12  # records are at most four levels deep; anything deeper is a mistake
MAX_TEXT = 20_000  # characters in one field: longer is a paste gone wrong
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# YAML reads these as line breaks, so a pasted U+0085 (often a mis-decoded
# '…') silently becomes a space and every later line number is off by one.
YAML_ONLY_LINE_BREAK = re.compile("[\x85\u2028\u2029]")
SURROGATE = re.compile("[\ud800-\udfff]")
INT_RANGE = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.record}: {self.field}: {self.message}"


class InvalidSources(click.ClickException):
    """Every problem found, shown one a line, so that one run lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        files = len({p.path for p in self.problems})
        count = len(self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}; nothing was written."
        )

    def show(self, file: Any = None) -> None:
        for problem in self.problems:
            click.echo(str(problem), err=True)
        click.echo(f"Error: {self.message}", err=True)


@dataclass
class Record:
    table: str
    values: dict[str, Any]
    path: str
    line: int
    label: str  # how messages name the record: its id, or where it sits
    lines: dict[str, int] = field(default_factory=dict)
    # Fields left out of values because they are of the wrong type: the
    # schema's rules about them would only repeat that problem.
    mistyped: set[str] = field(default_factory=set)

    def line_of(self, column: str) -> int:
        return self.lines.get(column, self.line)

    def problem(self, column: str, message: str) -> Problem:
        return Problem(self.path, self.line_of(column), self.label, column, message)


@dataclass
class Dataset:
    """Valid records, already loaded into an in-memory copy of the tables."""

    schema: Schema
    db: sqlite_utils.Database
    files: list[Path]
    # Likely mistakes that do not stop a build, such as two records of one event.
    warnings: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: self.db[name].count for name in self.schema.tables}

    def summary(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in counts)
        return f"{parts} from {len(self.files)} files"


class _TextTimestamps(RoundTripConstructor):
    """Keep dates as the text the curator wrote, so a date such as 2025-02-30
    reaches the schema's date check instead of failing inside the parser."""


_TextTimestamps.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


def _construct_int(constructor: RoundTripConstructor, node: Any) -> Any:
    """Python refuses to read integers of more than 4,300 digits with a bare
    ValueError; make that a YAML error that carries the line."""
    try:
        return RoundTripConstructor.construct_yaml_int(constructor, node)
    except ValueError as e:
        raise ConstructorError(None, None, f"cannot read this number: {e}", node.start_mark) from None


_TextTimestamps.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextTimestamps
    return yaml


def display_path(path: Path) -> str:
    """Name a file the way the curator would type it: relative when possible."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def source_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def did_you_mean(value: str, candidates: Any) -> str:
    matches = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def _structure_problems(yaml: YAML, text: str, path: str) -> list[Problem]:
    """Refuse what plain records never need: anchors and aliases (a way to
    blow a small file up into a huge one), merge keys, explicit tags, deep
    nesting, and escapes for half a UTF-16 surrogate pair, which no database
    or terminal can store or show."""
    problems = []
    depth = 0
    for event in yaml.parse(text):
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            problems.append(
                Problem(path, line, "-", "-", f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
            )
        elif isinstance(event, NodeEvent) and event.anchor:
            problems.append(
                Problem(path, line, "-", "-", f"YAML anchors (&{event.anchor}) are not allowed; write the value out")
            )
        if (
            isinstance(event, (ScalarEvent, CollectionStartEvent))
            and event.tag
            and not (isinstance(event, ScalarEvent) and event.tag == "tag:yaml.org,2002:str")
        ):
            problems.append(Problem(path, line, "-", "-", f"YAML tags ({event.tag}) are not allowed"))
        if isinstance(event, ScalarEvent):
            if event.value == "<<" and event.style is None:
                problems.append(
                    Problem(path, line, "-", "-", "YAML merge keys (<<) are not allowed; write the fields out")
                )
            if match := SURROGATE.search(event.value):
                problems.append(
                    Problem(
                        path,
                        line,
                        "-",
                        "-",
                        f"U+{ord(match.group()):04X} is half of a surrogate pair, not a character; write the character itself",
                    )
                )
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                problems.append(Problem(path, line, "-", "-", f"nested more than {MAX_DEPTH} levels deep"))
                break
        elif type(event).__name__ in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
    return problems


def parse_file(path: Path) -> tuple[Any, list[Problem]]:
    """Parse one YAML file, turning every way it can be unreadable into a Problem."""
    shown = display_path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return None, [
            Problem(shown, line, "-", "-", f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8")
        ]
    if match := YAML_ONLY_LINE_BREAK.search(text):
        line = text.count("\n", 0, match.start()) + 1
        return None, [
            Problem(
                shown,
                line,
                "-",
                "-",
                f"character U+{ord(match.group()):04X} is not allowed: YAML would read it as a line break",
            )
        ]
    yaml = _yaml()
    try:
        problems = _structure_problems(yaml, text, shown)
        if problems:
            return None, problems
        data = yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(part) for part in (e.context, e.problem) if part)
        return None, [Problem(shown, line, "-", "-", f"YAML syntax error: {message}")]
    except ReaderError as e:
        line = text[: e.position].count("\n") + 1
        return None, [
            Problem(shown, line, "-", "-", f"character U+{e.character:04X} is not allowed in YAML ({e.reason})")
        ]
    except (YAMLError, RecursionError) as e:
        return None, [Problem(shown, 1, "-", "-", f"unreadable YAML: {e}")]
    if data is None:
        return None, [Problem(shown, 1, "-", "-", "the file is empty; give it at least one section such as events:")]
    return data, []


def _type_problem(column_type: str, is_json: bool, value: Any) -> str | None:
    """Why a YAML value cannot go into a column of this type, if it cannot."""

    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "true/false"
        if isinstance(v, (int, float)):
            return "a number"
        if isinstance(v, dict):
            return "a mapping"
        if isinstance(v, list):
            return "a list"
        return "text"

    if value is None:
        return None
    if is_json:
        if not isinstance(value, list):
            return f"expected a list of text values, got {kind(value)}"
        for item in value:
            if not isinstance(item, str):
                return f"expected a list of text values, but one item is {kind(item)}"
            if error := _type_problem("TEXT", False, item):
                return error
        return None
    if column_type == "TEXT":
        if not isinstance(value, str):
            hint = " (put it in quotes)" if kind(value) in ("a number", "true/false") else ""
            return f"expected text, got {kind(value)}{hint}"
        if len(value) > MAX_TEXT:
            return f"is {len(value):,} characters long; the limit is {MAX_TEXT:,}"
        if match := CONTROL.search(value):
            return f"contains the control character U+{ord(match.group()):04X}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {kind(value)}"
    # SQLite takes no integer beyond 64 bits, not even into a REAL column.
    if isinstance(value, int) and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        return "is too large for a 64-bit integer"
    if column_type == "INTEGER":
        if not isinstance(value, int):
            return "expected a whole number"
    elif not math.isfinite(value):
        return "expected a finite number"
    return None


def _plain(value: Any) -> Any:
    """ruamel's round-trip types carry comments and styles; the database wants plain values."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _label(table: Table, item: Any, fallback: str) -> str:
    if len(table.primary_key) == 1:
        key = item.get(table.primary_key[0]) if isinstance(item, dict) else None
        if isinstance(key, str) and key.strip():
            return key
    return fallback


def _records(
    schema: Schema,
    table: Table,
    item: Any,
    path: str,
    fallback_label: str,
    implied: dict[str, Any],
    problems: list[Problem],
) -> Iterator[Record]:
    """Turn one YAML mapping into a Record (and the Records nested in it)."""
    label = _label(table, item, fallback_label)
    if not isinstance(item, dict):
        line = item.lc.line + 1 if hasattr(item, "lc") else 1
        problems.append(Problem(path, line, label, "-", f"expected a {table.name} record (a mapping of field: value)"))
        return
    record = Record(table.name, dict(implied), path, item.lc.line + 1, label)
    nested = NESTED.get(table.name, {})
    children: list[tuple[str, Any]] = []
    for key, value in item.items():
        line = item.lc.key(key)[0] + 1
        key_name = str(key)
        record.lines[key_name] = line
        if key_name in implied:
            problems.append(Problem(path, line, label, key_name, "is implied by the enclosing record; remove it"))
        elif key_name in table.columns:
            column = table.columns[key_name]
            if error := _type_problem(column.type, column.json, value):
                problems.append(Problem(path, line, label, key_name, error))
                record.mistyped.add(key_name)
            elif value is not None:
                record.values[key_name] = _plain(value)
        elif key_name in nested:
            children.append((key_name, value))
        else:
            known = [*table.columns, *nested]
            problems.append(Problem(path, line, label, key_name, f"unknown field{did_you_mean(key_name, known)}"))
    for column in table.columns.values():
        if (
            column.required
            and record.values.get(column.name) is None
            and column.name not in record.mistyped
            and column.name not in implied
        ):
            problems.append(record.problem(column.name, "is required"))
    yield record
    for key, value in children:
        child = schema.tables[nested[key]]
        parent_column = next(fk.column for fk in child.foreign_keys if fk.table == table.name)
        if value is None:
            continue
        if not isinstance(value, list):
            problems.append(Problem(path, record.lines[key], label, key, f"expected a list of {child.name} records"))
            continue
        for index, child_item in enumerate(value):
            yield from _records(
                schema,
                child,
                child_item,
                path,
                f"{label} {key}[{index}]",
                {parent_column: record.values.get(table.primary_key[0])},
                problems,
            )


def read_sources(directory: Path, schema: Schema) -> tuple[list[Record], list[Path], list[Problem]]:
    """Every record in every YAML file under the directory, with every problem
    that can be seen in one record alone."""
    if not directory.is_dir():
        raise click.ClickException(f"{display_path(directory)}: no such directory of sources")
    files = source_files(directory)
    if not files:
        raise click.ClickException(f"{display_path(directory)}: no .yml files to read")
    records: list[Record] = []
    problems: list[Problem] = []
    for path in files:
        data, file_problems = parse_file(path)
        problems.extend(file_problems)
        if data is None:
            continue
        shown = display_path(path)
        if not isinstance(data, dict):
            problems.append(
                Problem(shown, 1, "-", "-", "expected sections such as 'events:' and 'places:' at the top of the file")
            )
            continue
        for section, items in data.items():
            line = data.lc.key(section)[0] + 1
            if section not in schema.tables:
                problems.append(
                    Problem(
                        shown, line, "-", str(section), f"unknown section{did_you_mean(str(section), schema.tables)}"
                    )
                )
                continue
            if items is None:
                continue
            if not isinstance(items, list):
                problems.append(
                    Problem(shown, line, "-", str(section), "expected a list of records, each starting with '- '")
                )
                continue
            for index, item in enumerate(items):
                records.extend(
                    _records(schema, schema.tables[section], item, shown, f"{section}[{index}]", {}, problems)
                )
    return records, files, problems


def _key(table: Table, record: Record) -> tuple:
    return tuple(record.values.get(column) for column in table.primary_key)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cross_check(records: list[Record], schema: Schema) -> list[Problem]:
    """What can only be seen across records: duplicate ids, references to
    records that do not exist, and events that cite no document."""
    problems: list[Problem] = []
    first: dict[tuple[str, tuple], Record] = {}
    for record in records:
        table = schema.tables[record.table]
        key = _key(table, record)
        if None in key:
            continue
        if (record.table, key) in first:
            seen = first[(record.table, key)]
            column = table.primary_key[-1] if len(key) > 1 else table.primary_key[0]
            what = "/".join(str(k) for k in key)
            problems.append(
                record.problem(
                    column,
                    f"duplicate {record.table} {'/'.join(table.primary_key)} '{what}'; first defined at {seen.path}:{seen.line}",
                )
            )
        else:
            first[(record.table, key)] = record

    # Every id, and every name and alias slugged, so a reference written as
    # a name ("tom-barack") can be pointed at the id it means.
    known: dict[str, dict[str, str]] = {name: {} for name in schema.tables}
    for (table_name, key), record in first.items():
        if len(key) != 1:
            continue
        guesses = known[table_name]
        for text in [record.values.get("name"), *(record.values.get("aliases") or [])]:
            if isinstance(text, str):
                guesses.setdefault(_slug(text), key[0])
    for table_name, key in first:
        if len(key) == 1:
            known[table_name][key[0]] = key[0]

    for record in records:
        for fk in schema.tables[record.table].foreign_keys:
            value = record.values.get(fk.column)
            if value is None or (fk.table, (value,)) in first:
                continue
            guesses = known[fk.table]
            match = difflib.get_close_matches(_slug(str(value)), list(guesses), n=1, cutoff=0.6)
            hint = f" (did you mean '{guesses[match[0]]}'?)" if match else ""
            problems.append(record.problem(fk.column, f"'{value}' is not a known {fk.table} {fk.target}{hint}"))

    for (parent, child), nested_key in REQUIRED_CHILDREN.items():
        parent_column = next(fk.column for fk in schema.tables[child].foreign_keys if fk.table == parent)
        cited = Counter(r.values.get(parent_column) for r in records if r.table == child)
        for (table_name, key), record in first.items():
            if table_name == parent and cited[key[0]] == 0:
                problems.append(
                    record.problem(nested_key, f"every {parent[:-1]} needs at least one entry in {nested_key}")
                )
    return problems


CONSTRAINT_ERROR = re.compile(r"^(CHECK|NOT NULL|UNIQUE) constraint failed: (.*)$")


def _refusals(db: sqlite_utils.Database, table: Table, record: Record, error: sqlite3.Error) -> list[Problem]:
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
        message = "is required" if match.group(1) == "NOT NULL" else "must be unique; another record has the same value"
        problems.append(record.problem(column, message))
    given = [c for c in table.columns.values() if c.name in record.values or c.default is None]
    row = ", ".join(f"? AS [{c.name}]" if c in given else f"{c.default} AS [{c.name}]" for c in table.columns.values())
    # As sqlite-utils stores them, so lists (aliases) bind as JSON text.
    values = [sqlite_utils.db.jsonify_if_needed(record.values.get(c.name)) for c in given]
    for check in table.checks:
        if any(re.search(rf"\b{column}\b", check.expression) for column in record.mistyped):
            continue
        broken = db.execute(f"SELECT NOT ({check.expression}) FROM (SELECT {row})", values).fetchone()[0]
        if broken:
            problems.append(record.problem(check.field, check.message))
    return problems


def load_records(records: list[Record], schema: Schema) -> tuple[sqlite_utils.Database, list[Problem]]:
    """Insert the records into an in-memory database made from schema.sql,
    one at a time so that each refusal is pinned to its record.

    Rows go in ordered by table (as schema.sql declares them) and primary
    key, so the same records give the same database whichever files hold them.
    """
    db = sqlite_utils.Database(memory=True)
    db.executescript(schema.tables_sql)
    order = {name: index for index, name in enumerate(schema.tables)}
    problems = []
    for record in sorted(
        records,
        key=lambda r: (order[r.table], tuple(str(v) for v in _key(schema.tables[r.table], r))),
    ):
        try:
            db[record.table].insert(record.values)
        except sqlite3.Error as error:
            problems.extend(_refusals(db, schema.tables[record.table], record, error))
    return db, problems


def validate(directory: Path = DEFAULT_SOURCES, schema: Schema | None = None) -> Dataset:
    """Read and check every record; raise InvalidSources listing every problem."""
    schema = schema or read_schema()
    records, files, problems = read_sources(directory, schema)
    problems += cross_check(records, schema)
    problems += provenance.check(records, problems)
    db, refused = load_records(records, schema)
    # A field already reported would only be reported again in other words.
    reported = {(p.path, p.record, p.field) for p in problems}
    problems += [p for p in refused if (p.path, p.record, p.field) not in reported]
    if problems:
        raise InvalidSources(problems)
    return Dataset(schema=schema, db=db, files=files, warnings=provenance.likely_duplicates(records))
