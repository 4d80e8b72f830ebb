"""A whole table as CSV at the speed of the disk: /-/csv/DATABASE/TABLE.csv

Datasette 0.65's own `TABLE.csv?_stream=on` sends each row to the server as
a message of its own, which holds a full export of a million events to a few
megabytes a second (see docs/performance.md). Here SQLite itself writes
each row as a line of CSV, pages of rows are read by rowid on Datasette's
own database thread, and each page is sent at once: the same rows and
columns, in the order they were loaded, with the same permission check as
the table page.
"""

from __future__ import annotations

import csv
import io
import sqlite3

from datasette import hookimpl
from datasette.utils import escape_sqlite
from datasette.utils.asgi import AsgiStream, Forbidden, NotFound

PAGE = 20_000  # rows a page: a few megabytes


def _line(columns: list[str]) -> str:
    """SQL that writes a row as one CSV line: SQLite builds the text, which is
    several times faster than Python's csv module doing it a cell at a time.
    Text is always quoted (RFC 4180), numbers never, NULL is empty."""
    cells = []
    for column in map(escape_sqlite, columns):
        cells.append(
            f"CASE WHEN {column} IS NULL THEN '' WHEN typeof({column}) IN ('integer', 'real') "
            f"THEN CAST({column} AS TEXT) ELSE '\"' || replace({column}, '\"', '\"\"') || '\"' END"
        )
    return " || ',' || ".join(cells)


def _page(conn: sqlite3.Connection, table: str, line: str, after: int) -> tuple[str, int, int]:
    """One page of rows after the given rowid, as CSV text; with the last rowid and the row count."""
    rows = conn.execute(
        f"SELECT rowid, {line} FROM {escape_sqlite(table)} WHERE rowid > ? ORDER BY rowid LIMIT {PAGE}",
        [after],
    ).fetchall()
    text = "".join(row[1] + "\r\n" for row in rows)
    return text, (rows[-1][0] if rows else after), len(rows)


async def export(request, datasette):
    database, table = request.url_vars["database"], request.url_vars["table"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no database {database}") from None
    if table not in await db.table_names():
        raise NotFound(f"no table {table} in {database}")
    if not await datasette.permission_allowed(request.actor, "view-table", (database, table), default=True):
        raise Forbidden("you may not see this table")
    columns = await db.table_columns(table)
    line = _line(columns)

    async def stream(writer) -> None:
        header = io.StringIO()
        csv.writer(header).writerow(columns)
        await writer.write(header.getvalue())
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
