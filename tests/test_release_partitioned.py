"""The release's partitioned Parquet: DuckDB reads the Hive layout as it is
and answers as SQLite does, and the GeoParquet geometry is what the spec asks
and stands where the place does."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import geomet.wkb
import pyarrow.parquet as pq
import pytest

from benchmarks.engines import QUESTIONS, duckdb_answers, sqlite_answers
from loader.build.database import build
from loader.imports.importer import ImportSpec
from loader.release.cut import ReleaseResult, release

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def cut(tmp_path_factory: pytest.TempPathFactory) -> ReleaseResult:
    """A release of the valid sources with the ACLED fixture imported: events of two years."""
    directory = tmp_path_factory.mktemp("partitioned")
    sources = directory / "sources"
    shutil.copytree(FIXTURES / "valid", sources)
    db = directory / "events.db"
    build(sources, db, [ImportSpec(FIXTURES / "acled" / "syria.csv", "acled", False)])
    return release(sources, db, directory / "dist", "2026.01.10", "2026-01-10")


def duck(directory: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    pattern = str(directory / "partitioned" / "events" / "*" / "*.parquet")
    conn.read_parquet(pattern, hive_partitioning=True).create_view("events")
    return conn


def test_the_events_are_split_by_year_in_the_hive_layout(cut: ReleaseResult) -> None:
    conn = sqlite3.connect(cut.directory / "events.db")
    years = [year for (year,) in conn.execute("SELECT DISTINCT substr(start_date, 1, 4) FROM events ORDER BY 1")]
    assert len(years) > 1  # the fixture spans years, or the split would show nothing
    for table in ("events", "event_actors", "event_documents"):
        folders = sorted(p.name for p in (cut.directory / "partitioned" / table).iterdir())
        assert folders == [f"year={year}" for year in years], table
        rows = sum(pq.read_metadata(p).num_rows for p in (cut.directory / "partitioned" / table).rglob("*.parquet"))
        assert rows == conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table


def test_duckdb_reads_the_dataset_and_agrees_with_sqlite(cut: ReleaseResult) -> None:
    """The benchmark's three questions (events by year, by type, per place)."""
    *_, lite = sqlite_answers(cut.directory / "events.db")
    # More than one answer to each, so that a lost group would show.
    assert set(lite) == set(QUESTIONS) and all(len(answer) > 1 for answer in lite.values())
    assert duckdb_answers(cut.directory / "partitioned")[2] == lite


def test_the_year_of_an_actor_row_is_its_events(cut: ReleaseResult) -> None:
    conn = duckdb.connect()
    pattern = str(cut.directory / "partitioned" / "{}" / "*" / "*.parquet")
    mismatched = conn.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) AS ea "
        "JOIN read_parquet(?, hive_partitioning = true) AS e ON e.id = ea.event_id "
        "WHERE ea.year <> e.year OR e.year <> CAST(substr(e.start_date, 1, 4) AS INTEGER)",
        [pattern.format("event_actors"), pattern.format("events")],
    ).fetchone()
    assert mismatched == (0,)


@pytest.mark.parametrize("table", ["events", "places"])
def test_geo_metadata_is_geoparquet(cut: ReleaseResult, table: str) -> None:
    files = sorted((cut.directory / "partitioned" / table).rglob("*.parquet"))
    assert files
    for path in files:
        geo = json.loads(pq.read_metadata(path).metadata[b"geo"])
        # The spec's required keys, file and column.
        assert geo["version"].startswith("1.")
        assert geo["primary_column"] == "geometry"
        column = geo["columns"][geo["primary_column"]]
        assert column["encoding"] == "WKB"
        assert isinstance(column["geometry_types"], list) and set(column["geometry_types"]) <= {"Point"}
        assert "crs" not in column  # absent means OGC:CRS84: longitude, latitude on WGS 84
        assert str(pq.read_schema(path).field("geometry").type) == "binary"


def test_the_tables_without_points_have_no_geometry(cut: ReleaseResult) -> None:
    for path in (cut.directory / "partitioned" / "event_actors").rglob("*.parquet"):
        assert b"geo" not in (pq.read_metadata(path).metadata or {})
        assert "geometry" not in pq.read_schema(path).names


def test_geometries_decode_to_the_places_points(cut: ReleaseResult) -> None:
    conn = sqlite3.connect(cut.directory / "events.db")
    points = {pid: (lon, lat) for pid, lon, lat in conn.execute("SELECT id, longitude, latitude FROM places")}
    events = duck(cut.directory).execute("SELECT id, place_id, geometry FROM events").fetchall()
    assert len(events) == conn.execute("SELECT count(*) FROM events").fetchone()[0]
    located = 0
    for event, place, wkb in events:
        expected = points.get(place, (None, None))
        if expected[0] is None:
            assert wkb is None, event
            continue
        assert geomet.wkb.loads(wkb) == {"type": "Point", "coordinates": list(expected)}, event
        located += 1
    assert located
    places = pq.read_table(next((cut.directory / "partitioned" / "places").rglob("*.parquet"))).to_pylist()
    assert {p["id"] for p in places} == set(points)
    for place in places:
        if place["geometry"] is not None:
            geometry = geomet.wkb.loads(place["geometry"])
            assert geometry == {"type": "Point", "coordinates": list(points[place["id"]])}, place["id"]


def test_the_package_and_readme_list_every_partitioned_file(cut: ReleaseResult) -> None:
    files = {p.relative_to(cut.directory).as_posix() for p in (cut.directory / "partitioned").rglob("*.parquet")}
    package = json.loads((cut.directory / "datapackage.json").read_text())
    listed = {r["path"]: r for r in package["resources"]}
    assert files <= set(listed)
    assert all(listed[path]["format"] == "parquet" for path in files)
    assert len({listed[path]["name"] for path in files}) == len(files)  # names unique, as Frictionless asks
    readme = (cut.directory / "README.md").read_text()
    assert all(f"`{path}`" in readme for path in files)
