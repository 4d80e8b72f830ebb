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

import dataclasses
import multiprocessing
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InvalidImport, LoaderError
from ..files import sha256_file
from ..problems import MAX_KEPT, Problem, display_path
from ..rules import Record, refusals, text_problems
from ..schema import Schema, read_schema
from .formats import BY_NAME, format_for
from .rows import Rows

# The reading process imports this module, and sqlite_utils (numpy with it)
# would cost its start half a second: the writer's type only.
if TYPE_CHECKING:
    import sqlite_utils

BATCH = 5_000  # rows a batch: per-batch costs vanish, and memory stays small
# The tables written once for each row; the others hold rows that rows share.
EVENT_TABLES = ("events", "event_actors", "event_documents")


class Progress(Protocol):
    """What a build tells its caller as it goes, since a large import takes
    minutes and a caller (a person at a terminal, a harness with a time
    limit) must see that it moves: each step as it begins, and after each
    batch of an import the events written and the bytes of the file read.
    The library never prints; cli.py does."""

    def step(self, name: str) -> None: ...

    def imported(self, shown: str, events: int, read: int, size: int) -> None: ...


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
        self.format = format_for(self.rows.header)
        try:
            self.mapper = self.format(self.rows.header, origin, self.entity, read_schema())
        except ValueError as e:
            self.rows.close()
            raise InvalidImport(path, [Problem(self.shown, 1, "-", "-", str(e))], 1, skippable=False) from None
        self.rows.text = self.format.text_values

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
            for line, values in self.rows:
                self.line = line
                if mapped := self._row(header, width, values):
                    batch.add(self.line, *mapped)
                    if len(batch.lines) >= BATCH:
                        batch.position = self.rows.position()
                        yield batch
                        batch = Batch()
        except InvalidImport as e:  # the rest of the file cannot be read
            raise InvalidImport(
                self.rows.path, self.problems + e.problems, self.bad_rows + 1, skippable=False
            ) from None
        batch.position = self.rows.position()
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
        if bad_text := text_problems(values):
            self.report([Problem(self.shown, line, label, header[i], e) for i, e in bad_text])
            return None
        self.new = []
        rows, problems = self.mapper.map(values)
        if problems:
            field_of = self.format.source_column
            self.report([Problem(self.shown, line, label, field_of(f), m) for f, m in problems])
            return None
        return label, self.new + rows if self.new else rows


def read(path: Path, origin: str, existing: dict[str, set[str]], connection: Connection) -> None:
    """The reading process: send ("header", format name, columns), then each
    batch, then ("done", problems, bad rows); or ("invalid", problems, count,
    skippable) for a file it cannot import, or ("failed", why) for an error
    of its own, which the writing process reports, so that no traceback is
    printed from a process the user never started."""
    try:
        reader = Reader(path, origin, existing)
        connection.send(("header", reader.format.name, reader.mapper.columns))
        for batch in reader.batches():
            connection.send(("batch", batch))
        connection.send(("done", reader.problems, reader.bad_rows))
    except InvalidImport as e:
        connection.send(("invalid", e.problems, e.total, e.skippable))
    except (OSError, MemoryError, RecursionError) as e:
        connection.send(("failed", f"{type(e).__name__}: {e}"))
    finally:
        connection.close()


def reading_context() -> Any:
    """Where reading processes come from: a fork server, started at the first
    import and holding this module, which forks each reader ready to read.
    Not fork: the writing process may have threads (serve --reload rebuilds
    in one), which a fork copies mid-step. Not spawn: each reader then
    started a new interpreter and imported the loader anew, for every file of
    every build (a build of several imports, each rebuild of `serve
    --reload`, the tests' hundreds): six builds of 600 imported rows in one
    process took 15.0 CPU-seconds so, 12.6 from the fork server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return context


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
        self.format = ""
        self.columns: dict[str, tuple[str, ...]] = {}
        self.source_column: Callable[[str], str] = str

    def report(self, problems: list[Problem], rows: int = 1) -> None:
        self.bad_rows += rows
        self.problems.extend(problems[: max(MAX_KEPT - len(self.problems), 0)])

    def statement(self, table: str) -> str:
        columns = self.columns[table]
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

    def _insert(self, table: str, rows: list[tuple]) -> Iterator[tuple[int, tuple, sqlite3.IntegrityError]]:
        """executemany, resuming after each row the database refuses; yields those."""
        conn, sql, start = self.db.conn, self.statement(table), 0
        while start < len(rows):
            before = conn.total_changes
            try:
                conn.executemany(sql, rows[start:] if start else rows)
                return
            except sqlite3.IntegrityError as error:  # a refusal; any other error (a full disk) ends the build
                index = start + conn.total_changes - before
                yield index, rows[index], error
                start = index + 1

    def _refusals(self, table: str, values: tuple, error: sqlite3.Error, line: int, label: str) -> list[Problem]:
        record = Record(table, dict(zip(self.columns[table], values, strict=True)), self.shown, line, label)
        return [
            dataclasses.replace(p, field=self.source_column(p.field))
            for p in refusals(self.db, self.schema.tables[table], record, error)
        ]

    def _refuse_users(
        self, batch: Batch, ids: set[str], refused: set[int], refuse: Callable[[int, list[Problem]], None]
    ) -> None:
        """Refuse the batch's rows that refer to any of the refused shared rows."""
        if not ids:
            return
        for table in EVENT_TABLES:
            for values, owner in zip(batch.rows.get(table, []), batch.owners.get(table, []), strict=True):
                if owner not in refused and (named := ids.intersection(values)):
                    line, label = batch.lines[owner]
                    message = f"refers to '{min(named)}', which the database refused (see above)"
                    refuse(owner, [Problem(self.shown, line, label, "-", message)])

    def _undo(self, batch: Batch, owner: int) -> None:
        """Remove the event (and links) written for a row whose later link was refused."""
        event_id = batch.rows["events"][batch.owners["events"].index(owner)][0]
        for table in reversed(EVENT_TABLES):
            key = self.columns[table][0]
            self.db.conn.execute(f"DELETE FROM [{table}] WHERE [{key}] = ?", [event_id])

    def run(self, progress: Progress | None = None) -> ImportReport:
        path = self.spec.path
        existing = {
            fk.table: {r[0] for r in self.db.execute(f"SELECT [{fk.target}] FROM [{fk.table}]")}
            for fk in self.schema.tables["events"].foreign_keys
        }
        context = reading_context()
        receiving, sending = context.Pipe(duplex=False)
        reader = context.Process(target=read, args=(path, self.spec.origin, existing, sending), daemon=True)
        reader.start()
        sending.close()
        size = path.stat().st_size
        try:
            while True:
                try:
                    message = receiving.recv()
                except EOFError:
                    raise LoaderError(f"reading {self.shown} failed (exit code {reader.exitcode})") from None
                kind, *rest = message
                if kind == "invalid":
                    problems, rows, skippable = rest
                    raise InvalidImport(path, self.problems + problems, self.bad_rows + rows, skippable)
                if kind == "failed":
                    raise LoaderError(f"reading {self.shown} failed: {rest[0]}")
                if kind == "header":
                    self.format, self.columns = rest
                    importing = BY_NAME[self.format]
                    self.source_column = importing.source_column
                    importing.prepare(self.db)
                elif kind == "batch":
                    self.write(rest[0])
                    if progress:
                        progress.imported(self.shown, self.events, rest[0].position, size)
                else:
                    problems, bad_rows = rest
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
        return ImportReport(self.spec, self.format, sha256_file(path), self.events, self.bad_rows, self.problems)
