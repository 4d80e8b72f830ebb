"""loader/site/plugins/sql_limits.py's own functions; the limits as the served site applies
them are tested in test_public_site.py."""

from __future__ import annotations

import sqlite3

import pytest

from loader.site.plugins import sql_limits as limits


def test_the_limit_set_through_ctypes_is_the_one_sqlite_applies() -> None:
    """Python 3.10 has no Connection.setlimit; the ctypes call stands in for it."""
    conn = sqlite3.connect(":memory:")
    limits.limit_through_ctypes(conn, limits.LIMIT_LENGTH, 5000)
    limits.limit_through_ctypes(conn, limits.LIMIT_COLUMN, 3)
    assert conn.execute("select length(zeroblob(5000))").fetchone() == (5000,)
    with pytest.raises(sqlite3.DataError, match="too big"):
        conn.execute("select zeroblob(5001)").fetchone()
    with pytest.raises(sqlite3.OperationalError, match="too many columns"):
        conn.execute("select 1, 2, 3, 4")
    conn.close()


def test_a_text_costs_what_the_costliest_format_writes() -> None:
    """A count of characters let 990 KB of zero bytes through as 6 MB of JSON (red team B6)."""
    assert limits.text_cost("a" * 1000) == 2000  # ICS writes a comma as two; counted so for any character
    assert limits.text_cost("\0" * 1000) == 6002  # JSON's \u0000, with its quotes
    assert limits.text_cost("😀" * 1000) == 12002  # a surrogate pair of \uXXXX
    assert limits.text_cost("[" + "[]," * 1000 + "[]]") >= 2001 * limits.TOKEN_BYTES  # a list an item, once parsed
    assert limits.text_cost("x [1, 2]") == 16  # prose is not parsed


def test_the_row_factory_stops_a_cursor_past_its_bytes() -> None:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = limits.counting_rows(limit=3000)
    assert len(conn.execute("select zeroblob(1000) union all select zeroblob(1000)").fetchall()) == 2
    with pytest.raises(limits.ResultTooLarge):
        conn.execute(
            "with recursive c(x) as (select 1 union all select x + 1 from c) select zeroblob(1000) from c limit 3"
        ).fetchall()
    assert conn.execute("select zeroblob(2000)").fetchone()[0] == bytes(2000)  # a new cursor counts afresh
    conn.close()
