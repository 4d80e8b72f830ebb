"""Stream a large file of events into the database a build is writing.

Conflict datasets run to hundreds of thousands of rows, so an import never
holds the file in memory: rows are read one at a time, checked, mapped and
written in batches, and only the small tables that rows share (places,
actors, sources) are remembered. A row that breaks a rule is reported as
FILE:LINE: RECORD: FIELD: MESSAGE like a YAML record, and the build is
refused unless the user asked for such rows to be skipped, in which case
they are counted. The rules themselves are schema.sql's: a batch is written
as it is, and only when the database refuses it are its rows tried one by
one to find and name the ones at fault.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import sqlite3
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import click
import sqlite_utils

from . import acled
from .schema import Schema
from .sources import MAX_TEXT, CONTROL, InvalidSources, Problem, Record, _refusals, _type_problem, did_you_mean, display_path

BATCH = 20_000  # events written per batch: large enough that per-batch costs vanish
MAX_KEPT = 1_000  # problems kept for the report; the rest are only counted
MAX_SHOWN = 50  # problems printed
# The tables written once for each row; the others hold rows that rows share.
EVENT_TABLES = ("events", "event_actors", "event_documents")


@dataclass(frozen=True)
class ImportSpec:
    """One file to import, and the name its events carry in events.origin."""

    path: Path
    origin: str
    skip_invalid: bool = False


@dataclass
class ImportReport:
    spec: ImportSpec
    format: str
    sha256: str
    events: int
    skipped: int
    problems: list[Problem]
    changes: tuple[int, int, int] | None = None  # added, changed, removed since the previous build

    def summary(self) -> str:
        text = f"Imported {self.events:,} {self.spec.origin} events from {display_path(self.spec.path)}"
        if self.skipped:
            text += f", skipping {self.skipped:,} invalid rows"
        if self.changes is not None:
            added, changed, removed = self.changes
            text += f"; since the previous build {added:,} added, {changed:,} changed, {removed:,} removed"
        return text


class InvalidImport(InvalidSources):
    """Every bad row counted, the first of them shown, and nothing written."""

    def __init__(self, path: Path, problems: list[Problem], total: int):
        super().__init__(problems)
        self.problems = self.problems[:MAX_SHOWN]
        shown = f"; the first {len(self.problems)} are shown" if total > len(self.problems) else ""
        self.message = (
            f"{total:,} problem{'s' if total != 1 else ''} in {display_path(path)}{shown}; nothing was written. "
            "Fix the rows, or pass --skip-invalid to leave them out."
        )


def file_format(path: Path) -> str:
    return "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "csv"


class Rows:
    """A file's header, then (line number, values in header order) for each
    row, or (line number, why) for an NDJSON line that is not a record.

    NDJSON values keep their JSON types unless `text` is set, for a mapper
    that wants text as it would have read it from CSV.
    """

    def __init__(self, path: Path):
        self.path = path
        self.csv = file_format(path) == "csv"
        self.file = open(path, newline="", encoding="utf-8-sig")
        try:
            if self.csv:
                self.reader = csv.reader(self.file)
                header = next(self.reader, None)
            else:
                first = self.file.readline()
                header = list(json.loads(first)) if first.strip() else None
                self.file.seek(0)
        except (csv.Error, json.JSONDecodeError, TypeError, UnicodeDecodeError) as e:
            self.file.close()
            raise InvalidImport(path, [Problem(display_path(path), 1, "-", "-", f"unreadable header: {e}")], 1) from None
        if not header:
            self.file.close()
            raise InvalidImport(path, [Problem(display_path(path), 1, "-", "-", "the file is empty")], 1)
        self.header = [str(c).strip() for c in header]
        self.text = False

    def position(self) -> int:
        """Bytes read so far, for the progress bar."""
        return self.file.buffer.tell()

    def __iter__(self) -> Iterator[tuple[int, list[Any] | str]]:
        with self.file:
            yield from (self._csv() if self.csv else self._ndjson())

    def _csv(self) -> Iterator[tuple[int, list[Any]]]:
        previous = self.reader.line_num
        for values in self.reader:
            if values:
                yield previous + 1, values
            previous = self.reader.line_num

    def _ndjson(self) -> Iterator[tuple[int, list[Any] | str]]:
        header = self.header
        for line, text in enumerate(self.file, 1):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as e:
                yield line, f"not valid JSON: {e.msg}"
                continue
            if not isinstance(item, dict):
                yield line, "expected a JSON object on each line"
                continue
            extra = [k for k in item if k not in header]
            if extra:
                yield line, f"unknown field {extra[0]}{did_you_mean(extra[0], header)}"
                continue
            values = [item.get(c) for c in header]
            yield line, [("" if v is None else str(v)) for v in values] if self.text else values


class EventsMapper:
    """Rows in the store's own column names: one event per row, referring to
    event types and places the curated sources (or an earlier import) hold."""

    format = "events"

    def __init__(self, header: list[str], origin: str, entity: Callable[..., str | None], schema: Schema):
        self.table = schema.tables["events"]
        unknown = [c for c in header if c not in self.table.columns or c == "origin"]
        if unknown:
            raise ValueError(f"unknown column {unknown[0]}{did_you_mean(unknown[0], self.table.columns)}")
        missing = [c for c, column in self.table.columns.items() if column.required and c not in header]
        if missing:
            raise ValueError("missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        self.header = header
        self.origin = origin
        self.entity = entity
        self.columns = {"events": (*header, "origin")}
        self.references = {fk.column: fk.table for fk in self.table.foreign_keys}
        self.id_index = header.index("id")

    def label(self, values: list[Any]) -> str:
        return str(values[self.id_index] or "-")

    def source_column(self, field: str) -> str:
        return field

    def map(self, values: list[Any]) -> tuple[list[tuple[str, tuple]], list[tuple[str, str]]]:
        problems: list[tuple[str, str]] = []
        row = []
        for name, value in zip(self.header, values):
            column = self.table.columns[name]
            if value == "":
                value = None
            elif isinstance(value, str) and column.type in ("INTEGER", "REAL"):
                try:
                    value = int(value) if column.type == "INTEGER" else float(value)
                except ValueError:
                    problems.append((name, f"'{value}' is not a number"))
                    continue
            if error := _type_problem(column.type, column.json, value):
                problems.append((name, error))
            elif value is not None and name in self.references and self.entity(self.references[name], value, None) is None:
                problems.append((name, f"'{value}' is not a known {self.references[name]} id"))
            row.append(value)
        if problems:
            return [], problems
        return [("events", (*row, self.origin))], []


def _text_problems(values: list[Any]) -> list[tuple[int, str]]:
    """Control characters and runaway lengths, checked on the whole row at
    once: the per-field check runs only when the row as a whole fails."""
    try:
        joined = "".join(values)
    except TypeError:  # NDJSON, with numbers among the text
        joined = "".join(v for v in values if isinstance(v, str))
    if len(joined) <= MAX_TEXT and not CONTROL.search(joined):
        return []
    return [(i, error) for i, v in enumerate(values) if isinstance(v, str) and (error := _type_problem("TEXT", False, v))]


class Importer:
    """Writes one file's rows into an open database, in batches of BATCH
    events, inside the build's single transaction."""

    def __init__(self, db: sqlite_utils.Database, schema: Schema, spec: ImportSpec):
        self.db = db
        self.schema = schema
        self.spec = spec
        self.shown = display_path(spec.path)
        self.ids: dict[str, dict[Any, str | None]] = {table: {} for table in schema.tables}
        self.problems: list[Problem] = []
        self.bad_rows = 0
        self.events = 0
        self.new: list[tuple[str, tuple]] = []  # shared rows first seen in the current row
        self.pending: list[tuple[int, str]] = []  # line and label of each row in the batch
        self.batch: dict[str, list[tuple]] = {}  # the batch's rows for each table
        self.owners: dict[str, list[int]] = {}  # for each of those, its index in pending
        self.line = 0
        self.label = "-"

    def report(self, problems: list[Problem]) -> None:
        self.bad_rows += 1
        room = MAX_KEPT - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def problem(self, field: str, message: str) -> Problem:
        return Problem(self.shown, self.line, self.label, self.mapper.source_column(field), message)

    def entity(self, table: str, key: Any, make_row: Callable[[], tuple] | None) -> str | None:
        """The id of a shared row (a place, actor or source), queueing the row
        make_row() gives the first time its key is seen. With make_row None
        the row must already be in the database. None if it was refused."""
        known = self.ids[table]
        if key in known:
            return known[key]
        if make_row is None:
            column = self.schema.tables[table].primary_key[0]
            found = self.db.execute(f"SELECT [{column}] FROM [{table}] WHERE [{column}] = ?", [key]).fetchone()
            known[key] = found[0] if found else None
            return known[key]
        row = make_row()
        self.new.append((table, row))
        known[key] = row[0]
        return row[0]

    def statement(self, table: str) -> str:
        columns = self.mapper.columns[table]
        return f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

    def flush(self) -> None:
        """Write the pending rows table by table, parents first, leaving out
        each row the database refuses along with every row that needs it.

        The rows go in through executemany on sqlite-utils' connection rather
        than its insert_all: insert_all, even given tuples, builds each batch
        into multi-row INSERTs in Python and measured well under half the
        rows per second (see docs/performance.md), which alone would miss
        the target of half raw SQLite's speed. No savepoint is needed either:
        a refused single-row INSERT changes nothing, so executemany simply
        resumes after it, and the file needs no rollback journal at all.
        """
        refused: set[int] = set()  # indexes into self.pending
        half_written: set[int] = set()  # refused after their event was written
        for table in self.schema.tables:
            rows = self.batch.get(table)
            if not rows:
                continue
            owners = self.owners[table]
            # A shared row goes in even if the row that first named it did
            # not: later rows may name it too.
            if refused and table in EVENT_TABLES:
                kept = [i for i, owner in enumerate(owners) if owner not in refused]
                rows, owners = [rows[i] for i in kept], [owners[i] for i in kept]
            for index, values, error in self._insert(table, rows):
                owner = owners[index]
                refused.add(owner)
                self.line, self.label = self.pending[owner]
                self._refused(table, values, error)
                if table not in EVENT_TABLES:
                    refused.update(self._users(values[0], refused))
                elif table != "events":
                    half_written.add(owner)
        for owner in sorted(half_written):
            self._undo(owner)
        self.events += len(self.pending) - len(refused)
        self.pending, self.batch, self.owners = [], {}, {}

    def _insert(self, table: str, rows: list[tuple]) -> Iterator[tuple[int, tuple, sqlite3.Error]]:
        """executemany, resuming after each row the database refuses; yields those."""
        conn, sql, start = self.db.conn, self.statement(table), 0
        while start < len(rows):
            before = conn.total_changes
            try:
                conn.executemany(sql, rows[start:] if start else rows)
                return
            except sqlite3.Error as error:
                index = start + conn.total_changes - before
                yield index, rows[index], error
                start = index + 1

    def _refused(self, table: str, values: tuple, error: sqlite3.Error) -> None:
        record = Record(table, dict(zip(self.mapper.columns[table], values)), self.shown, self.line, self.label)
        self.report([
            dataclasses.replace(p, field=self.mapper.source_column(p.field))
            for p in _refusals(self.db, self.schema.tables[table], record, error)
        ])

    def _users(self, refused_id: str, refused: set[int]) -> set[int]:
        """The other pending rows that refer to a refused shared row, each
        reported; its key is forgotten so a later row that names it tries it
        afresh (and is told why it fails)."""
        self.ids = {table: {k: v for k, v in ids.items() if v != refused_id} for table, ids in self.ids.items()}
        users: set[int] = set()
        for table in EVENT_TABLES:
            for values, owner in zip(self.batch.get(table, []), self.owners.get(table, [])):
                if refused_id in values and owner not in users and owner not in refused:
                    users.add(owner)
                    self.line, self.label = self.pending[owner]
                    self.report([self.problem("-", f"refers to '{refused_id}', which the database refused (see above)")])
        return users

    def _undo(self, owner: int) -> None:
        """Remove the event (and links) written for a row whose later link was refused."""
        event_id = self.batch["events"][self.owners["events"].index(owner)][0]
        for table in reversed(EVENT_TABLES):
            key = self.mapper.columns[table][0]
            self.db.conn.execute(f"DELETE FROM [{table}] WHERE [{key}] = ?", [event_id])

    def run(self, progress: bool) -> ImportReport:
        path = self.spec.path
        rows = Rows(path)
        header = rows.header
        try:
            if "event_id_cnty" in header:
                self.mapper: Any = acled.Mapper(header, self.spec.origin, self.entity)
                rows.text = True
                self.db["event_types"].insert_all(acled.event_type_rows(), ignore=True)
            else:
                self.mapper = EventsMapper(header, self.spec.origin, self.entity, self.schema)
        except ValueError as e:
            raise InvalidImport(path, [Problem(self.shown, 1, "-", "-", str(e))], 1) from None
        width = len(header)
        bar: Any = (
            click.progressbar(length=path.stat().st_size, label=f"Importing {self.shown}", file=sys.stderr)
            if progress else nullcontext()
        )
        with bar:
            try:
                for self.line, values in rows:
                    self._row(header, width, values)
                    if len(self.pending) >= BATCH:
                        self.flush()
                        if progress:
                            bar.update(rows.position() - bar.pos)
            except (csv.Error, UnicodeDecodeError) as e:
                self.report([Problem(self.shown, self.line + 1, "-", "-", f"unreadable: {e}")])
                raise InvalidImport(path, self.problems, self.bad_rows) from None
            self.flush()
        if self.bad_rows and not self.spec.skip_invalid:
            raise InvalidImport(path, self.problems, self.bad_rows)
        with open(path, "rb") as f:
            sha256 = hashlib.file_digest(f, "sha256").hexdigest()
        return ImportReport(self.spec, self.mapper.format, sha256, self.events, self.bad_rows, self.problems)

    def _row(self, header: list[str], width: int, values: list[Any] | str) -> None:
        """Check and map one row, queueing it for the next batch or reporting why not."""
        if isinstance(values, str) or len(values) != width:
            self.label = "-"
            message = values if isinstance(values, str) else f"expected {width} fields as in the header, found {len(values)}"
            self.report([Problem(self.shown, self.line, self.label, "-", message)])
            return
        self.label = self.mapper.label(values)
        text_problems = _text_problems(values)
        if text_problems:
            self.report([Problem(self.shown, self.line, self.label, header[i], e) for i, e in text_problems])
            return
        self.new = []
        rows, problems = self.mapper.map(values)
        if problems:
            self.report([self.problem(field, message) for field, message in problems])
            return
        owner = len(self.pending)
        self.pending.append((self.line, self.label))
        batch, owners = self.batch, self.owners
        for table, values in self.new + rows if self.new else rows:
            if table not in batch:
                batch[table], owners[table] = [], []
            batch[table].append(values)
            owners[table].append(owner)


def changes_since(db: sqlite_utils.Database, previous: Path, origin: str) -> tuple[int, int, int] | None:
    """How an origin's events differ from those in the database being
    replaced: (added, changed, removed), compared by their stable ids; an
    event counts as changed when any of its fields, actors or sources did.
    None when there is nothing to compare with."""
    if not previous.exists():
        return None
    db.execute("ATTACH DATABASE ? AS previous", [str(previous.absolute())])
    try:
        if not db.execute("SELECT 1 FROM previous.events WHERE origin = ? LIMIT 1", [origin]).fetchone():
            return None
        (added,) = db.execute(
            "SELECT count(*) FROM main.events AS e WHERE origin = :origin"
            " AND NOT EXISTS (SELECT 1 FROM previous.events WHERE id = e.id)", {"origin": origin},
        ).fetchone()
        (removed,) = db.execute(
            "SELECT count(*) FROM previous.events AS e WHERE origin = :origin"
            " AND NOT EXISTS (SELECT 1 FROM main.events WHERE id = e.id)", {"origin": origin},
        ).fetchone()
        differing = " UNION ".join(
            f"SELECT {key} FROM (SELECT t.* FROM {a}.{table} AS t JOIN {a}.events AS e ON e.id = t.{key} WHERE e.origin = :origin"
            f" EXCEPT SELECT t.* FROM {b}.{table} AS t JOIN {b}.events AS e ON e.id = t.{key} WHERE e.origin = :origin)"
            for table, key in (("events", "id"), ("event_actors", "event_id"), ("event_documents", "event_id"))
            for a, b in (("main", "previous"), ("previous", "main"))
        )
        (changed,) = db.execute(
            f"SELECT count(*) FROM ({differing})"
            " WHERE id IN (SELECT id FROM main.events) AND id IN (SELECT id FROM previous.events)",
            {"origin": origin},
        ).fetchone()
        return added, changed, removed
    except sqlite3.Error:  # the previous database has another schema
        return None
    finally:
        db.execute("DETACH DATABASE previous")


def import_spec(value: str, skip_invalid: bool) -> ImportSpec:
    """Read --import's [NAME=]FILE. Without a NAME, an ACLED file is 'acled'
    (so a newer export replaces the older one) and any other its file's name."""
    name, _, file = value.rpartition("=") if "=" in value and not Path(value).exists() else ("", "", value)
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(f"{file}: no such file", param_hint="--import")
    if not name:
        with open(path, "rb") as f:
            name = "acled" if b"event_id_cnty" in f.readline() else acled.slug(path.stem)
    if acled.slug(name) != name:
        raise click.BadParameter(f"'{name}' must be a slug of lowercase letters, digits and hyphens", param_hint="--import")
    return ImportSpec(path, name, skip_invalid)
