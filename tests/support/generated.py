"""A database at more than fixture scale, for tests of what only shows with
many events: the published fixture with generated ACLED events imported
beside it, built by the project's own build."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from benchmarks.generate import generate
from loader.build import build
from loader.importer import ImportSpec
from tests.conftest import published_sources


def generated_db(directory: Path, events: int) -> Path:
    acled_file = generate(directory / "acled.csv", events)
    db = directory / "events.db"
    build(published_sources(directory / "sources"), db, imports=[ImportSpec(acled_file, "acled", False)])
    return db


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of one query on a database file, read and closed."""
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()
