"""Measure the bulk import against raw SQLite and sqlite-utils, and the site
at scale, in one run on one machine, and write docs/performance.md.

For each N, three ways of producing the same database from the same rows:

(a) the limit: the final rows (read back from (c)'s database beforehand, so
    they are exactly the same) already in memory, inserted with sqlite3's
    executemany in one transaction, then schema.sql's after-load part
    (indexes, full-text indexes), all in one child process;
(b) the peer: what a user would do by hand, the sqlite-utils CLI inserting
    the same rows from NDJSON files into schema.sql's tables, then the same
    after-load part;
(c) the project: `python -m loader build --import FILE` from the ACLED file,
    end to end: parse, validate, map, deduplicate, write, indexes,
    full-text indexes, foreign key and integrity checks, atomic rename.

Each runs in a child process so its peak memory is its own. Wall-clock time
is the headline; CPU time is reported beside it because other work on the
machine (a shared two-core box) slows wall-clock time unevenly.

Then the largest database is served with `python -m loader serve` and the
pages a user opens are timed.

    python -m benchmarks.run                    # N = 100,000 and 1,000,000
    python -m benchmarks.run --rows 2000 --no-site --out /tmp/perf.md
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

import click
import sqlite_utils

from benchmarks.generate import generate
from benchmarks.options import path_option
from benchmarks.proc import cpu_of_tree, rss_of_tree
from loader import PROJECT_ROOT
from loader.build import WRITE_PRAGMAS, integrity_check
from loader.facet_counts import count_facets
from loader.map_cells import cluster_places
from loader.schema import read_schema
from loader.serve import SETTINGS, datasette_options
from tests.support.generated import overview_links
from tests.support.site_helpers import CHROMIUM, free_port, launch

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
    largest process (from wait4) and the peak RSS of all its processes
    together (sampled every 50 ms), and what it printed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, rss_of_tree(process.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise click.ClickException(f"{' '.join(command)} failed:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        stdout = out.read().decode()
    largest = usage.ru_maxrss / 1024
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
    limit: Run
    insert_all: Run
    peer: Run
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


def measure_scale(rows: int, work: Path) -> Scale:
    work.mkdir(parents=True, exist_ok=True)
    acled_file = work / f"acled-{rows}.csv"
    if not acled_file.exists():
        generate(acled_file, rows)
    project, db = project_import(acled_file, work)
    counts = count_rows(db)
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
    conn = sqlite3.connect(f"{db_path.absolute().as_uri()}?mode=ro", uri=True)
    start = time.perf_counter()
    conn.execute("PRAGMA quick_check").fetchall()
    quick = time.perf_counter() - start
    conn.close()
    print(json.dumps({"reading": timings, "integrity": integrity, "quick_check": quick}))


def pages(db: Path, squares: dict[str, str]) -> dict[str, str]:
    """The pages a user opens, as Datasette's own URLs. Searches look for a
    place and an actor of middling frequency (the 100th and 1,000th most
    common), as a user looking into one village or one group would; the facet
    clicks are the most common type, place and actor, the largest pages a
    click can give, and the busiest place whose click the build does not
    count, the largest page a click leaves to Datasette; squares are the
    links of the overview's busiest squares (busiest_squares)."""
    queries = {
        "place": "SELECT p.name FROM places p JOIN events e ON e.place_id = p.id GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1 OFFSET 99",
        "actor": "SELECT a.name FROM actors a JOIN event_actors ea ON ea.actor_id = a.id GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1 OFFSET 999",
        "event_type": "SELECT event_type FROM events GROUP BY event_type ORDER BY count(*) DESC, event_type LIMIT 1",
        "event": "SELECT id FROM events ORDER BY start_date DESC, id LIMIT 1 OFFSET 500",
        "top_place": "SELECT place_id FROM events WHERE place_id IS NOT NULL GROUP BY place_id ORDER BY count(*) DESC, place_id LIMIT 1",
        "live_place": "SELECT place_id FROM events WHERE place_id NOT IN (SELECT filter_value FROM facet_counts "
        "WHERE source = 'event_list' AND filter_facet = 'place_id') GROUP BY place_id ORDER BY count(*) DESC, place_id LIMIT 1",
        "top_actor": "SELECT a.name FROM actors a JOIN event_actors ea ON ea.actor_id = a.id GROUP BY a.id ORDER BY count(DISTINCT ea.event_id) DESC, a.id LIMIT 1",
    }
    conn = sqlite3.connect(db)
    try:
        values = {name: quote_plus(conn.execute(sql).fetchone()[0]) for name, sql in queries.items()}
    finally:
        conn.close()
    return {
        "events table page": "/events/events?_nofacet=1",
        "events with the default facets": "/events/events",
        # Datasette computes a table's default facets on every page that
        # asks for one more, so the date facet's own cost is timed by running
        # the SQL its DateFacet runs through the site's SQL endpoint.
        "date facet (the SQL Datasette's date facet runs)": "/events.json?sql="
        + quote_plus(
            "select date(start_date) as value, count(*) as count from (select * from events)"
            " where date(start_date) is not null group by date(start_date) order by count desc, value limit 31"
        ),
        "full-text search": f"/events/events?_nofacet=1&_search={values['place']}",
        "alias-aware search (canned query actor_events)": f"/events/actor_events?actor={values['actor']}",
        "filtered and sorted": "/events/events?_nofacet=1&event_type=acled-air-drone-strike&fatalities__gt=2&_sort_desc=start_date",
        # Exactly what datasette-cluster-map's script asks for (its query string, verbatim).
        "one page of map JSON (event_list, as datasette-cluster-map asks)": "/events/event_list.json?_size=max&_labels=on&_extra=count&_extra=next_url&_shape=objects",
        **reader_pages(values, squares),
    }


ACTOR_CLICK = "reader: a facet click (event list, most common actor)"
OVERVIEW_SQUARE = "reader: an overview square (event list, the busiest actor's busiest period)"
OVERVIEW_TYPE = "reader: an overview square (event list, the busiest type's busiest period)"
OVERVIEW_PLACE = "reader: an overview square (event list, the busiest place's busiest period)"
OVERVIEW_BAR = "reader: the overview's bar (event list, all events of the busiest period)"
# Each of those pages by the filter that names its chart's rows ('' for the bar).
OVERVIEW_PAGES = {
    "actor_ids__arraycontains": OVERVIEW_SQUARE,
    "event_type": OVERVIEW_TYPE,
    "place_id": OVERVIEW_PLACE,
    "": OVERVIEW_BAR,
}


def reader_pages(values: dict[str, str], squares: dict[str, str]) -> dict[str, str]:
    """Every page a reader reaches from the home page, whole, as a browser
    asks for it; `values` are the query string's values, quoted, and
    `squares` the overview's busiest links (busiest_squares)."""
    return {
        "reader: home": "/",
        "reader: database": "/events",
        "reader: event list (map, all its facets)": "/events/event_list",
        "reader: events table with its facets": "/events/events",
        "reader: a facet click (event list, most common type)": f"/events/event_list?event_type={values['event_type']}",
        "reader: a facet click (events table, most common type)": f"/events/events?event_type={values['event_type']}",
        "reader: a facet click (event list, most common place)": f"/events/event_list?place_id={values['top_place']}",
        ACTOR_CLICK: f"/events/event_list?actor_names__arraycontains={values['top_actor']}",
        "reader: a facet click counted live (event list, the busiest place the build leaves to Datasette)": f"/events/event_list?place_id={values['live_place']}",
        **{OVERVIEW_PAGES[chart]: link for chart, link in squares.items()},
        "reader: search the event list": f"/events/event_list?_search={values['place']}",
        "reader: timeline": "/-/timeline",
        "reader: an event's page": f"/events/events/{values['event']}",
        "reader: places": "/events/place_list",
        "reader: actors": "/events/actors",
        "reader: disputes": "/events/disputed_claims",
        "reader: the disputes page": "/events/disputes_by_question",
        "reader: overview": "/-/overview",
        "map: the whole map's clusters (server)": "/-/map/events.json",
        "map: one view's clusters (server)": "/-/map/events.json?zoom=6&bbox=33,30,45,39",
    }


PAGE_TARGETS_MS = {
    "events table page": 300,
    "events with the default facets": 300,
    "date facet (the SQL Datasette's date facet runs)": 300,
    "full-text search": 100,
    "alias-aware search (canned query actor_events)": 100,
    "filtered and sorted": 300,
    "one page of map JSON (event_list, as datasette-cluster-map asks)": 200,
    "map: the whole map's clusters (server)": 100,
    "map: one view's clusters (server)": 100,
}
# Issue 14's targets for every page a reader reaches from the home page, at 1M events.
READER_P50_MS, READER_P95_MS = 150, 300
# The map's first view drawn in Chromium.
MAP_TARGET_MS = 1000
# Datasette's own full-table CSV, and plugins/csv_export.py's of a table and of a view.
DATASETTES_CSV = "Datasette's CSV stream"
CSV_URLS = {
    DATASETTES_CSV: "/events/events.csv?_stream=on&_size=max",
    "plugins/csv_export.py": "/-/csv/events/events.csv",
    "plugins/csv_export.py, a view with names (event_list)": "/-/csv/events/event_list.csv",
}
# plugins/response_cache.py keeps no answer to a request that carries a cookie,
# so each timed request is computed, as a reader's first visit is.
UNCACHED = {"cookie": "benchmark=uncached"}
CSV_TARGET_MB_S = 40  # issue 14: CSV of any view at 40 MB/s or more


@dataclass(frozen=True)
class Download:
    """A whole CSV download, and the cores the server's processes and the
    client (this process, reading it) kept busy on average while it ran."""

    mb: float
    mb_s: float
    server_cores: float
    client_cores: float


@dataclass(frozen=True)
class Parts:
    """Where a page's time goes, from Datasette's own trace of it."""

    total_ms: float
    sql_ms: float  # the queries' time, counted once where they ran at once
    queries: int
    slowest_ms: float
    slowest_sql: str

    @property
    def python_ms(self) -> float:
        return self.total_ms - self.sql_ms


def traced_parts(db: Path, urls: dict[str, str], rounds: int = 5) -> dict[str, Parts]:
    """Each page asked for in this process under Datasette's own tracer (what
    its `_trace=1` shows, taken here without its trace_debug setting, which
    the served site never has), the round of median time of `rounds`, each
    page warmed up first: its queries' time, and the rest, which is Python
    (Datasette making the rows' cells, the template)."""
    from datasette.app import Datasette
    from datasette.tracer import capture_traces

    datasette = Datasette(**datasette_options(db))
    cookies = dict([UNCACHED["cookie"].split("=")])

    async def traced(url: str) -> Parts:
        queries: list[dict] = []
        start = time.perf_counter()
        with capture_traces(queries):
            await datasette.client.get(url, cookies=cookies)
        total_ms = (time.perf_counter() - start) * 1000
        queries.sort(key=lambda query: query["start"])
        sql_s, reach = 0.0, float("-inf")
        for query in queries:  # the union of the queries' spans: facets run at once
            sql_s += max(0.0, query["end"] - max(query["start"], reach))
            reach = max(reach, query["end"])
        slowest = max(queries, key=lambda query: query["duration_ms"], default=None)
        sql = " ".join(str(slowest["sql"]).split()) if slowest else ""
        sql = re.sub(r"\bselect\s+(?:(?!\bfrom\b).){40,}?\bfrom\b", "select … from", sql, flags=re.I)
        return Parts(total_ms, sql_s * 1000, len(queries), slowest["duration_ms"] if slowest else 0.0, sql)

    async def measure() -> dict[str, Parts]:
        await datasette.invoke_startup()
        for url in urls.values():  # warm every page first: templates, connections, caches
            await traced(url)
        measured = {}
        for name, url in urls.items():
            timed = sorted([await traced(url) for _ in range(rounds)], key=lambda parts: parts.total_ms)
            measured[name] = timed[len(timed) // 2]
        return measured

    return asyncio.run(measure())


@dataclass
class Site:
    rows: int
    urls: dict[str, str]
    pages: dict[str, tuple[float, float, int]]  # name: (p50 ms, p95 ms, status)
    csv: dict[str, Download]  # name: the better of two downloads
    start_s: float
    map_draw: tuple[str, float, float, float] | None = None  # (which map, p50 ms, slowest ms, page parsed p50 ms)
    rss_mb: float = 0.0  # the serving process, after every page
    reconciliation: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # name: the facets that timed out on its page
    parts: dict[str, Parts] = field(default_factory=dict)  # name: where a missed page's time goes


def busiest_squares(overview: str) -> dict[str, str]:
    """The link of the overview page's square of most events in each chart,
    by the filter that names the chart's rows, and of its busiest bar ('')."""
    return {chart: max(links, key=lambda link: link[1])[0] for chart, links in overview_links(overview).items()}


def map_first_draw(base: str, rounds: int = 5) -> tuple[str, float, float, float] | None:
    """Time from navigating to the event list to its map's first markers, in
    Debian's Chromium: the server's clusters (plugins/server_map.py) when the
    site uses them, else datasette-cluster-map's first markers. Each round is
    a new browser context, with nothing cached, as a first visit is; a first
    round, untimed, starts Chromium itself and reaches the server's workers."""
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    times, parsed, which = [], [], ""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for round in range(rounds + 1):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{base}/events/event_list", wait_until="commit")
                page.wait_for_selector("#server-map[data-first-draw-ms], .leaflet-marker-icon", timeout=120_000)
                drawn = (
                    page.get_attribute("#server-map", "data-first-draw-ms")
                    if page.query_selector("#server-map")
                    else None
                )
                which = "server clusters" if drawn else "datasette-cluster-map"
                if round:
                    times.append(float(drawn) if drawn else page.evaluate("performance.now()"))
                    parsed.append(page.evaluate("performance.getEntriesByType('navigation')[0].domInteractive"))
                page.close()
        finally:
            browser.close()
    return which, statistics.median(times), max(times), statistics.median(parsed)


def reconciliation_counts(db: Path) -> dict[str, int]:
    """What the build's reconciliation did: rows of the report by kind and how,
    and the imported places and actors left as they came."""
    conn = sqlite3.connect(db)
    try:
        counts = {
            f"{kind}s {how}": n
            for kind, how, n in conn.execute(
                "SELECT kind, how, count(*) FROM reconciliation GROUP BY kind, how ORDER BY kind, how"
            )
        }
        for table in ("places", "actors"):
            counts[f"imported {table} kept as imported"] = conn.execute(
                f"SELECT count(*) FROM {table} WHERE id LIKE 'acled-%'"
            ).fetchone()[0]
    finally:
        conn.close()
    return counts


def measure_site(db: Path, rounds: int = 15) -> Site:
    """Serve db with `python -m loader serve` and time each page `rounds` times."""
    import httpx

    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loader",
            "serve",
            "--db",
            str(db),
            "--sources",
            str(FIXTURE_SOURCES),
            "--port",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            while True:
                try:
                    client.get("/-/versions.json")
                    break
                except httpx.TransportError:
                    if process.poll() is not None:
                        raise click.ClickException(
                            f"serve exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
                        ) from None
                    time.sleep(0.2)
            started = time.perf_counter() - start
            urls = pages(db, busiest_squares(client.get("/-/overview", headers=UNCACHED).text))
            timings, dropped = {}, {}
            for name, url in urls.items():
                client.get(url, headers=UNCACHED)  # warm the OS cache and Datasette's connections
                times, status = [], 0
                for _ in range(rounds):
                    t = time.perf_counter()
                    response = client.get(url, headers=UNCACHED)
                    times.append((time.perf_counter() - t) * 1000)
                    status = response.status_code
                times.sort()
                timings[name] = (statistics.median(times), times[max(0, int(len(times) * 0.95 + 0.5) - 1)], status)
                dropped[name] = ", ".join(
                    re.findall(r'class="facets-timed-out">These facets timed out: ([^<]*)<', response.text)
                )
            csv_rates = {}
            for name, url in CSV_URLS.items():
                downloads = []
                for _ in range(2):
                    t, server, client_cpu = time.perf_counter(), cpu_of_tree(process.pid), time.process_time()
                    size = 0
                    with client.stream("GET", url) as response:
                        for chunk in response.iter_bytes():
                            size += len(chunk)
                    wall = time.perf_counter() - t
                    downloads.append(
                        Download(
                            size / 1e6,
                            size / 1e6 / wall,
                            (cpu_of_tree(process.pid) - server) / wall,
                            (time.process_time() - client_cpu) / wall,
                        )
                    )
                csv_rates[name] = max(downloads, key=lambda download: download.mb_s)
            rss = rss_of_tree(process.pid)
            drawn = map_first_draw(base)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return Site(
        count_rows(db)["events"],
        urls,
        timings,
        csv_rates,
        started,
        drawn,
        rss,
        reconciliation_counts(db),
        dropped,
        traced_parts(db, {name: urls[name] for name in missed_pages(timings, dropped)}),
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(
    scales: list[Scale], sites: list[Site], load: tuple[str, str], speed: tuple[str, str], seconds: float
) -> str:
    lines = [
        "# Performance",
        "",
        "Written by `make benchmark` (`python -m benchmarks.run`); every figure below comes",
        "from one run on one machine, and nothing here is edited by hand.",
        "",
        f"- Machine: {machine()}",
        f"- Load average before and after the run: {load[0]} / {load[1]} (other work on a shared",
        "  machine slows wall-clock times; CPU times are given beside them for that reason)",
        "- The machine's speed before and after the run, the same work each time (ten million additions",
        f"  in Python; SQLite counting five million rows): {speed[0]} / {speed[1]} (a shared machine's",
        "  speed varies from run to run: compare reports by these figures)",
        f"- Whole run: {seconds / 60:.1f} minutes",
        "",
        "## Bulk import: the same rows three ways",
        "",
        "(a) the limit: sqlite3 `executemany` of the final rows, already in memory, one",
        "transaction, then schema.sql's indexes and full-text indexes. (b) the peer: the",
        "`sqlite-utils insert --nl` CLI loading the same rows from NDJSON, one command a",
        "table, then the same indexes. (c) this project: `python -m loader build --import",
        "FILE` from the ACLED-format CSV, end to end (parse, validate, map, deduplicate,",
        "write, indexes, full-text indexes, foreign key and integrity checks, atomic",
        "rename). Rates are events a second over the whole time; rows/s counts every row",
        "of every table. (a′) is (a) with sqlite-utils' `insert_all` (given tuples, in one",
        "transaction) in place of `executemany`: the reason the import writes with `executemany`.",
        "",
    ]
    for s in scales:
        counts = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in s.counts.items() if n)
        lines += [
            f"### N = {s.rows:,} ({s.file_mb:,.0f} MB of CSV)",
            "",
            f"Rows written: {counts}.",
            "",
            "| | wall s | CPU s | events/s | rows/s | peak RSS MB, largest process | peak RSS MB, all processes | phases (wall s) | load after |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for label, run in (
            ("(a) limit: executemany", s.limit),
            ("(a′) for comparison: sqlite-utils insert_all, one transaction", s.insert_all),
            ("(b) peer: sqlite-utils CLI", s.peer),
            ("(c) project: build --import", s.project),
        ):
            phases = ", ".join(f"{k} {v:.1f}" for k, v in run.phases.items()) or "-"
            lines.append(
                f"| {label} | {run.wall:.1f} | {run.cpu:.1f} | {s.events_per_s(run):,.0f} | "
                f"{s.rows_per_s(run):,.0f} | {run.rss_mb:.0f} | {run.tree_rss_mb:.0f} | {phases} | {run.load:.1f} |"
            )
        lines += ["", "(c)'s steps, as the build timed them (wall s / CPU s):", ""]
        lines += [f"- {step}: {wall:.1f} / {cpu:.1f}" for step, (wall, cpu) in s.project.steps.items()]
        wall, cpu = (sum(t[i] for t in s.project.steps.values()) for i in (0, 1))
        lines.append(
            f"- the rest (starting Python, copying the curated database, syncing and renaming): "
            f"{s.project.wall - wall:.1f} / {s.project.cpu - cpu:.1f}"
        )
        c_a, c_b = s.ratio(s.limit), s.ratio(s.peer)
        c_a_cpu, c_b_cpu = s.ratio(s.limit, "cpu"), s.ratio(s.peer, "cpu")
        lines += [
            "",
            f"- (c)/(a): **{c_a:.0%}** of the limit's speed (by CPU time {c_a_cpu:.0%}); target "
            f"≥ {TARGETS['c_over_a']:.0%}: {_mark(c_a >= TARGETS['c_over_a'])}",
            f"- (c)/(b): **{c_b:.1f}×** the peer's speed (by CPU time {c_b_cpu:.1f}×); target "
            f"≥ {TARGETS['c_over_b']:.0f}×: {_mark(c_b >= TARGETS['c_over_b'])}",
            "- Of (c)'s time, the counts the build makes for reading at scale, re-timed on its database: "
            + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in s.reading_steps.items())
            + f" ({sum(s.reading_steps.values()) / s.project.wall:.0%} of its wall time)",
            f"- (c) peak memory, all its processes together: **{s.project.tree_rss_mb:.0f} MB** (largest "
            f"process {s.project.rss_mb:.0f} MB); target < {TARGETS['rss_mb']} MB: "
            f"{_mark(s.project.tree_rss_mb < TARGETS['rss_mb'])}",
            "",
        ]
    if len(scales) > 1:
        small, large = scales[0], scales[-1]
        lines += [
            f"Memory of (c) from N = {small.rows:,} to N = {large.rows:,}: {small.project.tree_rss_mb:.0f} MB → "
            f"{large.project.tree_rss_mb:.0f} MB ({large.project.tree_rss_mb / small.project.tree_rss_mb:.2f}×, "
            f"for {large.rows / small.rows:.0f}× the rows).",
            "",
        ]
    if sites:
        lines += site_report(sites)
    return "\n".join(lines + notes(scales, sites[-1] if sites else None))


def _verdict(name: str, p50: float, p95: float, status: int, dropped: str = "") -> str:
    """A page's target and whether it met it; a reader's page must also keep
    every facet (none timed out)."""
    if status == 404:
        return "not on this site"
    if name.startswith("reader: "):
        ok = p50 < READER_P50_MS and p95 < READER_P95_MS
        verdict = f"p50 < {READER_P50_MS} and p95 < {READER_P95_MS} ms: {_mark(ok)}"
        return verdict + (f"; no facet dropped: **missed** ({dropped} timed out)" if dropped else "")
    target = PAGE_TARGETS_MS.get(name)
    return f"p50 < {target} ms: {_mark(p50 < target)}" if target else "-"


def missed_pages(pages: dict[str, tuple[float, float, int]], dropped: dict[str, str]) -> list[str]:
    """The pages that missed their targets, in the order they were timed."""
    return [
        name
        for name, (p50, p95, status) in pages.items()
        if status != 404 and "missed" in _verdict(name, p50, p95, status, dropped.get(name, ""))
    ]


def site_report(sites: list[Site]) -> list[str]:
    """Each page at each size side by side, the growth between the smallest and
    the largest, the map's first draw, memory and the reconciliation."""
    small, large = sites[0], sites[-1]
    sizes = " | ".join(f"p50 / p95 ms at {s.rows:,}" for s in sites)
    lines = [
        "## The site at each size",
        "",
        "What keeps the pages flat as the events grow: the build counts the facets of every unfiltered "
        "page, of the event lists' pages one facet click away (clicks of 1,000 rows or more), and of every "
        "page the overview's squares link (loader/overview.py), into facet_counts (loader/facet_counts.py), "
        "which plugins/facet_counts.py serves in place of Datasette's GROUP BYs, counting any other page's "
        "column facets in one query and its actors through event_actors' index; a filter on the start of a "
        "date (the overview's squares) reads its range of dates through an index; a facet click's page, and "
        "an overview square's, shows the number of rows the build counted instead of counting them again "
        "(plugins/click_counts.py); a filter on a name or an actor the event list looks up gets a twin "
        "clause on the key's index, and a busy actor's page asks it of each row as it walks the dates; the event list's map draws H3 clusters the build counted into "
        "map_cells (loader/map_cells.py, plugins/server_map.py) instead of fetching every marker; other "
        "filtered pages read indexes that hold the sort column too; and each worker decides each "
        "permission once (plugins/permission_cache.py).",
        "",
        "`python -m loader serve` (Datasette, immutable, with its inspect file) over each size's database, "
        + ", ".join(f"ready in {s.start_s:.1f} s at {s.rows:,} events" for s in sites)
        + ". Each page was fetched once to warm up, then timed repeatedly from the same machine with "
        "httpx, with a cookie, so that plugins/response_cache.py answers none of them from memory: every "
        "figure is a page computed afresh, as a reader's first visit is (a repeat within the page's "
        "max-age is answered from the worker's cache in about a millisecond). Growth is the largest size's p50 over the smallest's. Targets are judged at the largest size; "
        f'every page a reader reaches from the home page ("reader:") has p50 < {READER_P50_MS} ms and '
        f"p95 < {READER_P95_MS} ms as its target.",
        "",
        f"| page | URL | {sizes} | growth | status | target |",
        "| --- | --- | " + " | ".join("---:" for _ in sites) + " | ---: | ---: | --- |",
    ]
    for name, (p50, p95, status) in large.pages.items():
        cells = " | ".join(
            f"{s.pages[name][0]:,.0f} / {s.pages[name][1]:,.0f}" if name in s.pages else "-" for s in sites
        )
        growth = f"{p50 / small.pages[name][0]:.1f}×" if name in small.pages and small.pages[name][0] else "-"
        lines.append(
            f"| {name} | `{large.urls[name]}` | {cells} | {growth} | {status} "
            f"| {_verdict(name, p50, p95, status, large.dropped.get(name, ''))} |"
        )
    lines.append("")
    for name, download in large.csv.items():
        target = (
            "for comparison: the whole-table CSV every table and view page links to is /-/csv's"
            if name == DATASETTES_CSV
            else f"target > {CSV_TARGET_MB_S} MB/s: {_mark(download.mb_s > CSV_TARGET_MB_S)}"
        )
        lines.append(
            f"- Full CSV, {name} (`{CSV_URLS[name]}`): {download.mb:,.0f} MB at **{download.mb_s:.1f} MB/s**, "
            f"the server's processes busy on {download.server_cores:.1f} cores and the client on "
            f"{download.client_cores:.1f} of {os.cpu_count()}; {target}"
        )
    for s in sites:
        if s.map_draw:
            which, p50, worst, parsed = s.map_draw
            lines.append(
                f"- The event list's map at {s.rows:,} events, first markers drawn in Chromium ({which}): "
                f"**{p50:,.0f} ms** p50 from navigation (slowest {worst:,.0f} ms; the page itself was parsed "
                f"at {parsed:,.0f} ms, before the map can start); target < {MAP_TARGET_MS:,} ms: "
                f"{_mark(p50 < MAP_TARGET_MS)}"
            )
        else:
            lines.append(f"- The event list's map at {s.rows:,} events: not measured ({CHROMIUM} is missing)")
        lines.append(f"- Memory of the serving process at {s.rows:,} events, after every page: {s.rss_mb:.0f} MB")
    lines += ["", "### Reconciliation of the import with the curated sources", ""]
    for s in sites:
        counts = ", ".join(f"{name}: {n:,}" for name, n in s.reconciliation.items())
        lines.append(f"- At {s.rows:,} events: {counts}")
    return lines + [""]


def notes(scales: list[Scale], site: Site | None) -> list[str]:
    """Why a missed target was missed, in this run's own figures."""
    lines = ["## Why the misses", ""]
    for s in scales:
        if s.ratio(s.peer) < TARGETS["c_over_b"]:
            after_load = s.limit.phases["after-load"]
            lines.append(
                f"- (c)/(b) at N = {s.rows:,}: the limit itself is only {s.ratio(s.peer) / s.ratio(s.limit):.1f}× "
                f"the peer here, because schema.sql's after-load part (indexes and full-text indexes, "
                f"{after_load:.0f} s in (a)) is the same work for all three and {after_load / s.limit.wall:.0%} "
                f"of the limit's time. To be {TARGETS['c_over_b']:.0f}× the peer, (c) would have to run at "
                f"{TARGETS['c_over_b'] * s.ratio(s.limit) / s.ratio(s.peer):.0%} of the limit's speed; it runs at "
                f"{s.ratio(s.limit):.0%}. Its CPU time is higher than its wall time because reading and mapping "
                "run in a second process, beside the writing."
            )
        if s.ratio(s.limit) < TARGETS["c_over_a"]:
            reading = sum(s.reading_steps.values())
            beside = next(
                (wall for step, (wall, _) in s.project.steps.items() if "beside the integrity check" in step), 0.0
            )
            no_counts = s.limit.wall / max(s.project.wall - beside + s.integrity_s, 1e-9)
            neither = s.limit.wall / max(s.project.wall - beside, 1e-9)
            target = f"{TARGETS['c_over_a']:.0%}"
            cores = os.cpu_count() or 1
            allowed = s.limit.wall / TARGETS["c_over_a"]
            if neither >= TARGETS["c_over_a"]:
                remedy = (
                    f"What would meet {target}: the counts and the check made beside the indexes rather than "
                    "after them, on a second connection to a file in WAL mode. The cores would then have to be "
                    f"busy together almost throughout: (c)'s {s.project.cpu:.0f} s of CPU time are "
                    f"{s.project.cpu / cores:.0f} s on each of this machine's {cores} cores, and {target} allows "
                    f"{allowed:.0f} s of wall time; SQLite's quick check ({s.quick_check_s:.0f} s re-timed, "
                    "every page, row and constraint but no index matched against its table) in place of the "
                    "full one would leave room. This run measures neither."
                )
            else:
                remedy = (
                    f"Even without both it would not reach {target}: the rest of its steps, above, are what "
                    "would have to be faster."
                )
            lines.append(
                f"- (c)/(a) at N = {s.rows:,}: (c) does work the limit does not. After the same indexes it counts "
                f"the facets and map cells ({reading:.0f} s re-timed) beside the full integrity check "
                f"({s.integrity_s:.0f} s re-timed), which reads the finished file and so follows the last write: "
                f"{beside:.0f} s of (c)'s {s.project.wall:.0f} s together; and it checks every row and reference as "
                f"it imports (its steps above). Without the counts (c) would run at {no_counts:.0%} of the limit, "
                f"and without the counts and the integrity check at {neither:.0%}. " + remedy
            )
        if s.project.tree_rss_mb >= TARGETS["rss_mb"]:
            lines.append(
                f"- Memory at N = {s.rows:,}: the largest process peaked at {s.project.rss_mb:.0f} MB. SQLite "
                "sizes each index's sort by the build's page cache (WRITE_PRAGMAS in loader/build.py) and holds about twice that "
                "while sorting; what grows beyond it with N was not measured step by step in this run."
            )
    if site:
        lines += page_notes(site)
    return lines + [""] if len(lines) > 2 else []


# What is left of an event-list page once the build has counted it, and what
# would take it away: the same on every page of the event list.
EVENT_LIST_RENDERING = (
    "Datasette making a cell of each of the view's 27 columns for each of its 100 rows (through the "
    "render_cell hook) and rendering the page"
)
FEWER_CELLS = (
    "What would meet it: Datasette making only the cells the page shows (7 of the 27); Datasette 0.65 "
    "chooses a page's columns only from `_col` in its address, which every link and export on the page "
    "would then carry."
)
WALK = (
    "its 100 newest rows are found by walking the index of dates, asking each event whether the actor "
    "is among its actors (the twin clause), until the page is full: a walk that passes over the events "
    "of other actors"
)
BY_ACTOR_AND_DATE = (
    "What would meet it: the actor's newest events read from an index on (actor, start date) that the build "
    "would store beside event_actors, in place of the walk; and Datasette making only the cells the page shows."
)
WHY = {
    "events with the default facets": "its facets are read from facet_counts (counted by the build), so "
    "what is left is Datasette rendering 100 rows of the table's 18 columns with their labels, and the "
    "facets' values. What would meet it: fewer cells a page.",
    "date facet (the SQL Datasette's date facet runs)": "the GROUP BY reads all of the events_start_day "
    "index, one entry an event; the pages themselves read facet_counts instead, so no reader waits for it. "
    "What would meet it: nothing in this query, which must read an entry an event; it is timed to show "
    "what the build's counts save.",
    "full-text search": "the page does more than the match: it also counts the matches and renders 101 "
    "rows of the table's 18 columns with their labels. What would meet it: Datasette making fewer cells "
    "(a page of fewer rows, or of fewer columns, which 0.65 takes only from `_col` in the address).",
    "alias-aware search (canned query actor_events)": "the canned query matches the name in actors_fts, "
    "then gathers the actor's events through event_participants, up to max_returned_rows (1,000), and "
    "Datasette renders every one. What would meet it: the actor's events a page at a time, which "
    "Datasette 0.65's query page cannot do; or a lower max_returned_rows, for every query of the site.",
    "one page of map JSON (event_list, as datasette-cluster-map asks)": "the map asks for the count "
    "(_extra=count, for its 'Showing N of M'), and the page carries max_returned_rows rows, each with its "
    "actor list, rendered as JSON objects in Python by Datasette. Past 10,000 events the event list's map "
    "no longer asks for these pages: it draws the server's clusters. What would meet it: fewer rows a "
    "page of JSON, which would cost the map more requests; past 10,000 events none are asked for.",
    "reader: a facet click (event list, most common type)": "its facets, its count and its rows come from "
    f"the build's counts and the index on (event_type, start_date); what is left is {EVENT_LIST_RENDERING}. "
    + FEWER_CELLS,
    "reader: a facet click (event list, most common place)": "its facets, its count and its rows come from "
    f"the build's counts and the index on (place_id, start_date); what is left is {EVENT_LIST_RENDERING}. "
    + FEWER_CELLS,
    ACTOR_CLICK: "its facets and its count come from the build's counts (plugins/facet_counts.py, "
    f"plugins/click_counts.py); {WALK}; and then {EVENT_LIST_RENDERING}. {BY_ACTOR_AND_DATE}",
    OVERVIEW_SQUARE: "its facets come from the build's counts of the square's page and its count from "
    f"monthly_counts; within the period's range of dates, {WALK}; and then {EVENT_LIST_RENDERING}. "
    + BY_ACTOR_AND_DATE,
    OVERVIEW_TYPE: "its facets come from the build's counts of the square's page, its count from "
    f"monthly_counts and its rows from the index on (event_type, start_date); what is left is "
    f"{EVENT_LIST_RENDERING}. {FEWER_CELLS}",
    OVERVIEW_PLACE: "its facets come from the build's counts of the square's page, its count from "
    f"monthly_counts and its rows from the index on (place_id, start_date); what is left is "
    f"{EVENT_LIST_RENDERING}. {FEWER_CELLS}",
    OVERVIEW_BAR: "its facets come from the build's counts of the bar's page, its count from monthly_sums "
    f"and its rows from the period's range of the index on start_date; what is left is {EVENT_LIST_RENDERING}. "
    + FEWER_CELLS,
    "reader: a facet click counted live (event list, the busiest place the build leaves to Datasette)": (
        "its facets are counted over its matching events, the column facets in one query and the actors "
        "through event_actors' index; the build counts ahead only the clicks of 1,000 rows or more, up to "
        "the 30 values a facet lists, and this place is not among them. What would meet it: a lower "
        "threshold, or every value's click counted ahead, at the price of a longer build."
    ),
    "reader: search the event list": "a search's facets are counted live over its matches (the column "
    "facets in one query, the actors through event_actors' index), and its rows query sorts every match, "
    "each with all the view's columns (the actor lists, the popup and geometry JSON), to keep the newest "
    "100: what grows is the number of matches. What would meet it: the rows query over the newest matches "
    "only (a clause keeping those on or after the date of the 101st newest gives the same rows three to "
    "four times faster in SQL), for which Datasette 0.65 has no hook that leaves the count and the facets "
    "alone; or the view's costly columns stored by the build.",
    "reader: home": "Datasette's index page asks each of the database's tables for its columns, primary "
    "keys and full-text table, one query on a SQL thread each (plugins/permission_cache.py has taken away "
    "the permission checks that copied metadata.yml a hundred times a page): time that grows with the "
    "number of tables (each full-text index adds four), not with the events. What would meet it: fewer "
    "tables, or Datasette asking once for them all.",
    "reader: database": "as the home page: one query on a SQL thread for each table's columns, keys and "
    "counts; the page runs no query that grows with the events. What would meet it: fewer tables, or "
    "Datasette asking once for them all.",
    "reader: event list (map, all its facets)": "its facets and its map come from the build's counts; "
    f"what is left is its rows (the newest 100 through the index on start_date) and {EVENT_LIST_RENDERING}. "
    + FEWER_CELLS,
    "reader: timeline": "the page reads 200 events through the index on their dates and its chart from "
    "the build's overview_months; what is left is rendering those events. What would meet it: fewer "
    "events a page.",
    "reader: overview": "the page counts nothing: its squares are the build's monthly_counts, read through "
    "an index that holds each name's months and counts, and drawn as SVG in Python (plugins/timeline.py); "
    "what is left grows with the periods of the record and the names shown, not with the events. What "
    "would meet it: fewer names or periods drawn.",
}


def page_notes(site: Site) -> list[str]:
    """Each missed page's reason and remedy, with where its time went as
    Datasette's tracer saw it in this run; and each missed CSV's, with the
    cores it kept busy."""
    lines = []
    for name in missed_pages(site.pages, site.dropped):
        target = READER_P50_MS if name.startswith("reader: ") else PAGE_TARGETS_MS.get(name, 0)
        parts = site.parts.get(name)
        traced = ""
        if parts:
            traced = (
                f" Traced in this process at {site.rows:,} events: {parts.total_ms:,.0f} ms, of which its "
                f"{parts.queries} queries took {parts.sql_ms:,.0f} ms (the slowest {parts.slowest_ms:,.0f} ms: "
                f"`{parts.slowest_sql[:160]}{'…' if len(parts.slowest_sql) > 160 else ''}`) and Python the other {parts.python_ms:,.0f} ms."
            )
        reason = WHY.get(name) or (
            f"What would meet it: its {'Python' if parts and parts.python_ms > parts.sql_ms else 'queries'}, the "
            f"larger part, made faster by what it is over {target} ms."
        )
        timed_out = (
            f" At {site.rows:,} events its {site.dropped[name]} facet ran past the facet time limit "
            f"({SETTINGS['facet_time_limit_ms']} ms) and was left out of the page."
            if site.dropped.get(name)
            else ""
        )
        lines.append(f"- {name}: {reason}{traced}{timed_out}")
    table = site.csv["plugins/csv_export.py"]
    cores = os.cpu_count() or 1
    for name, download in site.csv.items():
        if name == DATASETTES_CSV or download.mb_s > CSV_TARGET_MB_S:
            continue
        busy = (
            f"the server's processes kept {download.server_cores:.1f} cores busy and the client "
            f"{download.client_cores:.1f}, of this machine's {cores}"
        )
        if download is table:
            lines.append(
                f"- {name}: {busy}. The work is SQLite writing each row's line of CSV (a CASE for each "
                "cell: quoted text, bare numbers), on the worker's thread and one helper process, which take "
                "the ranges of rows in turn. What would meet it: more cores, each with a helper process of "
                "its own (plugins/csv_export.py runs one a worker, for a machine of two cores)."
            )
        else:
            lines.append(
                f"- {name}: {busy}. SQLite writes the lines as for the table, but the view computes each "
                "row as it goes (the place's name, the actors' names, the map's popup and geometry JSON), "
                f"and its {download.mb:,.0f} MB are {download.mb / table.mb:.1f}× the table's. What would "
                "meet it: the view's costliest columns stored by the build, at the price of a longer build "
                "and a larger file."
            )
    return lines


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def reference_times() -> str:
    """The same small work timed on every run, so that reports from machines
    (or moments of a shared machine) of different speeds can be told apart:
    ten million additions in Python, and SQLite counting five million rows."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    python_s = time.perf_counter() - start
    conn = sqlite3.connect(":memory:")
    start = time.perf_counter()
    conn.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT count(*) FROM c"
    ).fetchone()
    sqlite_s = time.perf_counter() - start
    conn.close()
    return f"Python {python_s:.2f} s, SQLite {sqlite_s:.2f} s"


def run(rows: list[int], work: Path, out: Path, site: bool, rounds: int = 15) -> str:
    """Measure each N in turn, and the site on each N's database; write the report to out."""
    started, load, speed = time.perf_counter(), load_average(), reference_times()
    scales, sites = [], []
    for n in rows:
        scales.append(measure_scale(n, work))
        if site:
            sites.append(measure_site(work / "events.db", rounds))
    seconds = time.perf_counter() - started
    text = report(scales, sites, (load, load_average()), (speed, reference_times()), seconds)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    return text


@click.group(invoke_without_command=True)
@click.option(
    "--rows",
    "--events",
    type=int,
    multiple=True,
    default=(100_000, 1_000_000),
    show_default=True,
    help="Events to generate; repeat for several sizes. A small size (--events 20000) is for development.",
)
@path_option("--work", "build/benchmark", folder=True, help="Where the generated files and databases go.")
@path_option("--out", "docs/performance.md", folder=False)
@click.option("--no-site", is_flag=True, help="Skip serving and timing the site.")
@click.pass_context
def cli(ctx: click.Context, rows: tuple[int, ...], work: Path, out: Path, no_site: bool) -> None:
    """Run the benchmark and write its report."""
    if ctx.invoked_subcommand is None:
        click.echo(run(sorted(rows), work, out, not no_site))


@cli.command("reading-steps-child", hidden=True)
@click.argument("db", type=click.Path(exists=True, path_type=Path))
def reading_steps_command(db: Path) -> None:
    reading_steps_child(db)


@cli.command("limit-child", hidden=True)
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.argument("how", type=click.Choice(["executemany", "insert_all"]))
def limit_child_command(source: Path, target: Path, how: str) -> None:
    limit_child(source, target, how)


if __name__ == "__main__":
    cli()
