"""Write a built database out as the files other tools read: CSV, GeoJSON and Parquet.

A release is read by spreadsheets, GIS and column engines (DuckDB, Spark,
BigQuery) as well as by SQLite, so each table goes out in each format, with
the same rows in the same order (by primary key) and, in Parquet, the same
column types as SQLite's STRICT declarations. Parquet is written with
pyarrow, whose files every one of those engines reads; GeoJSON uses the
`geojson` package so that every feature is checked as it is made. Each file
is written as the rows are read, so a large import never sits in memory.
"""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geojson
import pyarrow as pa
import pyarrow.parquet as pq

# SQLite's STRICT column types and the Arrow types that hold the same values;
# ANY, the one other STRICT type, is written as text.
ARROW_TYPES = {"INTEGER": pa.int64(), "REAL": pa.float64(), "TEXT": pa.string(), "BLOB": pa.binary()}


@dataclass(frozen=True)
class ExportedTable:
    name: str
    columns: list[tuple[str, str]]  # name and STRICT type
    primary_key: list[str]
    foreign_keys: list[tuple[str, str, str]]  # column, table, key
    rows: int


def data_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table that holds the data, in the order they were created:
    not SQLite's own tables, nor the full-text indexes and their shadow tables,
    which are rebuilt from the data."""
    virtual = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")]
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY rowid"
        )
        if not any(name.startswith(f"{v}_") for v in virtual)
    ]


def describe(conn: sqlite3.Connection, table: str) -> ExportedTable:
    info = conn.execute(f"PRAGMA table_info([{table}])").fetchall()
    primary_key = [name for _, name, *_rest, pk in sorted(info, key=lambda c: c[5]) if pk]
    foreign_keys = sorted((fk[3], fk[2], fk[4]) for fk in conn.execute(f"PRAGMA foreign_key_list([{table}])"))
    rows = conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
    return ExportedTable(table, [(c[1], c[2].upper()) for c in info], primary_key, foreign_keys, rows)


def _ordered(conn: sqlite3.Connection, table: ExportedTable) -> Iterator[tuple]:
    order = ", ".join(f"[{c}]" for c in table.primary_key) or "rowid"
    columns = ", ".join(f"[{name}]" for name, _ in table.columns)
    yield from conn.execute(f"SELECT {columns} FROM [{table.name}] ORDER BY {order}")


def write_csv(conn: sqlite3.Connection, table: ExportedTable, path: Path) -> None:
    """RFC 4180 CSV with a header; NULL is the empty field, as Frictionless reads it."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([name for name, _ in table.columns])
        for row in _ordered(conn, table):
            writer.writerow(["" if value is None else value for value in row])


def _cell(value: object, type_: str) -> object:
    """An ANY column (a cache's mixed values) has no one Arrow type; it goes out as text, as in the CSV."""
    return str(value) if type_ not in ARROW_TYPES and value is not None else value


def arrow_schema(table: ExportedTable) -> pa.Schema:
    return pa.schema([pa.field(name, ARROW_TYPES.get(type_, pa.string())) for name, type_ in table.columns])


PARQUET_BATCH = 100_000  # rows a row group: a large import is written without holding it all


def _batches(rows: Iterator[tuple], schema: pa.Schema, types: list[str]) -> Iterator[pa.RecordBatch]:
    """The rows PARQUET_BATCH at a time as Arrow batches (at least one, so an
    empty table still gets its file and schema)."""
    while True:
        batch = list(itertools.islice(rows, PARQUET_BATCH))
        columns = [
            pa.array([_cell(row[i], type_) for row in batch], type=field.type)
            for i, (field, type_) in enumerate(zip(schema, types, strict=True))
        ]
        yield pa.RecordBatch.from_arrays(columns, schema=schema)
        if len(batch) < PARQUET_BATCH:
            return


def write_parquet(conn: sqlite3.Connection, table: ExportedTable, path: Path) -> None:
    """One Parquet file, a row group per PARQUET_BATCH rows; the same rows
    give the same bytes."""
    schema = arrow_schema(table)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _batches(_ordered(conn, table), schema, [type_ for _, type_ in table.columns]):
            writer.write_batch(batch)


def _write_features(conn: sqlite3.Connection, view: str, properties: list[str], path: Path) -> None:
    """A FeatureCollection written a feature at a time, each checked by the
    geojson package as it is made, so a large import never sits in memory."""
    columns = ", ".join(f"[{name}]" for name in properties)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type": "FeatureCollection", "features": [')
        separator = "\n"
        for row in conn.execute(f"SELECT geometry, {columns} FROM [{view}] WHERE geometry IS NOT NULL ORDER BY id"):
            feature = geojson.Feature(
                id=row[1], geometry=geojson.loads(row[0]), properties=dict(zip(properties, row[1:], strict=True))
            )
            if not feature.is_valid:
                raise ValueError(f"{view} {row[1]}: invalid GeoJSON: {feature.errors()}")
            f.write(separator + json.dumps(feature, ensure_ascii=False))
            separator = ",\n"
        f.write("\n]}\n")


GEOJSON_LAYERS = {
    "events.geojson": (
        "event_list",
        ["id", "title", "date_label", "start_date", "end_date", "event_type", "status", "place_id", "place_name"],
    ),
    "places.geojson": ("place_list", ["id", "name", "kind", "country_code", "geo_precision", "events"]),
}


def write_geojson(conn: sqlite3.Connection, directory: Path) -> list[str]:
    """Events and places that have coordinates, as GeoJSON FeatureCollections (RFC 7946)."""
    for name, (view, properties) in GEOJSON_LAYERS.items():
        _write_features(conn, view, properties, directory / name)
    return list(GEOJSON_LAYERS)


DUCKDB_SCRIPT = "load-duckdb.sql"


def write_duckdb_script(tables: list[ExportedTable], directory: Path) -> Path:
    """The recipe for moving to DuckDB, as a script beside the Parquet files it reads:
    `duckdb events.duckdb < load-duckdb.sql`, run in the release's directory."""
    lines = [
        "-- Load this release into DuckDB from its Parquet files, with SQLite's column types.",
        "-- Run in the release's directory: duckdb events.duckdb < load-duckdb.sql",
        *(f"CREATE TABLE {t.name} AS SELECT * FROM read_parquet('parquet/{t.name}.parquet');" for t in tables),
    ]
    path = directory / DUCKDB_SCRIPT
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PARTITIONED = "partitioned"
YEAR = "CAST(substr(start_date, 1, 4) AS INTEGER)"
EVENT_YEAR = f"(SELECT {YEAR} FROM events WHERE id = event_id)"
EVENT_POINT = (
    "(SELECT longitude FROM places WHERE id = place_id)",
    "(SELECT latitude FROM places WHERE id = place_id)",
)
# Each table of the partitioned dataset: the year its rows belong to (the
# event's start), so that engines reading a Hive layout (DuckDB, Spark,
# BigQuery) skip the years a question leaves out without opening their
# files; and the point it stands at, as GeoParquet geometry. The places have
# no year and are one file.
DATASET = {
    "events": (YEAR, EVENT_POINT),
    "event_actors": (EVENT_YEAR, None),
    "event_documents": (EVENT_YEAR, None),
    "places": (None, ("longitude", "latitude")),
}
GEOPARQUET_VERSION = "1.1.0"


def wkb_point(longitude: float | None, latitude: float | None) -> bytes | None:
    """A point as ISO WKB, little-endian (byte order 1, type 1, x then y), the
    encoding GeoParquet asks for; packed here because it is 21 bytes and the
    release needs no geometry library for it."""
    return None if longitude is None or latitude is None else struct.pack("<BIdd", 1, 1, longitude, latitude)


def geo_metadata() -> str:
    """GeoParquet's file metadata (the `geo` key): one column of WKB points in
    longitude and latitude on WGS 84, the spec's default CRS (OGC:CRS84),
    which is therefore left unsaid."""
    column = {"encoding": "WKB", "geometry_types": ["Point"]}
    return json.dumps({"version": GEOPARQUET_VERSION, "primary_column": "geometry", "columns": {"geometry": column}})


def _dataset_rows(
    conn: sqlite3.Connection, table: ExportedTable, year: str | None, point: tuple[str, str] | None
) -> Iterator[tuple]:
    """The table's rows by year, then primary key, each with its year first and its point last, as WKB."""
    n = len(table.columns) + 1
    columns = ", ".join([year or "NULL", *(f"[{name}]" for name, _ in table.columns), *(point or ())])
    order = ", ".join(["1"] * bool(year) + [f"[{c}]" for c in table.primary_key])
    for row in conn.execute(f"SELECT {columns} FROM [{table.name}] ORDER BY {order}"):
        yield (*row[:n], wkb_point(row[n], row[n + 1])) if point else row


def write_partitioned(conn: sqlite3.Connection, directory: Path) -> list[Path]:
    """The event tables as Parquet partitioned by year in the Hive layout
    (events/year=2025/part-0.parquet), and the places beside them
    (places/part-0.parquet), the events and places with their points as
    GeoParquet geometry: what DuckDB, Spark and BigQuery read as a dataset as
    it is. The rows come in order of year, and each year's are written as
    they are read, so that a large import never sits in memory and the same
    rows give the same files. (pyarrow's write_dataset would split the years
    itself, but reads the rows on a thread of its own, where this connection
    cannot go.)"""
    for name, (year, point) in DATASET.items():
        table = describe(conn, name)
        schema = arrow_schema(table)
        types = [type_ for _, type_ in table.columns]
        if point:
            schema = schema.append(pa.field("geometry", pa.binary())).with_metadata({"geo": geo_metadata()})
            types.append("BLOB")
        for value, rows in itertools.groupby(_dataset_rows(conn, table, year, point), key=lambda row: row[0]):
            folder = directory / name / (f"year={value}" if year else "")
            folder.mkdir(parents=True)
            with pq.ParquetWriter(folder / "part-0.parquet", schema, compression="zstd") as writer:
                for batch in _batches((row[1:] for row in rows), schema, types):
                    writer.write_batch(batch)
    return sorted(directory.rglob("*.parquet"))
