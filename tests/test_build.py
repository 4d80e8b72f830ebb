"""Building the database: complete, checked, deterministic, and never half-written."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from loader.build import build, build_lock
from loader.errors import BuildLocked, InvalidSources, ReplaceFailed
from loader.sources import DEFAULT_SOURCES


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp") or "-journal" in p.name)


def test_build_writes_every_row_and_passes_sqlite_checks(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    dataset = build(sources, db_path)
    conn = sqlite3.connect(db_path)
    for table, count in dataset.counts().items():
        assert conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] == count > 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert leftovers(tmp_path) == []


def test_full_text_indexes_cover_names_and_aliases(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    conn = sqlite3.connect(db_path)

    def search(table: str, term: str) -> list[str]:
        return [
            row[0]
            for row in conn.execute(
                f"SELECT id FROM {table} WHERE rowid IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)",
                [term],
            )
        ]

    assert search("actors", "Shibani") == ["asaad-al-shaibani"]
    assert search("places", "Dimashq") == ["damascus"]
    assert search("events", "Dermer") == ["2025-08-19-paris-shaibani-dermer"]


def test_indexes_cover_every_foreign_key(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    conn = sqlite3.connect(db_path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%STRICT'")]
    for table in tables:
        leading = {
            conn.execute(f"PRAGMA index_info([{index[1]}])").fetchone()[2]
            for index in conn.execute(f"PRAGMA index_list([{table}])")
        }
        for fk in conn.execute(f"PRAGMA foreign_key_list([{table}])"):
            assert fk[3] in leading, f"{table}.{fk[3]} has no index"


def test_same_sources_give_identical_databases(sources: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    build(sources, first)
    build(sources, second)
    assert dump(first) == dump(second)
    assert first.read_bytes() == second.read_bytes()


def test_row_order_does_not_depend_on_file_layout(sources: Path, tmp_path: Path) -> None:
    before = tmp_path / "before.db"
    build(sources, before)
    # Split the places into a file of their own, in reverse order.
    places = (sources / "places.yml").read_text().split("\n  - ")
    (sources / "places.yml").write_text(places[0] + "\n  - " + "\n  - ".join(places[1:][::-1]))
    after = tmp_path / "after.db"
    build(sources, after)
    assert dump(before) == dump(after)


def test_invalid_sources_leave_the_database_untouched(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    before = db_path.read_bytes()
    (sources / "events" / "paris.yml").write_text(
        (sources / "events" / "paris.yml").read_text().replace("date_precision: day", "date_precision: daily")
    )
    with pytest.raises(InvalidSources):
        build(sources, db_path)
    assert db_path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_write_that_fails_midway_keeps_the_old_database(sources: Path, tmp_path: Path) -> None:
    """A real failure part-way through the write: the file-size limit is
    lower than the new database, so the copy dies with 'file too large'."""
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    before = db_path.read_bytes()
    limit = 64 * 1024
    assert len(before) > limit

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", "loader", "build", "--sources", str(sources), "--db", str(db_path)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert result.returncode == 1
    assert "could not write" in result.stderr and "previous database is untouched" in result.stderr
    assert "Traceback" not in result.stderr
    assert db_path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_next_build_removes_what_a_killed_build_left(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    stale = tmp_path / ".events.db.build-abc123.tmp"
    stale.write_bytes(b"half a database")
    build(sources, db_path)
    assert not stale.exists()
    assert leftovers(tmp_path) == []


def test_a_concurrent_build_is_refused(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    with build_lock(tmp_path):
        with pytest.raises(BuildLocked, match="another build is writing"):
            build(sources, db_path)
    assert not db_path.exists()


def test_new_database_is_readable_by_others(sources: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    umask = os.umask(0o022)
    try:
        build(sources, db_path)
    finally:
        os.umask(umask)
    assert db_path.stat().st_mode & 0o777 == 0o644


def test_missing_directory_is_a_clear_error(sources: Path, tmp_path: Path) -> None:
    with pytest.raises(ReplaceFailed, match="no such directory"):
        build(sources, tmp_path / "missing" / "events.db")


def test_real_sources_build(tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    dataset = build(DEFAULT_SOURCES, db_path)
    counts = dataset.counts()
    assert counts["events"] > 0 and counts["documents"] > 0 and counts["claims"] > 0
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
