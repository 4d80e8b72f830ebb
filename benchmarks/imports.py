"""The bulk import three ways, each in a child process measured as a whole:
(a) the limit, the final rows written by sqlite3's executemany in one
transaction; (b) the peer, the sqlite-utils CLI; (c) the project's own
`build --import`. See benchmarks/run.py for how a run goes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlite_utils

from benchmarks.generate import generate
from benchmarks.proc import high_water, resident, tree_files
from loader import PROJECT_ROOT
from loader.build.database import WRITE_PRAGMAS, integrity_check
from loader.build.facet_counts import count_facets
from loader.build.map_cells import cluster_places
from loader.files import connect_readonly
from loader.schema import read_schema

FIXTURE_SOURCES = PROJECT_ROOT / "tests" / "fixtures" / "valid"

TARGETS = {
    "c_over_a": 0.8,  # issue 14: at least 80% of the limit's speed
    "c_over_b": 3.0,
    "rss_mb": 200,
}


@dataclass
class Run:
    """One child process: how long it took and what it used."""

    wall: float
    cpu: float
    rss_mb: float
    phases: dict[str, float] = field(default_factory=dict)
    steps: dict[str, tuple[float, float]] = field(
        default_factory=dict
    )  # step: (wall s, CPU s), as the build timed them
    tree_rss_mb: float = 0.0  # all its processes together, at the sampled peak
    load: float = field(default_factory=lambda: os.getloadavg()[0])  # 1-minute load average when it ended


def measured(command: list[str], cwd: Path = PROJECT_ROOT) -> tuple[Run, str]:
    """Run a command; return its wall time, CPU time, the peak RSS of its
    largest process (each process's own VmHWM, sampled every 50 ms; not
    wait4's ru_maxrss, which holds this process's peak too: see
    proc.high_water) and the peak RSS of all its processes together
    (sampled likewise), and what it printed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        peak = 0.0
        high_waters: dict[int, int] = {}
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            statuses = dict(tree_files(process.pid, "status"))  # one walk of /proc a sample
            peak = max(peak, sum(resident(text) for text in statuses.values()) / 1024**2)
            for each, text in statuses.items():  # a zombie's reads 0: keep the largest seen
                high_waters[each] = max(high_waters.get(each, 0), high_water(text))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise click.ClickException(f"{' '.join(command)} failed:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        stdout = out.read().decode()
    largest = max(high_waters.values(), default=0) / 1024**2
    return Run(wall, usage.ru_utime + usage.ru_stime, largest, tree_rss_mb=max(peak, largest)), stdout


def count_rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in read_schema().tables}
    finally:
        conn.close()


def project_import(acled_file: Path, work: Path) -> tuple[Run, Path]:
    """(c): the project's own command, end to end, into work/events.db."""
    target = work / "events.db"
    for stale in work.glob("events.db*"):
        stale.unlink()
    run, stdout = measured(
        [
            sys.executable,
            "-m",
            "loader",
            "build",
            "--sources",
            str(FIXTURE_SOURCES),
            "--db",
            str(target),
            "--import",
            str(acled_file),
            "--timings",
        ]
    )
    for match in re.finditer(r"^timing: (.+): ([0-9.]+) s, CPU ([0-9.]+) s$", stdout, re.MULTILINE):
        run.steps[match[1]] = (float(match[2]), float(match[3]))
    return run, target


def limit_child(source: Path, target: Path, how: str) -> None:
    """(a), inside its own process: load the final rows into memory (not
    timed), then time writing them in one transaction, with sqlite3's
    executemany or sqlite-utils' insert_all, and the after-load SQL; print
    the phases as JSON."""
    schema = read_schema()
    conn = sqlite3.connect(source)
    rows = {}
    for table in schema.tables:
        cursor = conn.execute(f"SELECT * FROM [{table}] ORDER BY rowid")
        rows[table] = ([d[0] for d in cursor.description], cursor.fetchall())
    conn.close()
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target, isolation_level=None)
    for pragma in WRITE_PRAGMAS:  # the same settings as the build's
        conn.execute(pragma)
    conn.executescript(schema.tables_sql)
    wall, cpu = time.perf_counter(), time.process_time()
    if how == "executemany":
        conn.execute("BEGIN")
        for table, (columns, values) in rows.items():
            conn.executemany(
                f"INSERT INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values
            )
        conn.execute("COMMIT")
    else:
        db = sqlite_utils.Database(conn)
        with db.atomic():
            for table, (columns, values) in rows.items():
                db.table(table).insert_all([columns, *values], batch_size=10_000)
    insert = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    conn.executescript(schema.after_load_sql)
    after = (time.perf_counter() - wall, time.process_time() - cpu)
    conn.close()
    print(json.dumps({"insert": insert, "after_load": after}))


def limit(source: Path, work: Path, how: str = "executemany") -> Run:
    run, stdout = measured(
        [sys.executable, "-m", "benchmarks.run", "limit-child", str(source), str(work / "limit.db"), how]
    )
    phases = json.loads(stdout)
    # The child's own clock, without the untimed loading of the rows into memory.
    run.wall = phases["insert"][0] + phases["after_load"][0]
    run.cpu = phases["insert"][1] + phases["after_load"][1]
    run.phases = {"insert": phases["insert"][0], "after-load": phases["after_load"][0]}
    return run


def export_ndjson(source: Path, directory: Path) -> dict[str, Path]:
    """The final rows as one NDJSON file a table, the form a user would load with sqlite-utils."""
    directory.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(source)
    files = {}
    for table in read_schema().tables:
        cursor = conn.execute(f"SELECT * FROM [{table}] ORDER BY rowid")
        columns = [d[0] for d in cursor.description]
        path = directory / f"{table}.ndjson"
        with open(path, "w", encoding="utf-8") as f:
            for row in cursor:
                f.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) + "\n")
        files[table] = path
    conn.close()
    return files


def peer(files: dict[str, Path], work: Path) -> Run:
    """(b): the sqlite-utils CLI, one `insert --nl` a table, into schema.sql's
    tables, then the same after-load SQL (sqlite-utils has no command to run a
    script, so a one-line Python child runs it)."""
    target = work / "peer.db"
    target.unlink(missing_ok=True)
    schema = read_schema()
    conn = sqlite3.connect(target)
    conn.executescript(schema.tables_sql)
    conn.close()
    cli = str(Path(sys.executable).with_name("sqlite-utils"))
    total = Run(0.0, 0.0, 0.0)
    for table, path in files.items():
        if path.stat().st_size == 0:
            continue
        run, _ = measured([cli, "insert", str(target), table, str(path), "--nl"])
        total.wall += run.wall
        total.cpu += run.cpu
        total.rss_mb = max(total.rss_mb, run.rss_mb)
        total.tree_rss_mb = max(total.tree_rss_mb, run.tree_rss_mb)
    total.phases["insert"] = total.wall
    script = "import sqlite3, sys; from loader.schema import read_schema; sqlite3.connect(sys.argv[1]).executescript(read_schema().after_load_sql)"
    run, _ = measured([sys.executable, "-c", script, str(target)])
    total.phases["after-load"] = run.wall
    total.wall += run.wall
    total.cpu += run.cpu
    total.rss_mb = max(total.rss_mb, run.rss_mb)
    total.tree_rss_mb = max(total.tree_rss_mb, run.tree_rss_mb)
    total.load = run.load
    return total


@dataclass
class Scale:
    rows: int
    file_mb: float
    counts: dict[str, int]
    limit: Run | None  # None above the run's --compare-up-to: (a), (a′) and (b) were not run
    insert_all: Run | None
    peer: Run | None
    project: Run
    reading_steps: dict[str, float] = field(default_factory=dict)  # step: wall s, re-timed on the built database
    integrity_s: float = 0.0  # the full integrity check, re-timed on the built database
    quick_check_s: float = 0.0  # SQLite's quick check, re-timed on the built database

    def events_per_s(self, run: Run, clock: str = "wall") -> float:
        return self.counts["events"] / getattr(run, clock)

    def rows_per_s(self, run: Run) -> float:
        return sum(self.counts.values()) / run.wall

    def ratio(self, other: Run, clock: str = "wall") -> float:
        return getattr(other, clock) / getattr(self.project, clock)


def measure_scale(rows: int, work: Path, compare: bool = True) -> Scale:
    """(c) at this size, and, when `compare`, (a), (a′) and (b) from the same rows."""
    work.mkdir(parents=True, exist_ok=True)
    acled_file = work / f"acled-{rows}.csv"
    if not acled_file.exists():
        generate(acled_file, rows)
    project, db = project_import(acled_file, work)
    counts = count_rows(db)
    limit_run = insert_all_run = peer_run = None
    if compare:
        limit_run = limit(db, work)
        insert_all_run = limit(db, work, "insert_all")
        files = export_ndjson(db, work / f"ndjson-{rows}")
        peer_run = peer(files, work)
        shutil.rmtree(work / f"ndjson-{rows}")
        for scratch in ("limit.db", "peer.db"):
            (work / scratch).unlink(missing_ok=True)
    _, stdout = measured([sys.executable, "-m", "benchmarks.run", "reading-steps-child", str(db)])
    steps = json.loads(stdout)
    return Scale(
        rows,
        acled_file.stat().st_size / 1e6,
        counts,
        limit_run,
        insert_all_run,
        peer_run,
        project,
        steps["reading"],
        steps["integrity"],
        steps["quick_check"],
    )


def read_through(path: Path) -> None:
    """Read a file once, so that a step re-timed on it finds it in the OS's
    cache, as the build's own steps find the file they have just written: by
    the time of a re-timing the kernel may have dropped it, and the step
    would then be timed waiting for the disk."""
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass


def reading_steps_child(db_path: Path) -> None:
    """Time, on a built database and in a transaction that is rolled back, the
    build's steps for reading at scale (part of (c)'s time), and the full
    integrity check on a read-only connection, as the build runs it, and
    SQLite's quick check, which skips matching each index against its table;
    print them as JSON."""
    db = sqlite_utils.Database(db_path)
    timings = {}
    for step, table, function in (
        ("facet counts", "facet_counts", count_facets),
        ("map cells", "map_cells", cluster_places),
    ):
        read_through(db_path)
        db.execute("BEGIN")
        db.execute(f"DELETE FROM {table}")
        start = time.perf_counter()
        function(db)
        timings[step] = time.perf_counter() - start
        db.conn.rollback()
    db.close()
    read_through(db_path)
    start = time.perf_counter()
    integrity_check(db_path)
    integrity = time.perf_counter() - start
    conn = connect_readonly(db_path)
    start = time.perf_counter()
    conn.execute("PRAGMA quick_check").fetchall()
    quick = time.perf_counter() - start
    conn.close()
    print(json.dumps({"reading": timings, "integrity": integrity, "quick_check": quick}))
