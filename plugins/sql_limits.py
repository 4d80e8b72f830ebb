"""Take from visitors' SQL two powers that reading the data never needs.

Size: the time limit stops queries that take many steps, but not one step
that builds a huge value. `select zeroblob(1000000000)` runs in a single step,
then costs the server tens of seconds and gigabytes of memory to send. No
field of a record may exceed 20,000 characters, so a one-megabyte cap on any
string or blob refuses such queries at once, with SQLite's "string or blob
too big", and leaves every real page alone.

fts3_tokenizer(): the SQLite that Python links here is built with it, so
`select fts3_tokenizer('simple')` hands anyone the address of code inside
the server process, and its two-argument form installs a tokenizer at any
address the caller names, the first step of a known exploit. Nothing here
uses FTS3, so the function is refused outright.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

MAX_VALUE_BYTES = 1_000_000
REFUSED_FUNCTIONS = {"fts3_tokenizer"}


def _authorize(action: int, arg1: str | None, arg2: str | None, database: str | None, source: str | None) -> int:
    if action == sqlite3.SQLITE_FUNCTION and arg2 and arg2.lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    # Connection.setlimit is new in Python 3.11, which serving needs; mypy checks as 3.10.
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)  # type: ignore[attr-defined]
    conn.set_authorizer(_authorize)
