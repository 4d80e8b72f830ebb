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

Then each N's database is served with `python -m loader serve` and the
pages a user opens are timed, and its partitioned Parquet (the release's) is
read by DuckDB and Spark (benchmarks/engines.py).

    python -m benchmarks.run                    # N = 100,000, 1,000,000 and 3,000,000
    python -m benchmarks.run --rows 2000 --no-site --out /tmp/perf.md
    python -m benchmarks.run curation           # the curator's desk alone (benchmarks/curation.py)
    python -m benchmarks.run engines --events 100000   # the engines alone, printed
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import click

from benchmarks.engines import measure_engines
from benchmarks.generate import generate
from benchmarks.imports import limit_child, measure_scale, project_import, reading_steps_child
from benchmarks.options import path_option
from benchmarks.report import engines_report, report, write
from benchmarks.site import SITE_MIN_EVENTS, measure_site


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


def run(
    rows: list[int],
    work: Path,
    out: Path,
    site: bool,
    rounds: int = 15,
    engines: bool = True,
    compare_up_to: int | None = None,
) -> str:
    """Measure each N in turn (the limit and the peer up to compare_up_to
    events, if given), and the site (from SITE_MIN_EVENTS events) and the
    engines on each N's database; write the report to out."""
    if site and max(rows) < SITE_MIN_EVENTS:
        raise click.UsageError(f"the site is measured from {SITE_MIN_EVENTS:,} events: give such a size, or --no-site")
    started, load, speed = time.perf_counter(), load_average(), reference_times()
    scales, sites, engine_runs = [], [], []
    for n in rows:
        scales.append(measure_scale(n, work, compare=compare_up_to is None or n <= compare_up_to))
        if site and n >= SITE_MIN_EVENTS:
            sites.append(measure_site(work / "events.db", rounds))
        if engines:
            engine_runs.append(measure_engines(work / "events.db", work))
    seconds = time.perf_counter() - started
    text = report(scales, sites, (load, load_average()), (speed, reference_times()), seconds, engine_runs)
    write(out, text)
    return text


# The sizes a whole run measures: issue 29's three. SIZES="100000 1000000" (make) or
# --events for each size runs fewer.
SIZES = (100_000, 1_000_000, 3_000_000)


@click.group(invoke_without_command=True)
@click.option(
    "--rows",
    "--events",
    type=int,
    multiple=True,
    default=SIZES,
    show_default=True,
    help="Events to generate; repeat for several sizes. A small size (--events 20000) is for development.",
)
@path_option("--work", "build/benchmark", folder=True, help="Where the generated files and databases go.")
@path_option("--out", "docs/performance.md", folder=False)
@click.option("--no-site", is_flag=True, help="Skip serving and timing the site.")
@click.option("--no-engines", is_flag=True, help="Skip reading the partitioned Parquet with DuckDB and Spark.")
@click.option(
    "--compare-up-to",
    type=int,
    help="Run the limit and the peer only at sizes up to this many events (the report says so); by default at all.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    rows: tuple[int, ...],
    work: Path,
    out: Path,
    no_site: bool,
    no_engines: bool,
    compare_up_to: int | None,
) -> None:
    """Run the benchmark and write its report."""
    if ctx.invoked_subcommand is None:
        click.echo(run(sorted(rows), work, out, not no_site, engines=not no_engines, compare_up_to=compare_up_to))


@cli.command("engines")
@click.option("--events", "rows", type=int, multiple=True, default=SIZES[:1], show_default=True)
@path_option("--work", "build/benchmark", folder=True, help="Where the generated files and databases go.")
@click.option(
    "--db",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A database already built (by an earlier run) to read instead of building each size's.",
)
def engines_command(rows: tuple[int, ...], work: Path, db: Path | None) -> None:
    """The engines part alone: build each size's database from its ACLED file
    (generated if missing), or take the one given, and print what DuckDB and
    Spark answered, and in how long; docs/performance.md is left as it is."""
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for n in [] if db else sorted(rows):
        acled_file = work / f"acled-{n}.csv"
        if not acled_file.exists():
            generate(acled_file, n)
        _, built = project_import(acled_file, work)
        runs.append(measure_engines(built, work))
    if db:
        runs.append(measure_engines(db, work))
    click.echo("\n".join(engines_report(runs)))


@cli.command("curation")
@path_option("--out", "docs/performance.md", folder=False)
def curation_command(out: Path) -> None:
    """Measure the curator's desk leave-one-out on the archived articles and write its part of the report."""
    from benchmarks import curation

    text = curation.report(*curation.measure())
    write(out, text, curation.GENERATED)
    click.echo(text)


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
