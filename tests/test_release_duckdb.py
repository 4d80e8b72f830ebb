"""The hand-off to DuckDB: a release's load-duckdb.sql loads its Parquet files,
and the same three questions get the same answers in SQLite and DuckDB."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from loader.release.cut import ReleaseResult, release
from tests.conftest import published_sources

# SQL both engines read alike; distances by the haversine formula on a sphere
# of 6,371 km (SQLite's built-in math functions, DuckDB's own).
QUERIES = {
    "events per type": "SELECT event_type, count(*) AS n FROM events GROUP BY event_type ORDER BY event_type",
    "events per actor by name": """
        SELECT a.name, count(DISTINCT ea.event_id) AS n
        FROM event_actors AS ea JOIN actors AS a ON a.id = ea.actor_id
        GROUP BY a.name ORDER BY a.name""",
    "events within 50 km of Damascus": """
        WITH here AS (SELECT latitude AS lat, longitude AS lon FROM places WHERE id = 'damascus')
        SELECT e.id
        FROM events AS e JOIN places AS p ON p.id = e.place_id, here
        WHERE p.latitude IS NOT NULL
          AND 2 * 6371 * asin(sqrt(
                power(sin(radians(p.latitude - here.lat) / 2), 2)
                + cos(radians(here.lat)) * cos(radians(p.latitude))
                  * power(sin(radians(p.longitude - here.lon) / 2), 2))) <= 50
        ORDER BY e.id""",
}


@pytest.fixture(scope="module")
def real_release(tmp_path_factory: pytest.TempPathFactory) -> ReleaseResult:
    """A release of the published fixture, whose events are at Damascus,
    Paris and Sweida: the questions ask about places it holds, not about
    what the curated sources hold today."""
    directory = tmp_path_factory.mktemp("duckdb")
    sources = published_sources(directory / "sources")
    return release(sources, directory / "none.db", directory / "dist", "2026.01.10", "2026-01-10")


def duck(directory: Path) -> duckdb.DuckDBPyConnection:
    """The README's recipe: run load-duckdb.sql in the release's directory."""
    conn = duckdb.connect()
    conn.execute(f"SET file_search_path = '{directory}'")
    conn.execute((directory / "load-duckdb.sql").read_text())
    return conn


@pytest.mark.parametrize("question", QUERIES)
def test_sqlite_and_duckdb_agree(real_release: ReleaseResult, question: str) -> None:
    lite = sqlite3.connect(real_release.directory / "events.db").execute(QUERIES[question]).fetchall()
    assert lite, question  # a question with no answer would agree trivially
    assert duck(real_release.directory).execute(QUERIES[question]).fetchall() == lite


def test_within_50_km_of_damascus_is_damascus_and_not_paris(real_release: ReleaseResult) -> None:
    conn = sqlite3.connect(real_release.directory / "events.db")
    near = {row[0] for row in conn.execute(QUERIES["events within 50 km of Damascus"])}
    places = dict(conn.execute("SELECT id, place_id FROM events"))
    assert near and all(places[event] != "paris" for event in near)
    assert {e for e, p in places.items() if p == "damascus"} <= near


def test_duckdb_tables_have_sqlite_rows_and_types(real_release: ReleaseResult) -> None:
    lite = sqlite3.connect(real_release.directory / "events.db")
    conn = duck(real_release.directory)
    names = {"INTEGER": "BIGINT", "REAL": "DOUBLE", "TEXT": "VARCHAR", "ANY": "VARCHAR"}
    for (table,) in conn.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
        declared = [(c[1], names[c[2]]) for c in lite.execute(f"PRAGMA table_info([{table}])")]
        loaded = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        assert loaded == declared, table
        assert (
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            == lite.execute(f"SELECT count(*) FROM [{table}]").fetchone()
        )
