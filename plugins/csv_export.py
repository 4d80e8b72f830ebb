"""A whole table or view as CSV at the speed of the disk: /-/csv/DATABASE/TABLE.csv

Datasette 0.65's own `TABLE.csv?_stream=on` sends each row to the server as
a message of its own, which holds a full export of a million events to a few
megabytes a second (see docs/performance.md). Here SQLite itself writes
each row as a line of CSV, pages of rows are read by rowid on Datasette's
own database thread, and each page is sent at once: the same rows and
columns, in the order they were loaded, with the same permission checks as
the table page (`view-instance`, `view-database`, `view-table`), so
`_internal` and any database or table a reader may not see stay unseen.

A page stops at PAGE_BYTES of CSV, so an export holds a few megabytes however
wide its rows (the connection refuses more than 16 MB a query, see
sql_limits.py). Datasette's own CSV writes a blob as a link to download it;
here a blob is written losslessly as an SQL blob literal, `x'0A1B...'` (its
bytes in hexadecimal), where text would otherwise lose every byte that is
not UTF-8.

A view has no rowid to page by, and paging it by OFFSET would read it again
from the start for every page; so a view is read by one cursor, on a
read-only connection of its own that lives as long as the download, a page
of VIEW_PAGE rows at a time off the event loop. Its rows come in the view's
own order, with the names its columns already carry (the reader views hold
names, not ids). That connection has none of the site's SQL limits, which
only a visitor's own SQL needs: it runs nothing but the view.

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
VIEW_PAGE = 2_000  # rows of a view a page


def _line(columns: list[str]) -> str:
    """SQL that writes a row as one CSV line: SQLite builds the text, which is
    several times faster than Python's csv module doing it a cell at a time.
    Text is always quoted (RFC 4180), numbers never, NULL is empty, a blob
    is x'HEX'."""
    cells = []
    for column in map(escape_sqlite, columns):
        cells.append(
            f"CASE WHEN {column} IS NULL THEN '' WHEN typeof({column}) IN ('integer', 'real') "
            f"THEN CAST({column} AS TEXT) WHEN typeof({column}) = 'blob' THEN 'x''' || hex({column}) || '''' ELSE '\"' || replace({column}, '\"', '\"\"') || '\"' END"
        )
    return " || ',' || ".join(cells)


def _page(conn: sqlite3.Connection, table: str, line: str, after: int) -> tuple[str, int, int]:
    """One page of rows after the given rowid, as CSV text; with the last rowid and the row count."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: PAGE_BYTES bounds the page, not the connection's row counting
    cursor.execute(
        f"SELECT rowid, {line} FROM {escape_sqlite(table)} WHERE rowid > ? ORDER BY rowid LIMIT {PAGE}",
        [after],
    )
    lines: list[str] = []
    size, last = 0, after
    for rowid, text in cursor:  # a row at a time, so a page of wide rows stops at PAGE_BYTES
        lines.append(text + "\r\n")
        size += len(text)
        last = rowid
        if size >= PAGE_BYTES:
            break
    cursor.close()
    return "".join(lines), last, len(lines)


async def _stream_view(path: str, view: str, line: str, writer) -> None:
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        cursor = conn.execute(f"SELECT {line} FROM {escape_sqlite(view)}")
        while rows := await asyncio.to_thread(cursor.fetchmany, VIEW_PAGE):
            await writer.write("".join(row[0] + "\r\n" for row in rows))
    finally:
        conn.close()


async def export(request, datasette):
    database, table = request.url_vars["database"], request.url_vars["table"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    await datasette.ensure_permissions(
        request.actor, [("view-table", (database, table)), ("view-database", database), "view-instance"]
    )
    is_view = table in await db.view_names()
    if not is_view and table not in await db.table_names():
        raise NotFound(f"no table or view {table} in {database}")
    columns = await db.table_columns(table)
    line = _line(columns)

    async def stream(writer) -> None:
        header = io.StringIO()
        csv.writer(header).writerow(columns)
        await writer.write(header.getvalue())
        if is_view:
            await _stream_view(db.path, table, line, writer)
            return
        after = -(2**63)
        while True:
            text, after, count = await db.execute_fn(lambda conn, after=after: _page(conn, table, line, after))
            if not count:
                break
            await writer.write(text)

    return AsgiStream(
        stream,
        headers={"content-disposition": f'attachment; filename="{table}.csv"'},
        content_type="text/csv; charset=utf-8",
    )


@hookimpl
def register_routes():
    return [(r"^/-/csv/(?P<database>[^/]+)/(?P<table>[^/]+)\.csv$", export)]
