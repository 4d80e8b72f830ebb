"""Bound what one query can cost the server, and take from visitors' SQL a power
that reading the data never needs.

Memory: Datasette 0.65 reads up to `max_returned_rows + 1` rows of a query
into memory, then renders all of them at once (JSON escapes a zero byte as
six characters), so neither its time limit nor a row limit bounds what a
request holds: the time limit stops SQL, not the rendering of rows it has
already produced. Three limits together do:

- no string or blob over 1 MB (`SQLITE_LIMIT_LENGTH`): `select
  zeroblob(1000000000)` fails at once with SQLite's "string or blob too big";
- no result row of more than 64 columns (`SQLITE_LIMIT_COLUMN`; the widest
  table or view has 22), so one row holds at most 64 MB;
- no query's rows together over 16 MB of values: the connection's row
  factory, which sees every row Datasette fetches, counts the size of each
  row's values and stops the query with a clear error once they pass it. The
  largest real page, 1,000 rows of the event list, holds well under 4 MB.

A request therefore holds at most 64 + 16 MB of fetched values and their
rendering (at most six bytes of JSON a byte): see docs/reliability.md for the
bound measured under the hostile queries. The counting is done here because
neither SQLite nor Python's sqlite3 module can bound the memory of a result
set, and Datasette 0.65 offers no hook between fetching and rendering.

Time: `printf('%.*c', 900000000, 'x')` runs ten seconds inside one SQLite
step, which the time limit cannot interrupt, and then gives NULL because the
result would pass the 1 MB cap. printf() and format() are therefore replaced
by a wrapper that gives that NULL at once when a width or precision passes
the cap, and otherwise hands the call to SQLite's own printf (on a private
in-memory connection), so every other call answers as before.

fts3_tokenizer(): the SQLite that Python links here is built with it, so
`select fts3_tokenizer('simple')` hands anyone the address of code inside
the server process, and its two-argument form installs a tokenizer at any
address the caller names, the first step of a known exploit. Nothing here
uses FTS3, so the function is refused outright.

datasette-sqlite-authorizer uses SQLite's authorizer only to make tables
read-only; it neither bounds a result's memory nor refuses a function.
"""

from __future__ import annotations

import ctypes
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any

from datasette import hookimpl
from datasette.views.base import DatasetteError

LIMIT_LENGTH, LIMIT_COLUMN = 0, 2  # SQLite's numbers for them; Python names them only from 3.11
MAX_VALUE_BYTES = 1_000_000
MAX_COLUMNS = 64
MAX_RESULT_BYTES = 16_000_000
NUMBER_BYTES = 8  # an integer or float as SQLite stores it, at most
REFUSED_FUNCTIONS = {"fts3_tokenizer"}
PRINTF_NAMES = ("printf", "format")
DIGITS = re.compile(r"\d+")
_plain = threading.local()  # each SQL thread's own connection with SQLite's printf
TOO_LARGE = (
    f"result too large: its rows hold more than {MAX_RESULT_BYTES // 1_000_000} MB; "
    "ask for fewer rows or columns (LIMIT, _size, _col)"
)


class ResultTooLarge(DatasetteError):
    """A query's rows outgrew MAX_RESULT_BYTES. Datasette's own error, so that
    every page and format (CSV included, which drops SQL errors) answers 400."""

    def __init__(self) -> None:
        super().__init__(TOO_LARGE, title="Result too large", status=400)


def set_limit(conn: sqlite3.Connection, category: int, value: int) -> None:
    """`Connection.setlimit`, which is new in Python 3.11; on 3.10, the same
    SQLite call through ctypes."""
    if hasattr(conn, "setlimit"):
        conn.setlimit(category, value)
    else:
        limit_through_ctypes(conn, category, value)


def limit_through_ctypes(conn: sqlite3.Connection, category: int, value: int) -> None:
    """SQLite's sqlite3_limit() on the handle that Python's connection object
    keeps first after its object header (so in 3.10 to 3.13); Python 3.10 has
    no other way to lower a limit."""
    import _sqlite3  # the extension module, linked to the SQLite this connection uses

    limit = ctypes.CDLL(_sqlite3.__file__).sqlite3_limit
    limit.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    limit(ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value, category, value)


def _authorize(action: int, arg1: str | None, arg2: str | None, database: str | None, source: str | None) -> int:
    if action == sqlite3.SQLITE_FUNCTION and arg2 and arg2.lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def row_size(row: tuple) -> int:
    """Bytes of a row's values: text and blobs by length, numbers as stored."""
    return sum(len(value) if isinstance(value, (str, bytes)) else NUMBER_BYTES for value in row)


def counting_rows(limit: int = MAX_RESULT_BYTES) -> Callable[[sqlite3.Cursor, tuple], sqlite3.Row]:
    """A row factory that makes Datasette's sqlite3.Row rows and refuses to
    make more once one cursor's rows pass `limit` bytes. Datasette runs each
    query on a cursor of its own, so the count starts again with each cursor."""
    counted: list[Any] = [None, 0]  # a weak reference to the cursor counted, and its bytes so far

    def factory(cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
        if counted[0] is None or counted[0]() is not cursor:
            counted[:] = [weakref.ref(cursor), 0]
        counted[1] += row_size(row)
        if counted[1] > limit:
            del row  # the traceback keeps this frame, and so the row, until the cycle collector runs
            raise ResultTooLarge()
        return sqlite3.Row(cursor, row)

    return factory


def bounded_printf(*call: Any) -> Any:
    """SQLite's printf, but NULL at once for a width or precision past the value cap."""
    if not call:
        return None
    pattern, *args = call
    if isinstance(pattern, str):
        numbers = [int(d) for d in DIGITS.findall(pattern)]
        if "*" in pattern:
            numbers += [abs(a) for a in args if isinstance(a, int)]
        if any(n > MAX_VALUE_BYTES for n in numbers):
            return None
    if not hasattr(_plain, "conn"):
        _plain.conn = sqlite3.connect(":memory:")
        set_limit(_plain.conn, LIMIT_LENGTH, MAX_VALUE_BYTES)
    marks = ", ".join("?" * (len(args) + 1))
    return _plain.conn.execute(f"SELECT printf({marks})", (pattern, *args)).fetchone()[0]


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    set_limit(conn, LIMIT_LENGTH, MAX_VALUE_BYTES)
    set_limit(conn, LIMIT_COLUMN, MAX_COLUMNS)
    conn.set_authorizer(_authorize)
    conn.row_factory = counting_rows()
    for name in PRINTF_NAMES:
        conn.create_function(name, -1, bounded_printf, deterministic=True)
