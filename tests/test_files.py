"""The one read-only connection and the one file digest the package uses."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from loader.files import connect_readonly, readonly_uri, sha256_file


def test_a_read_only_connection_cannot_write_nor_create(tmp_path: Path) -> None:
    db = tmp_path / "a database.db"  # a space, which the URI must escape
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    conn = connect_readonly(db)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError):
        connect_readonly(tmp_path / "missing.db").execute("SELECT 1")
    assert not (tmp_path / "missing.db").exists()


def test_an_immutable_connection_is_read_only_too(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    assert readonly_uri(db, immutable=True).endswith("?mode=ro&immutable=1")
    with pytest.raises(sqlite3.OperationalError):
        connect_readonly(db, immutable=True).execute("INSERT INTO t VALUES (1)")


def test_a_file_digest_is_the_sha256_of_its_bytes_across_blocks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # over a megabyte: more than one block is read
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
