"""The release's partitioned Parquet read by the engines that take over beyond
one machine: DuckDB, and Spark (pyspark in local mode, on Debian's Java
runtime), each asked the same three questions as SQLite, with its answers
compared and its time taken. The files are written from the benchmark's
database by the release's own code, so they are the release's files."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loader.release.exports import write_partitioned

# Each question as SQLite asks it of the database, and as DuckDB and Spark
# ask it of the dataset's `events` (every year's files read as one table,
# `year` from the folders' names).
QUESTIONS = {
    "events by year": (
        "SELECT CAST(substr(start_date, 1, 4) AS INTEGER) AS year, count(*) FROM events GROUP BY 1 ORDER BY 1",
        "SELECT year, count(*) FROM events GROUP BY 1 ORDER BY 1",
    ),
    "events by type": (
        "SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 1",
        "SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 1",
    ),
    "events per place": (
        "SELECT place_id, count(*) FROM events WHERE place_id IS NOT NULL GROUP BY 1 ORDER BY 1",
        "SELECT place_id, count(*) FROM events WHERE place_id IS NOT NULL GROUP BY 1 ORDER BY 1",
    ),
}
Answers = dict[str, list[tuple]]


@dataclass(frozen=True)
class Engine:
    """One engine's run: opening it (and the dataset), then the three questions."""

    start_s: float
    questions_s: float
    same_answers: bool | None  # None for SQLite, whose answers the others' are compared with


@dataclass
class Engines:
    rows: int
    write_s: float  # writing the partitioned Parquet from the database
    mb: float  # its size on disk
    files: int
    engines: dict[str, Engine] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # engine: why it was not run


def _timed(open_engine: Callable[[], Callable[[str], list[tuple]]], form: int = 1) -> tuple[float, float, Answers]:
    """Seconds to open the engine, seconds to answer the questions (in QUESTIONS' form 0 for SQLite,
    1 for the dataset), and the answers."""
    start = time.perf_counter()
    ask = open_engine()
    opened = time.perf_counter()
    answers = {name: ask(forms[form]) for name, forms in QUESTIONS.items()}
    return opened - start, time.perf_counter() - opened, answers


def sqlite_answers(db: Path) -> tuple[float, float, Answers]:
    def open_sqlite() -> Callable[[str], list[tuple]]:
        conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
        return lambda sql: conn.execute(sql).fetchall()

    return _timed(open_sqlite, 0)


def duckdb_answers(dataset: Path) -> tuple[float, float, Answers]:
    import duckdb

    def open_duckdb() -> Callable[[str], list[tuple]]:
        conn = duckdb.connect()
        conn.read_parquet(str(dataset / "events" / "*" / "*.parquet"), hive_partitioning=True).create_view("events")
        return lambda sql: conn.execute(sql).fetchall()

    return _timed(open_duckdb)


def spark_answers(dataset: Path) -> tuple[float, float, Answers]:
    """Spark in local mode on all the machine's cores; opening it starts the
    JVM, which is most of a small run's time and so is timed apart."""
    from pyspark.sql import SparkSession

    session: list[SparkSession] = []

    def open_spark() -> Callable[[str], list[tuple]]:
        spark = (
            SparkSession.builder.master("local[*]")
            .appName("event-store benchmark")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        session.append(spark)
        spark.read.parquet(str(dataset / "events")).createOrReplaceTempView("events")
        return lambda sql: [tuple(row) for row in spark.sql(sql).collect()]

    try:
        return _timed(open_spark)
    finally:
        for spark in session:
            spark.stop()


def spark_missing() -> str:
    """Why Spark cannot run here, or '' when it can."""
    if shutil.which("java") is None:
        return "no Java runtime (make java-runtime installs Debian's default-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    return ""


def measure_engines(db: Path, work: Path) -> Engines:
    """Write db's partitioned Parquet into work, then ask each engine the questions."""
    dataset = work / "partitioned"
    shutil.rmtree(dataset, ignore_errors=True)
    conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True)
    try:
        start = time.perf_counter()
        files = write_partitioned(conn, dataset)
        write_s = time.perf_counter() - start
        rows = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    result = Engines(rows, write_s, sum(f.stat().st_size for f in files) / 1e6, len(files))
    opened, asked, expected = sqlite_answers(db)
    result.engines["SQLite (events.db)"] = Engine(opened, asked, None)
    runs = {"DuckDB": duckdb_answers, "Spark (pyspark, local mode)": spark_answers}
    missing = {"Spark (pyspark, local mode)": spark_missing()}
    for name, answers in runs.items():
        if missing.get(name):
            result.missing[name] = missing[name]
            continue
        opened, asked, got = answers(dataset)
        result.engines[name] = Engine(opened, asked, got == expected)
    shutil.rmtree(dataset)
    return result
