"""A whole table or view as CSV at the speed of the disk: /-/csv/DATABASE/TABLE.csv

Datasette 0.65's own `TABLE.csv?_stream=on` sends each row to the server as
a message of its own, which holds a full export of a million events to a few
megabytes a second (see docs/performance.md). Here SQLite itself writes
each row as a line of CSV, and the rows are read in ranges of RANGE rowids,
on read-only connections of the download's own: the same rows and columns,
in the order they were loaded, with the same permission checks as the table
page (`view-instance`, `view-database`, `view-table`), so `_internal` and
any database or table a reader may not see stay unseen.

A view that carries its rows' rowid (the reader views do, for search), and
whose rowids SQLite finds by its table's key, is read the same way and in
that order, which is its rows' own order when it sets none. A range is read
through a subquery that SQLite cannot merge into the line's expression (its
OFFSET sees to that): the expression names each column several times, and a
view's column (a list of names, a map popup) would be computed once each
time. Any other view is read by one cursor, in its own order.

Two readers take the ranges in turn, so that both cores compute CSV while
one range is sent: a thread of the worker, and a helper process (this file
run as a program) that reads a range when asked and writes it back through
a pipe, which holds it to the pace of the download. A second thread would
not do: two SQLite connections in one process were slower together than
one alone (the allocator's lock, which both then wait on). A worker runs
one helper at a time; a download while it is busy is read by the thread
alone. The connections have none of the site's SQL limits, which only a
visitor's own SQL needs: they run nothing but the table or view.

A download whose reader hangs up, or stops reading, is cancelled by
disconnect.py; the `finally` of _stream_ranges then lets a piece being
read finish, kills the helper and frees its place.

A piece sent stops at PAGE_BYTES of CSV, so it holds a few megabytes however
wide the rows. Datasette's own CSV writes a blob as a link to download it;
here a blob is written losslessly as an SQL blob literal, `x'0A1B...'` (its
bytes in hexadecimal), where text would otherwise lose every byte that is
not UTF-8.

No plugin streams a table's CSV faster: datasette-export-database hands out
the whole SQLite file (the site offers events.db already) and datasette-export
writes rendered pages to disk.

Standard counterpart, in part: in production deploy/nginx.conf sends a
table's CSV from the release's own file (csv/<table>.csv) at disk speed,
and passes to this export only what no file holds (the views, `_bom=on`).
`make serve` has no nginx, and views have no release file, so it stays.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from datasette import hookimpl
from datasette.utils import escape_sqlite
from datasette.utils.asgi import AsgiStream, NotFound

from loader.files import readonly_uri

RANGE = 5_000  # rows a range: what one reader reads while the other's range is sent
PAGE_BYTES = 4_000_000  # of CSV a piece at most


class HelperProcesses:
    """This worker's helper processes: at most one, so that a second download
    at once is read by the worker alone."""

    def __init__(self, limit: int = 1):
        self.limit = limit
        self.running = 0


HELPERS = HelperProcesses()


Write = Callable[[bytes], Awaitable[Any]]


def _line(columns: list[str]) -> str:
    """SQL that writes a row as one CSV line: SQLite builds the text, which is
    several times faster than Python's csv module doing it a cell at a time.
    Text is always quoted (RFC 4180), numbers never, NULL is empty, a blob
    is x'HEX'. The cells are joined by one printf rather than by a chain of
    `||`, each of which copies the line so far (15% faster on the events
    table); a table or view Datasette can open here has at most sql_limits'
    64 columns, within the 127 arguments SQLite allows a function."""
    cells = [
        f"CASE typeof({column}) WHEN 'text' THEN '\"' || replace({column}, '\"', '\"\"') || '\"' "
        f"WHEN 'null' THEN '' WHEN 'blob' THEN 'x''' || hex({column}) || '''' ELSE {column} END"
        for column in map(escape_sqlite, columns)
    ]
    return f"printf('{','.join(['%s'] * len(cells))}', {', '.join(cells)})"


def pieces(conn: sqlite3.Connection, sql: str, after: int, until: int) -> Iterator[bytes]:
    """The CSV lines of the rows whose rowid is after `after` up to `until`,
    in pieces of about PAGE_BYTES, as UTF-8 (a row at a time, so that wide
    rows stop a piece)."""
    lines: list[str] = []
    size = 0
    for (text,) in conn.execute(sql, [after, until]):
        lines.append(text)
        size += len(text)
        if size >= PAGE_BYTES:
            yield ("\r\n".join(lines) + "\r\n").encode("utf-8")
            lines, size = [], 0
    if lines:
        yield ("\r\n".join(lines) + "\r\n").encode("utf-8")


def helper(uri: str, sql: str) -> None:
    """The second reader, in a process of its own: for each "AFTER UNTIL" line
    it reads, it writes that range's pieces, each led by its length in bytes
    (eight, big-endian), then a length of 0."""
    conn = sqlite3.connect(uri, uri=True)
    out = sys.stdout.buffer
    for request in sys.stdin:
        after, until = map(int, request.split())
        for piece in pieces(conn, sql, after, until):
            out.write(len(piece).to_bytes(8, "big"))
            out.write(piece)
        out.write(bytes(8))
        out.flush()


class Source:
    """A table or view being exported, on read-only connections of its own."""

    def __init__(self, path: str, mutable: bool, name: str, columns: list[str]):
        self.uri = readonly_uri(path, immutable=not mutable)  # the helper process opens it too
        self.name = escape_sqlite(name)
        self.line = _line(columns)
        # One connection reads rows, one finds where each range ends.
        self.conn = sqlite3.connect(self.uri, uri=True, check_same_thread=False)
        self.ends = sqlite3.connect(self.uri, uri=True, check_same_thread=False)
        # A range through a subquery that SQLite cannot merge (its OFFSET sees to that).
        self.range_sql = (
            f"SELECT {self.line} FROM (SELECT * FROM {self.name} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT -1 OFFSET 0)"
        )

    def close(self) -> None:
        self.conn.close()
        self.ends.close()

    def by_rowid(self) -> bool:
        """Whether SQLite finds the source's rows by rowid from its table's key."""
        try:
            plan = self.conn.execute(f"EXPLAIN QUERY PLAN SELECT rowid FROM {self.name} WHERE rowid > 0")
            return any("rowid>" in row[3] for row in plan)
        except sqlite3.Error:  # a view without rowids
            return False

    def range_after(self, after: int) -> tuple[int, int] | None:
        """The next RANGE rows after a rowid, as (after, last rowid); None past the end."""
        (last,) = self.ends.execute(
            f"SELECT max(rowid) FROM (SELECT rowid FROM {self.name} WHERE rowid > ? ORDER BY rowid LIMIT {RANGE})",
            [after],
        ).fetchone()
        return None if last is None else (after, last)

    def rows(self, cursor: sqlite3.Cursor) -> bytes:
        return "".join(row[0] + "\r\n" for row in cursor.fetchmany(RANGE)).encode("utf-8")


class Local:
    """A range read on a thread of this process, its next piece read while one is sent."""

    def __init__(self, source: Source, rows: tuple[int, int]):
        self.pieces = pieces(source.conn, source.range_sql, *rows)
        self.next = asyncio.ensure_future(asyncio.to_thread(next, self.pieces, None))

    async def send(self, write: Write) -> None:
        while (piece := await self.next) is not None:
            self.next = asyncio.ensure_future(asyncio.to_thread(next, self.pieces, None))
            await write(piece)

    async def finish(self) -> None:
        """Let a piece still being read finish before its connection closes."""
        await asyncio.gather(self.next, return_exceptions=True)


class Helper:
    """The second reader's process, asked for one range at a time."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process

    @classmethod
    async def start(cls, source: Source) -> Helper:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            source.uri,
            source.range_sql,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    def ask(self, rows: tuple[int, int]) -> Helper:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{rows[0]} {rows[1]}\n".encode())
        return self

    async def send(self, write: Write) -> None:
        assert self.process.stdout is not None
        while size := int.from_bytes(await self.process.stdout.readexactly(8), "big"):
            await write(await self.process.stdout.readexactly(size))

    async def finish(self) -> None:
        """Kill the process and wait for it. `communicate()`, not `wait()`: asyncio's
        wait() returns only once the pipes are closed too, and a download stopped
        early (its reader gone) leaves the process's output unread, so the pipe,
        paused by its full buffer, would never see its end; communicate() reads
        what is left (a pipe's worth) to the end."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.communicate()


async def _stream_ranges(source: Source, write: Write) -> None:
    """Send the ranges in order, read by this process and the helper in turn,
    the next range started on one while the other's is sent."""
    current = await asyncio.to_thread(source.range_after, -(2**63))
    if current is None:
        return
    following = await asyncio.to_thread(source.range_after, current[1])
    helper = None
    if following is not None and HELPERS.running < HELPERS.limit:
        HELPERS.running += 1
        helper = await Helper.start(source)
    reading: Local | Helper = Local(source, current)
    upcoming: Local | Helper | None = None
    try:
        while True:
            after, upcoming = following, None
            if after is not None and helper:
                upcoming = helper.ask(after) if isinstance(reading, Local) else Local(source, after)
            await reading.send(write)
            if after is None:
                break
            following = await asyncio.to_thread(source.range_after, after[1])
            reading = upcoming or Local(source, after)
    finally:
        for started in (reading, upcoming):
            if isinstance(started, Local):
                await started.finish()
        if helper:
            await helper.finish()
            HELPERS.running -= 1


async def export(request, datasette):
    database, table = request.url_vars["database"], request.url_vars["table"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    await datasette.ensure_permissions(
        request.actor, [("view-table", (database, table)), ("view-database", database), "view-instance"]
    )
    if table not in await db.view_names() and table not in await db.table_names():
        raise NotFound(f"no table or view {table} in {database}")
    columns = await db.table_columns(table)

    async def stream(writer) -> None:
        header = io.StringIO()
        csv.writer(header).writerow(columns)
        await writer.write(header.getvalue())
        source = Source(db.path, db.is_mutable, table, columns)

        async def write(data: bytes) -> None:  # bytes as they are: AsgiWriter.write encodes text
            await writer.send({"type": "http.response.body", "body": data, "more_body": True})

        try:
            if await asyncio.to_thread(source.by_rowid):
                await _stream_ranges(source, write)
            else:
                cursor = source.conn.execute(f"SELECT {source.line} FROM {source.name}")
                while data := await asyncio.to_thread(source.rows, cursor):
                    await write(data)
        finally:
            source.close()

    return AsgiStream(
        stream,
        headers={"content-disposition": f'attachment; filename="{table}.csv"'},
        content_type="text/csv; charset=utf-8",
    )


@hookimpl
def register_routes():
    return [(r"^/-/csv/(?P<database>[^/]+)/(?P<table>[^/]+)\.csv$", export)]


if __name__ == "__main__":
    helper(*sys.argv[1:])
