"""Building the database: complete, checked, deterministic, and never half-written."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loader.build.database import Build, build, build_lock
from loader.errors import BuildLocked, InvalidSources, ReplaceFailed
from loader.files import connect_readonly
from loader.records.yaml_files import MAX_FILE_BYTES
from tests.support.bad_input import PROBLEM, TIME_LIMIT, VALID, run_subprocess
from tests.support.dataset import dataset_sources

DATES = Path(__file__).parent / "fixtures" / "dates"
VALID_SOURCES = Path(__file__).parent / "fixtures" / "valid"
RANGE = "must be between 1800-01-01 and 2100-12-31"
REFUSAL_RSS = 200 * 1024**2  # a refused build: the interpreter and the loader, and not the bad input
LARGEST_FILE_RSS = 400 * 1024**2  # a build of a sources file at the size limit, of the densest records


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp") or "-journal" in p.name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Path]:
    """The valid fixture built once, for the tests that only read what the build wrote."""
    directory = tmp_path_factory.mktemp("built")
    sources = shutil.copytree(VALID_SOURCES, directory / "sources")
    db_path = directory / "events.db"
    return build(sources, db_path), db_path


def test_build_writes_every_row_and_passes_sqlite_checks(built: tuple[Build, Path]) -> None:
    dataset, db_path = built
    conn = connect_readonly(db_path)
    for table, count in dataset.counts().items():
        assert conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] == count > 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert leftovers(db_path.parent) == []


def test_full_text_indexes_cover_names_and_aliases(built: tuple[Build, Path]) -> None:
    conn = connect_readonly(built[1])

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


def test_indexes_cover_every_foreign_key(built: tuple[Build, Path]) -> None:
    conn = connect_readonly(built[1])
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


@pytest.mark.dataset
def test_real_sources_build(tmp_path: Path) -> None:
    db_path = tmp_path / "events.db"
    dataset = build(dataset_sources(), db_path)
    counts = dataset.counts()
    assert counts["events"] > 0 and counts["documents"] > 0 and counts["claims"] > 0
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def line_numbers(path: Path, *needles: str) -> set[int]:
    text = path.read_text(encoding="utf-8").splitlines()
    return {number for number, line in enumerate(text, 1) if any(needle in line for needle in needles)}


@pytest.mark.parametrize("name", ["out-of-range.yml", "acled.csv", "events.csv", "events.ndjson"])
def test_a_date_outside_the_store_range_is_refused_at_its_line_within_seconds(name: str, tmp_path: Path) -> None:
    """B5: one date at or before February 300 (a typo such as 0250-06-01)
    kept the build stepping through months forever. Every date outside
    1800-01-01 to 2100-12-31 is refused where it is written, in sources and
    in each import format; the build runs in a subprocess that is killed
    after a minute, so that a regression fails instead of hanging."""
    sources = shutil.copytree(VALID, tmp_path / "sources")
    arguments: tuple[str, ...] = ()
    if name.endswith(".yml"):
        shown = f"sources/events/{name}"
        refused = line_numbers(DATES / name, "start_date:", "end_date:")
        shutil.copy(DATES / name, sources / "events" / name)
    else:
        shown, arguments = name, ("--import", name)
        refused = {1, 2, 3, 4} if name.endswith(".ndjson") else {2, 3, 4, 5}  # a CSV's first line is its header
        shutil.copy(DATES / name, tmp_path / name)
    outcome = run_subprocess(tmp_path, arguments)
    assert outcome.exit_code == 1 and outcome.seconds < TIME_LIMIT, outcome.output
    problems = [m for m in PROBLEM.finditer(outcome.output) if m["file"] == shown]
    assert {int(m["line"]) for m in problems if RANGE in m["rest"]} == refused, outcome.output
    if name == "acled.csv":  # a week or a month around the first or last day Python has
        assert {int(m["line"]) for m in problems if "too near an end of the calendar" in m["rest"]} == {6, 7}
    assert "Traceback" not in outcome.output and not (tmp_path / "events.db").exists()


def test_month_tables_run_from_the_first_month_to_the_last_whatever_the_dates(sources: Path, tmp_path: Path) -> None:
    """The months at both ends of the store's range are counted and listed;
    and the overview's list of months ends for any months its table could
    hold, including February of year 300, where SQLite's '+1 month' stays
    (bounded by a progress handler, so that a regression fails, not hangs)."""
    shutil.copy(DATES / "ends.yml", sources / "events" / "ends.yml")
    db_path = tmp_path / "events.db"
    build(sources, db_path)
    conn = sqlite3.connect(db_path)
    counted = conn.execute("SELECT DISTINCT month FROM monthly_counts ORDER BY month").fetchall()
    assert counted[0] == ("1800-01",) and counted[-1] == ("2100-12",)
    months = conn.execute("SELECT month, events FROM overview_months").fetchall()
    assert len(months) == (2100 - 1800 + 1) * 12
    assert months[:2] == [("1800-01", 1), ("1800-02", 0)] and months[-2:] == [("2100-11", 0), ("2100-12", 1)]
    deadline = time.monotonic() + 10
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    for first, last, expected in (
        ("0300-01", "0300-04", [("0300-01", 1), ("0300-02", 0), ("0300-03", 0), ("0300-04", 1)]),
        ("0000-01", "9999-12", 10_000 * 12),
    ):
        conn.execute("DELETE FROM monthly_sums")
        conn.executemany("INSERT INTO monthly_sums VALUES ('type', ?, 1)", [(first,), (last,)])
        found = conn.execute("SELECT month, events FROM overview_months").fetchall()
        assert (found if isinstance(expected, list) else len(found)) == expected
    conn.close()


def dense_records(size: int) -> str:
    """A file of one-line place records, the densest a curator could write:
    the most for the parser to hold in memory for each byte of the file."""
    lines, length, n = ["places:"], len("places:\n"), 0
    while True:
        line = f"  - {{id: place-{n}, name: Place {n}, kind: town, country_code: SY}}"
        if length + len(line) + 1 > size:
            return "\n".join(lines) + "\n"
        lines.append(line)
        length += len(line) + 1
        n += 1


@pytest.mark.slow
def test_a_source_file_over_the_size_limit_is_refused_and_one_at_it_builds_in_bounded_memory(tmp_path: Path) -> None:
    """B12: a 71 MB file of records took the build past 3.8 GB. A file over
    MAX_FILE_BYTES is refused at its first line without being parsed, and
    one of the densest records builds in memory that, drawn out to a file at
    the limit, stays bounded.

    The file built is a quarter of the limit (one at the limit took four
    times as long for nothing more), and its memory above the refused
    build's, which holds the interpreter and the loader but no records, is
    counted four times. Measured: a refusal 58 MB, the quarter 107 MB, so
    255 MB drawn out to the limit, where a build of a whole file peaked at
    258 MB. LARGEST_FILE_RSS (400 MB) is below twice that: a build holding
    twice the memory a byte it holds today fails, and so does a limit twice
    as high. The quarter and the whole file put the build's fixed cost at
    about 56 MB, the refusal's, so the records' memory is what is drawn out."""
    sources = shutil.copytree(VALID, tmp_path / "sources")
    big = sources / "events" / "big.yml"
    with big.open("w", encoding="utf-8") as f:  # 30 MB of comments: once accepted, after minutes
        f.writelines(["# " + "x" * 97 + "\n"] * 300_000)
    outcome = run_subprocess(tmp_path)
    assert outcome.exit_code == 1, outcome.output
    assert (
        "sources/events/big.yml:1: -: -: holds more than 2,000,000 bytes (2 MB), the most a sources file may:"
        in outcome.output
    )
    assert outcome.peak_rss is not None and outcome.peak_rss < REFUSAL_RSS
    refused_rss = outcome.peak_rss
    big.unlink()
    places = sources / "many-places.yml"
    places.write_text(dense_records(MAX_FILE_BYTES // 4), encoding="utf-8")
    assert MAX_FILE_BYTES // 4 - 100 < places.stat().st_size <= MAX_FILE_BYTES // 4
    outcome = run_subprocess(tmp_path, time_limit=120)
    assert outcome.exit_code == 0, outcome.output
    assert outcome.peak_rss is not None
    at_the_limit = refused_rss + 4 * max(0, outcome.peak_rss - refused_rss)
    assert at_the_limit < LARGEST_FILE_RSS, (
        f"{outcome.peak_rss / 1024**2:.0f} MB, {at_the_limit / 1024**2:.0f} MB at the limit"
    )
