"""Stream a large file of events into the database a build is writing.

Conflict datasets run to hundreds of thousands of rows, so an import never
holds the file in memory: rows are read one at a time, checked, mapped and
written in batches, and only the small tables that rows share (places,
actors, sources) are remembered. A row that breaks a rule is reported as
FILE:LINE: RECORD: FIELD: MESSAGE like a YAML record, and the build is
refused unless the user asked for such rows to be skipped, in which case
they are counted. The rules themselves are schema.sql's: the rows a batch
holds are written as they are, and a row the database refuses is named with
every rule of schema.sql it breaks, as the YAML path does.

Reading and mapping run in a process of their own, one batch ahead of the
writing, so that on two cores the two overlap instead of taking turns.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import multiprocessing
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import click
import sqlite_utils

from . import acled
from .schema import Schema, read_schema
from .sources import (
    CONTROL,
    MAX_TEXT,
    InvalidSources,
    Problem,
    Record,
    _refusals,
    _type_problem,
    did_you_mean,
    display_path,
)

BATCH = 5_000  # rows a batch: per-batch costs vanish, and memory stays small
MAX_KEPT = 1_000  # problems kept for the report; the rest are only counted
MAX_SHOWN = 50  # problems printed
# The tables written once for each row; the others hold rows that rows share.
EVENT_TABLES = ("events", "event_actors", "event_documents")


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read a megabyte at a time (hashlib.file_digest is 3.11+)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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

    def __init__(self, path: Path, problems: list[Problem], rows: int):
        super().__init__(problems)
        self.total = rows
        shown = f"; the first {MAX_SHOWN} problems are shown" if len(self.problems) > MAX_SHOWN else ""
        self.problems = self.problems[:MAX_SHOWN]
        self.message = (
            f"{rows:,} invalid row{'s' if rows != 1 else ''} in {display_path(path)}{shown}; nothing was written. "
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
            raise InvalidImport(
                path, [Problem(display_path(path), 1, "-", "-", f"unreadable header: {e}")], 1
            ) from None
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


def _text_problems(values: list[Any]) -> list[tuple[int, str]]:
    """Control characters and runaway lengths, checked on the whole row at
    once: the per-field check runs only when the row as a whole fails."""
    try:
        joined = "".join(values)
    except TypeError:  # NDJSON, with numbers among the text
        joined = "".join(v for v in values if isinstance(v, str))
    if len(joined) <= MAX_TEXT and not CONTROL.search(joined):
        return []
    return [
        (i, error) for i, v in enumerate(values) if isinstance(v, str) and (error := _type_problem("TEXT", False, v))
    ]


@dataclass
class Batch:
    """Rows on their way to the database: each table's rows, and for each
    row the index of the file row it came from, so a refusal can name it."""

    lines: list[tuple[int, str]] = field(default_factory=list)  # line and label of each file row
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    owners: dict[str, list[int]] = field(default_factory=dict)
    position: int = 0  # bytes of the file read so far

    def add(self, line: int, label: str, rows: list[tuple[str, tuple]]) -> None:
        owner = len(self.lines)
        self.lines.append((line, label))
        tables, owners = self.rows, self.owners
        for table, values in rows:
            if table not in tables:
                tables[table], owners[table] = [], []
            tables[table].append(values)
            owners[table].append(owner)


def mapper_for(header: list[str], origin: str, entity: Callable[..., str | None], schema: Schema) -> Any:
    """The mapper for a file's columns: ACLED's, or the store's own."""
    if "event_id_cnty" in header:
        return acled.Mapper(header, origin, entity)
    return EventsMapper(header, origin, entity, schema)


class Reader:
    """Reads, checks and maps a file's rows into batches, remembering which
    shared rows (places, actors, sources) it has already queued.

    It runs in a process of its own (see `read`), so that reading and
    mapping one batch overlaps with writing the one before: in one process
    the two would take turns on Python's interpreter lock.
    """

    def __init__(self, path: Path, origin: str, existing: dict[str, set[str]]):
        self.shown = display_path(path)
        self.rows = Rows(path)
        self.existing = existing  # ids already in the database, for references to check
        self.ids: dict[str, dict[Any, str | None]] = defaultdict(dict)
        self.problems: list[Problem] = []
        self.bad_rows = 0
        self.new: list[tuple[str, tuple]] = []  # shared rows first seen in the current row
        self.line = 0
        try:
            self.mapper = mapper_for(self.rows.header, origin, self.entity, read_schema())
        except ValueError as e:
            raise InvalidImport(path, [Problem(self.shown, 1, "-", "-", str(e))], 1) from None
        self.rows.text = self.mapper.format == "acled"

    def report(self, problems: list[Problem]) -> None:
        self.bad_rows += 1
        self.problems.extend(problems[: max(MAX_KEPT - len(self.problems), 0)])

    def entity(self, table: str, key: Any, make_row: Callable[[], tuple] | None) -> str | None:
        """The id of a shared row, queueing the row make_row() gives the
        first time its key is seen. With make_row None the row must already
        be in the database: None if it is not."""
        known = self.ids[table]
        if key in known:
            return known[key]
        if make_row is None:
            known[key] = key if key in self.existing.get(table, ()) else None
            return known[key]
        row = make_row()
        self.new.append((table, row))
        known[key] = row[0]
        return row[0]

    def batches(self) -> Iterator[Batch]:
        header, width = self.rows.header, len(self.rows.header)
        batch = Batch()
        try:
            for self.line, values in self.rows:
                if mapped := self._row(header, width, values):
                    batch.add(self.line, *mapped)
                    if len(batch.lines) >= BATCH:
                        batch.position = self.rows.position()
                        yield batch
                        batch = Batch()
        except (csv.Error, UnicodeDecodeError) as e:
            self.report([Problem(self.shown, self.line + 1, "-", "-", f"unreadable: {e}")])
            raise InvalidImport(self.rows.path, self.problems, self.bad_rows) from None
        yield batch

    def _row(
        self, header: list[str], width: int, values: list[Any] | str
    ) -> tuple[str, list[tuple[str, tuple]]] | None:
        """Check and map one file row: its label and database rows, or None
        once its problems are reported."""
        line = self.line
        if isinstance(values, str) or len(values) != width:
            message = (
                values if isinstance(values, str) else f"expected {width} fields as in the header, found {len(values)}"
            )
            self.report([Problem(self.shown, line, "-", "-", message)])
            return None
        label = self.mapper.label(values)
        text_problems = _text_problems(values)
        if text_problems:
            self.report([Problem(self.shown, line, label, header[i], e) for i, e in text_problems])
            return None
        self.new = []
        rows, problems = self.mapper.map(values)
        if problems:
            field_of = self.mapper.source_column
            self.report([Problem(self.shown, line, label, field_of(f), m) for f, m in problems])
            return None
        return label, self.new + rows if self.new else rows


def read(path: Path, origin: str, existing: dict[str, set[str]], connection: Connection) -> None:
    """The reading process: send ("header", ...), then each batch, then
    ("done", problems, bad rows), or ("invalid", problems, count)."""
    try:
        reader = Reader(path, origin, existing)
        connection.send(("header", reader.rows.header))
        for batch in reader.batches():
            connection.send(("batch", batch))
        connection.send(("done", reader.problems, reader.bad_rows))
    except InvalidImport as e:
        connection.send(("invalid", e.problems, e.total))
    finally:
        connection.close()


class Importer:
    """Writes one file's rows into an open database, batch by batch as a
    reading process (see Reader) sends them, inside the build's single
    transaction."""

    def __init__(self, db: sqlite_utils.Database, schema: Schema, spec: ImportSpec):
        self.db = db
        self.schema = schema
        self.spec = spec
        self.shown = display_path(spec.path)
        self.refused_ids: set[str] = set()  # shared rows the database refused
        self.problems: list[Problem] = []
        self.bad_rows = 0
        self.events = 0

    def report(self, problems: list[Problem], rows: int = 1) -> None:
        self.bad_rows += rows
        self.problems.extend(problems[: max(MAX_KEPT - len(self.problems), 0)])

    def statement(self, table: str) -> str:
        columns = self.mapper.columns[table]
        return f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

    def write(self, batch: Batch) -> None:
        """Write a batch table by table, parents first, leaving out each row
        the database refuses along with every row that needs it.

        The rows go in through executemany on sqlite-utils' connection, not
        its insert_all, because each row is then a statement of its own: a
        row the database refuses changes nothing, and the import resumes
        after it with no rollback journal at all. insert_all packs rows into
        multi-row INSERTs, where one refused row aborts a whole statement
        that only a journal could undo; and on the same rows, in one
        transaction, it costs about the same CPU time (docs/performance.md,
        row (a′)).
        """
        refused: set[int] = set()  # indexes into batch.lines
        half_written: set[int] = set()  # refused after their event was written

        def refuse(owner: int, problems: list[Problem]) -> None:
            refused.add(owner)
            self.report(problems)

        if self.refused_ids:
            # The reading process does not hear of refusals, so later rows
            # may still name a shared row refused in an earlier batch.
            created = {v[0] for t, rows in batch.rows.items() if t not in EVENT_TABLES for v in rows}
            self._refuse_users(batch, self.refused_ids - created, refused, refuse)
        for table in self.schema.tables:
            rows = batch.rows.get(table)
            if not rows:
                continue
            owners = batch.owners[table]
            # A shared row goes in even if the row that first named it did
            # not: later rows may name it too.
            if refused and table in EVENT_TABLES:
                kept = [i for i, owner in enumerate(owners) if owner not in refused]
                rows, owners = [rows[i] for i in kept], [owners[i] for i in kept]
            for index, values, error in self._insert(table, rows):
                owner = owners[index]
                line, label = batch.lines[owner]
                if owner not in refused:
                    refuse(owner, self._refusals(table, values, error, line, label))
                if table not in EVENT_TABLES:
                    self.refused_ids.add(values[0])
                    self._refuse_users(batch, {values[0]}, refused, refuse)
                elif table != "events":
                    half_written.add(owner)
        for owner in sorted(half_written):
            self._undo(batch, owner)
        self.events += len(batch.lines) - len(refused)

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

    def _refusals(self, table: str, values: tuple, error: sqlite3.Error, line: int, label: str) -> list[Problem]:
        record = Record(table, dict(zip(self.mapper.columns[table], values)), self.shown, line, label)
        return [
            dataclasses.replace(p, field=self.mapper.source_column(p.field))
            for p in _refusals(self.db, self.schema.tables[table], record, error)
        ]

    def _refuse_users(
        self, batch: Batch, ids: set[str], refused: set[int], refuse: Callable[[int, list[Problem]], None]
    ) -> None:
        """Refuse the batch's rows that refer to any of the refused shared rows."""
        if not ids:
            return
        for table in EVENT_TABLES:
            for values, owner in zip(batch.rows.get(table, []), batch.owners.get(table, [])):
                if owner not in refused and (named := ids.intersection(values)):
                    line, label = batch.lines[owner]
                    message = f"refers to '{min(named)}', which the database refused (see above)"
                    refuse(owner, [Problem(self.shown, line, label, "-", message)])

    def _undo(self, batch: Batch, owner: int) -> None:
        """Remove the event (and links) written for a row whose later link was refused."""
        event_id = batch.rows["events"][batch.owners["events"].index(owner)][0]
        for table in reversed(EVENT_TABLES):
            key = self.mapper.columns[table][0]
            self.db.conn.execute(f"DELETE FROM [{table}] WHERE [{key}] = ?", [event_id])

    def run(self, progress: bool) -> ImportReport:
        path = self.spec.path
        existing = {
            fk.table: {r[0] for r in self.db.execute(f"SELECT [{fk.target}] FROM [{fk.table}]")}
            for fk in self.schema.tables["events"].foreign_keys
        }
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        reader = context.Process(target=read, args=(path, self.spec.origin, existing, sending), daemon=True)
        reader.start()
        sending.close()
        bar: Any = (
            click.progressbar(length=path.stat().st_size, label=f"Importing {self.shown}", file=sys.stderr)
            if progress
            else nullcontext()
        )
        try:
            with bar:
                while True:
                    try:
                        message = receiving.recv()
                    except EOFError:
                        raise click.ClickException(
                            f"reading {self.shown} failed (exit code {reader.exitcode})"
                        ) from None
                    if message[0] == "invalid":
                        raise InvalidImport(path, self.problems + message[1], self.bad_rows + message[2])
                    if message[0] == "header":
                        self.mapper = mapper_for(message[1], self.spec.origin, lambda *args: None, self.schema)
                        if self.mapper.format == "acled":
                            self.db["event_types"].insert_all(acled.event_type_rows(), ignore=True)
                    elif message[0] == "batch":
                        self.write(message[1])
                        if progress:
                            bar.update(message[1].position - bar.pos)
                    else:
                        _, problems, bad_rows = message
                        self.report(problems, bad_rows)
                        break
        finally:
            receiving.close()
            if reader.is_alive():  # the write failed while the reader was still sending
                reader.terminate()
            reader.join()
        self.problems.sort()
        if self.bad_rows and not self.spec.skip_invalid:
            raise InvalidImport(path, self.problems, self.bad_rows)
        return ImportReport(self.spec, self.mapper.format, file_sha256(path), self.events, self.bad_rows, self.problems)


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
            " AND NOT EXISTS (SELECT 1 FROM previous.events WHERE id = e.id)",
            {"origin": origin},
        ).fetchone()
        (removed,) = db.execute(
            "SELECT count(*) FROM previous.events AS e WHERE origin = :origin"
            " AND NOT EXISTS (SELECT 1 FROM main.events WHERE id = e.id)",
            {"origin": origin},
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
        raise click.BadParameter(
            f"'{name}' must be a slug of lowercase letters, digits and hyphens", param_hint="--import"
        )
    return ImportSpec(path, name, skip_invalid)
