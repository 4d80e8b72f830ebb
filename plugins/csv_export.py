"""A whole table or view as CSV at the speed of the disk: /-/csv/DATABASE/TABLE.csv

Datasette 0.65's own `TABLE.csv?_stream=on` sends each row to the server as
a message of its own, which holds a full export of a million events to a few
megabytes a second (see docs/performance.md). Here SQLite itself writes
each row as a line of CSV, pages of rows are read by rowid on a read-only
connection of the download's own, each page on a thread while the one
before is sent: the same rows and columns, in the order they were loaded,
with the same permission checks as the table page (`view-instance`,
`view-database`, `view-table`), so `_internal` and any database or table a
reader may not see stay unseen.

A view that carries its rows' rowid (the reader views do, for search), and
whose rowids SQLite finds by its table's key, is read the same way and in
that order, which is its rows' own order when it sets none. A page is read
through a subquery that SQLite cannot merge into the line's expression (its
OFFSET sees to that): the expression names each column several times, and a
view's column (a list of names, a map popup) would be computed once each
time. Any other view is read by one cursor, in its own order. The connection
has none of the site's SQL limits, which only a visitor's own SQL needs: it
runs nothing but the table or view. (Two readers on threads were slower
than one: SQLite's allocator takes a lock that both then wait on.)

A page stops at PAGE_BYTES of CSV, so it holds a few megabytes however wide
the rows. Datasette's own CSV writes a blob as a link to download it; here a
blob is written losslessly as an SQL blob literal, `x'0A1B...'` (its bytes
in hexadecimal), where text would otherwise lose every byte that is not UTF-8.

No plugin streams a table's CSV faster: datasette-export-database hands out
the whole SQLite file (the site offers events.db already) and datasette-export
writes rendered pages to disk.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from pathlib import Path

from datasette import hookimpl
from datasette.utils import escape_sqlite
from datasette.utils.asgi import AsgiStream, NotFound

PAGE = 20_000  # rows a page at most
PAGE_BYTES = 4_000_000  # of CSV a page at most


def _line(columns: list[str]) -> str:
    """SQL that writes a row as one CSV line: SQLite builds the text, which is
    several times faster than Python's csv module doing it a cell at a time.
    Text is always quoted (RFC 4180), numbers never, NULL is empty, a blob
    is x'HEX'."""
    cells = []
    for column in map(escape_sqlite, columns):
        cells.append(
            f"CASE typeof({column}) WHEN 'text' THEN '\"' || replace({column}, '\"', '\"\"') || '\"' "
            f"WHEN 'null' THEN '' WHEN 'blob' THEN 'x''' || hex({column}) || '''' ELSE CAST({column} AS TEXT) END"
        )
    return " || ',' || ".join(cells)


class Source:
    """A table or view being exported, on a read-only connection of its own."""

    def __init__(self, path: str, mutable: bool, name: str, columns: list[str]):
        uri = f"{Path(path).absolute().as_uri()}?mode=ro{'' if mutable else '&immutable=1'}"
        self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.name = escape_sqlite(name)
        self.line = _line(columns)

    def by_rowid(self) -> bool:
        """Whether SQLite finds the source's rows by rowid from its table's key."""
        try:
            plan = self.conn.execute(f"EXPLAIN QUERY PLAN SELECT rowid FROM {self.name} WHERE rowid > 0")
            return any("rowid>" in row[3] for row in plan)
        except sqlite3.Error:  # a view without rowids
            return False

    def page(self, after: int) -> tuple[str, int]:
        """The rows after the given rowid as CSV, up to PAGE rows or
        PAGE_BYTES; with the last rowid read (`after` when none was left)."""
        cursor = self.conn.execute(
            f"SELECT rowid, {self.line} FROM (SELECT rowid, * FROM {self.name} "
            f"WHERE rowid > ? ORDER BY rowid LIMIT {PAGE} OFFSET 0)",
            [after],
        )
        lines: list[str] = []
        size, last = 0, after
        for last, text in cursor:  # noqa: B007 (a row at a time, so a page of wide rows stops at PAGE_BYTES)
            lines.append(text + "\r\n")
            size += len(text)
            if size >= PAGE_BYTES:
                break
        cursor.close()
        return "".join(lines), last

    def rows(self, cursor: sqlite3.Cursor) -> str:
        return "".join(row[0] + "\r\n" for row in cursor.fetchmany(PAGE))


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
        reading: asyncio.Future | None = None
        try:
            if await asyncio.to_thread(source.by_rowid):
                reading = asyncio.ensure_future(asyncio.to_thread(source.page, -(2**63)))
                while (page := await reading)[0]:
                    reading = asyncio.ensure_future(asyncio.to_thread(source.page, page[1]))
                    await writer.write(page[0])
            else:
                cursor = source.conn.execute(f"SELECT {source.line} FROM {source.name}")
                while text := await asyncio.to_thread(source.rows, cursor):
                    await writer.write(text)
        finally:
            if reading is not None:  # a page still being read when the reader left: let it finish first
                await asyncio.gather(reading, return_exceptions=True)
            source.conn.close()

    return AsgiStream(
        stream,
        headers={"content-disposition": f'attachment; filename="{table}.csv"'},
        content_type="text/csv; charset=utf-8",
    )


@hookimpl
def register_routes():
    return [(r"^/-/csv/(?P<database>[^/]+)/(?P<table>[^/]+)\.csv$", export)]
