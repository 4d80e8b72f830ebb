"""The dataset_release row: what every build records about the sources it read."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from loader.build.database import build
from loader.schema import SCHEMA_PATH
from tests.support.git import git, new_repository


def release_row(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT version, released, built_from, sources_date FROM dataset_release").fetchall()
    finally:
        conn.close()
    assert len(rows) == 1
    return rows[0]


def test_outside_a_checkout_the_newest_file_dates_the_build(sources: Path, tmp_path: Path) -> None:
    stamp = 1767780000  # 2026-01-07 10:00 UTC
    for path in sources.rglob("*.yml"):
        os.utime(path, (stamp, stamp))
    newest = sources / "places.yml"
    os.utime(newest, (stamp + 86400, stamp + 86400))
    # schema.sql is read too, so a newer checkout of it dates the build instead.
    schema_day = datetime.fromtimestamp(SCHEMA_PATH.stat().st_mtime, timezone.utc).date().isoformat()
    expected = max("2026-01-08", schema_day)
    db = tmp_path / "events.db"
    result = build(sources, db)
    assert result.version is not None and not result.version.in_checkout
    assert release_row(db) == ("unreleased", None, None, expected)


def test_in_a_checkout_the_commit_and_its_date(sources: Path, tmp_path: Path) -> None:
    new_repository(sources, "first records", date="2026-01-05T23:30:00-05:00")
    head = git(sources, "rev-parse", "HEAD").strip()
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    build(sources, first)
    build(sources, second)
    # The commit's date in UTC, whatever the committer's zone.
    assert release_row(first) == ("unreleased", None, head, "2026-01-06")
    assert first.read_bytes() == second.read_bytes()

    (sources / "places.yml").write_text((sources / "places.yml").read_text() + "\n", encoding="utf-8")
    build(sources, first)
    assert release_row(first)[2] == f"{head}-dirty"
