"""Read the curated YAML records and check them, reporting every problem at once.

Curators fix records by the file and line an error names, so every check
keeps the line of the record and of each of its fields, and none of them
stops at the first problem. The checks run in three passes: each file on its
own (yaml_files: the YAML itself; here: unknown and missing fields and
types), then across records (cross_check: duplicate ids, references), then
each record is tried against the tables of schema.sql in memory, so the
CHECK constraints there are the only statement of the value rules.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from ruamel.yaml.comments import CommentedMap

from .. import PROJECT_ROOT
from ..errors import InvalidSources, LoaderError
from ..problems import Problem, did_you_mean, display_path
from ..rules import Record, kind, refusals, scalar, type_problem
from ..schema import Column, Schema, Table, read_schema
from . import evidence, languages, provenance, relations
from .archive import ARCHIVE_ENV, Archive
from .cross_check import cross_check, record_key
from .published import published_id_problems
from .yaml_files import parse_file

DEFAULT_SOURCES = PROJECT_ROOT / "sources"

# Lists written inside an event stand for rows of another table whose
# event_id is the enclosing event's id.
NESTED = {
    "events": {"actors": "event_actors", "documents": "event_documents", "claims": "claims", "disputes": "disputes"},
    "event_actors": {"documents": "event_actor_documents"},
}
# A nested list whose one entry may be written in the enclosing record itself:
# an actor named by one document gives its document_id, basis and paragraphs
# in its own entry, as most do, and a list under documents only for several.
SHORTHAND = {"event_actors": "documents"}
# Sections written under a shorter name than their table's, and fields under
# a shorter name than their column's: a relation reads "from ... type ... to".
SECTIONS = {"relations": "event_relations"}
FIELDS = {"event_relations": {"from": "from_event_id", "to": "to_event_id"}}


@dataclass
class Dataset:
    """Valid records, already loaded into an in-memory copy of the tables."""

    schema: Schema
    db: sqlite_utils.Database
    files: list[Path]
    # The records as read, each with its file and line, for whatever later
    # points at one (the desk's warnings, loader/desk/diff.py).
    records: list[Record] = field(default_factory=list)
    # The archive the locators were checked against; None when there was none
    # and only their form was checked.
    archive: Archive | None = None

    def unchecked(self) -> str | None:
        """What was left unchecked for want of an archive, in one line; None when nothing was."""
        if self.archive is not None:
            return None
        return (
            "locators were not checked against an archive (none found): give --archive DIR "
            f"or set {ARCHIVE_ENV} to check them and the dates that claims state"
        )

    def counts(self) -> dict[str, int]:
        return {name: self.db[name].count for name in self.schema.tables}

    def summary(self) -> str:
        counts = self.counts()
        parts = ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in counts)
        return f"{parts} from {len(self.files)} files"


def source_files(directory: Path) -> list[Path]:
    """Every file of records, and every link named as one, even a broken one, so that it is reported."""
    return sorted(
        p for p in directory.rglob("*") if p.suffix.lower() in (".yml", ".yaml") and (p.is_file() or p.is_symlink())
    )


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


def _take(record: Record, column: Column, value: Any, problems: list[Problem]) -> None:
    """A field's value into the record, or the reason its type is wrong."""
    if column.boolean:
        error = None if isinstance(value, bool) else f"expected true or false, got {kind(value)}{scalar(value)}"
    else:
        error = type_problem(column.type, column.json, value)
    if error:
        problems.append(record.problem(column.name, error))
        record.mistyped.add(column.name)
    elif value is not None:
        record.values[column.name] = _plain(value)


def _missing(record: Record, table: Table, implied: dict[str, Any], problems: list[Problem]) -> None:
    for column in table.columns.values():
        if (
            column.required
            and record.values.get(column.name) is None
            and column.name not in record.mistyped
            and column.name not in implied
        ):
            problems.append(record.problem(column.name, "is required"))


def _implied(parent: Table, child: Table, record: Record) -> dict[str, Any]:
    """What a nested record takes from the one it is written in: the
    parent's id under the column that refers to it, or else (an actor's
    documents) the parent's whole key, which the child repeats."""
    for fk in child.foreign_keys:
        if fk.table == parent.name:
            return {fk.column: record.values.get(parent.primary_key[0])}
    return {column: record.values.get(column) for column in parent.primary_key}


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
    if not isinstance(item, CommentedMap):
        line = item.lc.line + 1 if hasattr(item, "lc") else 1
        problems.append(
            Problem(
                path,
                line,
                label,
                "-",
                f"expected a {table.name} record (a mapping of field: value), got {kind(item)}{scalar(item)}",
            )
        )
        return
    renamed = FIELDS.get(table.name, {})
    written = {column: name for name, column in renamed.items()}
    record = Record(table.name, dict(implied), path, item.lc.line + 1, label, written=written)
    nested = NESTED.get(table.name, {})
    children: list[tuple[str, Any]] = []
    short_table = schema.tables[nested[SHORTHAND[table.name]]] if table.name in SHORTHAND else None
    short: dict[str, tuple[Any, int]] = {}
    # An actor's or place's aliases and display names, read once the record's id is known.
    named: dict[str, tuple[Any, int]] = {}
    for key, value in item.items():
        line = item.lc.key(key)[0] + 1
        key_name = renamed.get(str(key), str(key))
        record.lines[key_name] = line
        if key_name in implied:
            problems.append(Problem(path, line, label, key_name, "is implied by the enclosing record; remove it"))
        elif table.name in languages.TABLES and key_name in languages.FIELDS:
            named[key_name] = (value, line)
        elif key_name in table.columns:
            _take(record, table.columns[key_name], value, problems)
        elif key_name in nested:
            children.append((key_name, value))
        elif short_table is not None and key_name in short_table.columns and key_name not in table.primary_key:
            short[key_name] = (value, line)
        else:
            known = [*(c for c in table.columns if c not in renamed.values()), *renamed, *nested]
            problems.append(Problem(path, line, label, str(key), f"unknown field{did_you_mean(str(key), known)}"))
    _missing(record, table, implied, problems)
    names = languages.read_names(record, named, problems) if table.name in languages.TABLES else []
    yield record
    yield from names
    if short_table is not None and short:
        given = ", ".join(short)
        if any(key == SHORTHAND[table.name] for key, _ in children):
            line = min(line for _, line in short.values())
            problems.append(
                Problem(
                    path,
                    line,
                    label,
                    given,
                    f"give one document in the entry itself or several under {SHORTHAND[table.name]}, not both: "
                    f"move {given} into {SHORTHAND[table.name]}",
                )
            )
        else:
            # The entry's own line and fields, so that messages point where the curator wrote them.
            cited = Record(short_table.name, _implied(table, short_table, record), path, record.line, label)
            for key_name, (value, line) in short.items():
                cited.lines[key_name] = line
                _take(cited, short_table.columns[key_name], value, problems)
            yield cited
    for key, value in children:
        child = schema.tables[nested[key]]
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
                _implied(table, child, record),
                problems,
            )


def read_sources(directory: Path, schema: Schema) -> tuple[list[Record], list[Path], list[Problem], bool]:
    """Every record in every YAML file under the directory, with every problem
    that can be seen in one record alone, and whether every file could be
    read (if one could not, records it holds are missing, and references to
    them would be reported as wrong when they are not)."""
    if not directory.is_dir():
        raise LoaderError(f"{display_path(directory)}: no such directory of sources")
    files = source_files(directory)
    if not files:
        raise LoaderError(f"{display_path(directory)}: no .yml files to read")
    records: list[Record] = []
    problems: list[Problem] = []
    root = directory.resolve()
    complete = True
    for path in files:
        if not path.resolve().is_relative_to(root):
            # Never read, so that nothing of a file elsewhere is shown in a message.
            problems.append(
                Problem(display_path(path), 1, "-", "-", "is a link to a file outside the sources; copy the file in")
            )
            complete = False
            continue
        data, file_problems = parse_file(path)
        complete = complete and data is not None
        problems.extend(file_problems)
        if data is None:
            continue
        shown = display_path(path)
        if not isinstance(data, CommentedMap):
            problems.append(
                Problem(shown, 1, "-", "-", "expected sections such as 'events:' and 'places:' at the top of the file")
            )
            continue
        for section, items in data.items():
            line = data.lc.key(section)[0] + 1
            table_name = SECTIONS.get(section, section)
            # record_names is made from the aliases of actors and places, never written.
            if table_name not in schema.tables or table_name == languages.NAMES_TABLE:
                known = [*(t for t in schema.tables if t != languages.NAMES_TABLE), *SECTIONS]
                problems.append(
                    Problem(shown, line, "-", str(section), f"unknown section{did_you_mean(str(section), known)}")
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
                    _records(schema, schema.tables[table_name], item, shown, f"{section}[{index}]", {}, problems)
                )
    return records, files, problems, complete


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
        key=lambda r: (order[r.table], tuple(str(v) for v in record_key(schema.tables[r.table], r))),
    ):
        try:
            db.table(record.table).insert(record.values)
        except sqlite3.Error as error:
            problems.extend(refusals(db, schema.tables[record.table], record, error))
    return db, problems


def validate(
    directory: Path = DEFAULT_SOURCES, schema: Schema | None = None, archive: Archive | None = None
) -> Dataset:
    """Read and check every record, and that no id a release published is
    lost without a withdrawal; raise InvalidSources listing every problem.

    Locators are checked against the archive when one is given, else for
    their form only (Dataset.unchecked says so)."""
    schema = schema or read_schema()
    records, files, problems, complete = read_sources(directory, schema)
    problems += cross_check(records, schema, references=complete)
    problems += provenance.check(records, problems)
    problems += evidence.check(records, archive)
    problems += relations.check(records)
    db, refused = load_records(records, schema)
    # A field already reported would only be reported again in other words.
    reported = {(p.path, p.record, p.field) for p in problems}
    problems += [p for p in refused if (p.path, p.record, p.field) not in reported]
    if not problems:  # the ids are compared with what releases published once every record loaded
        withdrawals = {(r.values.get("table_name"), r.values.get("id")): r for r in records if r.table == "withdrawals"}
        problems += published_id_problems(directory, db.conn, withdrawals)
    if problems:
        raise InvalidSources(problems)
    return Dataset(schema=schema, db=db, files=files, records=records, archive=archive)
