"""Bound what one query can cost the server, and take from visitors' SQL a power
that reading the data never needs.

Memory: Datasette 0.65 reads up to `max_returned_rows + 1` rows of a query
into memory, then renders all of them at once, so neither its time limit nor
a row limit bounds what a request holds: the time limit stops SQL, not the
rendering of rows it has already produced. Three limits together do:

- no string or blob over 1 MB (`SQLITE_LIMIT_LENGTH`): `select
  zeroblob(1000000000)` fails at once with SQLite's "string or blob too big";
- no result row of more than 64 columns (`SQLITE_LIMIT_COLUMN`; the widest
  table or view has 22), so one row holds at most 64 MB;
- no query's rows together over MAX_RESULT_BYTES of *written* cost: the
  connection's row factory, which sees every row Datasette fetches, adds up
  what each row costs in the costliest format and stops the query with a
  clear error (400) once the sum passes the cap.

A value's cost is what it can become, not its length. JSON writes a zero
byte as `\\u0000` (6 bytes), any other non-ASCII character as 6 bytes a
UTF-16 unit (an emoji 12): counted exactly, as the length of Python's own
escaping (`encode_basestring_ascii`, in C), and never under two bytes a
character, which covers ICS's escaped comma and semicolon and CSV's doubled
quote; HTML cuts a query's cells at 300 characters. Text that `_json=` or
.geojson's geometry would parse (it starts with `[` or `{`) becomes Python objects, up
to 90 bytes of them a character (nested lists through the geojson library):
it costs TOKEN_BYTES more for each `[`, `{`, `,` and `:` in it. Blobs cost
their base64, numbers their longest JSON, and each row the names of its
columns again (`_shape=objects` and .geojson's properties repeat them).

The bound, BOUND_BYTES (256 MB) above a worker's idle size for one request:
rendering holds the rows, the body as a str and as bytes, and uvicorn's copy
on its way out, measured at 5.6 bytes a byte of cost at most (plain text as
JSON or ICS; emoji and zero bytes 4.8, parsed JSON under 4). So a request
let through under the 24 MB cap peaks near 5.6 x 24 = 135 MB (measured:
135 MB); a refused one holds what it counted plus the row that passed the
cap (64 MB in Python and as much inside SQLite), measured under 130 MB. The
rest of the bound is margin for the allocator and the page's own objects
(1,001 rows of 63 numbers as HTML: 20 MB). tests/test_memory_bound.py holds
the site to it for every shape and format. The largest real page, 1,000
rows of the event list, costs about 4.5 MB, and counting it takes about as
long as fetching it from SQLite (some 20 ms on a busy machine).

The counting is done here because neither SQLite nor Python's sqlite3 module
can bound the memory of a result set, and Datasette 0.65 offers no hook
between fetching and rendering.

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
from json.encoder import encode_basestring_ascii
from typing import Any

from datasette import hookimpl
from datasette.views.base import DatasetteError

LIMIT_LENGTH, LIMIT_COLUMN = 0, 2  # SQLite's numbers for them; Python names them only from 3.11
MAX_VALUE_BYTES = 1_000_000
MAX_COLUMNS = 64
MAX_RESULT_BYTES = 24_000_000
BOUND_BYTES = 256 * 1024**2  # what one request may add to a worker at its peak, by the arithmetic above
NUMBER_BYTES = 24  # the longest JSON of an SQLite integer or float: -2.2250738585072014e-308
SEPARATOR = "\x1e"  # JSON writes it as six bytes: a text's quotes, and the ", " or ": " after it
TOKEN_BYTES = 64  # a list, dict, item or key that _json= or .geojson makes of a text, in Python objects
BASE64_OVERHEAD = 32  # JSON's {"$base64": true, "encoded": ...} around a blob
JSON_START = re.compile(r"(?:^|\x1e)[ \t\n\r]*[\[{]")  # a text that json.loads would make a list or dict of
REFUSED_FUNCTIONS = {"fts3_tokenizer"}
PRINTF_NAMES = ("printf", "format")
DIGITS = re.compile(r"\d+")
_plain = threading.local()  # each SQL thread's own connection with SQLite's printf
TOO_LARGE = (
    f"result too large: written out, its rows would pass {MAX_RESULT_BYTES // 1_000_000} MB; "
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


def text_cost(text: str) -> int:
    """Bytes that text costs written out: as JSON escapes it, and at least two a
    character (ICS's `\\,` and `\\;`); when some of it looks like JSON, the
    objects that parsing it builds, TOKEN_BYTES for each list, dict, item and key."""
    cost = max(len(encode_basestring_ascii(text)), 2 * len(text))
    if JSON_START.search(text):
        cost += TOKEN_BYTES * (text.count("[") + text.count("{") + text.count(",") + text.count(":"))
    return cost


def row_cost(row: tuple) -> int:
    """Bytes a row's values cost written out in the costliest format. Its texts
    are measured as one, joined by a separator that counts for the quotes
    and comma around each: one call into C a row rather than one a value keeps
    this within a few milliseconds for a page of 1,000 rows."""
    texts = [value for value in row if type(value) is str]
    cost = text_cost(SEPARATOR + SEPARATOR.join(texts)) if texts else 0
    for value in row:
        if type(value) is bytes:
            cost += 4 * ((len(value) + 2) // 3) + BASE64_OVERHEAD
    return cost + NUMBER_BYTES * (len(row) - len(texts))


def names_cost(cursor: sqlite3.Cursor) -> int:
    """Bytes of a result's column names, which some formats write again in every row."""
    names = [column[0] for column in cursor.description or ()]
    return text_cost(SEPARATOR + SEPARATOR.join(names)) if names else 0


def counting_rows(limit: int = MAX_RESULT_BYTES) -> Callable[[sqlite3.Cursor, tuple], sqlite3.Row]:
    """A row factory that makes Datasette's sqlite3.Row rows and refuses to
    make more once one cursor's rows cost more than `limit` bytes written out.
    Datasette runs each query on a cursor of its own, so the count starts
    again with each cursor."""
    counted: list[Any] = [None, 0, 0]  # a weak reference to the cursor counted, its bytes so far, its names' bytes

    def factory(cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
        if counted[0] is None or counted[0]() is not cursor:
            counted[:] = [weakref.ref(cursor), 0, names_cost(cursor)]
        counted[1] += row_cost(row) + counted[2]
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


# tryfirst: the limits are set before any other plugin's functions are added.
@hookimpl(tryfirst=True)
def prepare_connection(conn: sqlite3.Connection) -> None:
    set_limit(conn, LIMIT_LENGTH, MAX_VALUE_BYTES)
    set_limit(conn, LIMIT_COLUMN, MAX_COLUMNS)
    conn.set_authorizer(_authorize)
    conn.row_factory = counting_rows()
    for name in PRINTF_NAMES:
        conn.create_function(name, -1, bounded_printf, deterministic=True)
