"""The benchmark's own code, run small so that it never rots: it must produce a
sane report from real runs of all three loaders and of the site. No timing
is asserted here; the figures belong to docs/performance.md."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

import click
import pytest

from benchmarks.generate import generate
from benchmarks.imports import measured
from benchmarks.report import GENERATED, WHY_ANCHOR, hand_written_reasons, page_notes, write
from benchmarks.run import run
from benchmarks.site import (
    CSV_URLS,
    DATASETTES_CSV,
    OVERVIEW_PAGES,
    PAGE_TARGETS_MS,
    SERVE_START,
    START_TARGET_S,
    Download,
    Site,
    reader_pages,
    traced_parts,
)

PERFORMANCE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a, b = generate(tmp_path / "a.csv", 300), generate(tmp_path / "b.csv", 300)
    assert a.read_bytes() == b.read_bytes()
    assert len(a.read_text().splitlines()) == 301


@pytest.mark.slow
def test_small_run_writes_a_sane_report(tmp_path: Path) -> None:
    """One run of two sizes: the limit and the peer at the smaller only
    (--compare-up-to), the site at the larger only, as 2,000 events are
    about as few as its pages can be chosen from (SITE_MIN_EVENTS). One
    round a page is enough for every part of the report: the map's first
    draw still has its untimed round before the timed one."""
    out = tmp_path / "performance.md"
    text = run([500, 2000], tmp_path / "work", out, site=True, rounds=1, compare_up_to=500)
    assert out.read_text() == f"{GENERATED[0]}\n{text}\n{GENERATED[1]}\n"
    small, large = text.split("### N = 2,000 (")[0].split("### N = 500 (")[1], text.split("### N = 2,000 (")[1]
    # At 500 all three ways loaded the same events; at 2,000 only the project's.
    table = re.findall(r"^\| \((a|a′|b|c)\) [^|]+\| ([\d.]+) \| ([\d.]+) \| ([\d,]+) \|", small, re.MULTILINE)
    assert [row[0] for row in table] == ["a", "a′", "b", "c"]
    assert all(float(wall) > 0 and float(cpu) > 0 for _, wall, cpu, _ in table)
    assert "(a), (a′) and (b) were run up to N = 500 only (`--compare-up-to`)" in text
    for label in ("(a) limit", "(a′) for comparison", "(b) peer"):
        assert re.search(rf"^\| {re.escape(label)}[^|]*\| - \|.*not run at this size", large, re.MULTILINE), label
    assert re.search(r"^\| \(c\) project[^|]*\| [\d.]+ \|", large, re.MULTILINE)
    assert "- (c)/(a) and (c)/(b): not measured at N = 2,000" in large
    assert "2,002 events" in text and "The site was not served at N = 500:" in text
    assert re.search(
        r"^  in Python; SQLite counting five million rows\): Python [\d.]+ s, SQLite [\d.]+ s / Python", text, re.M
    )
    # (c)'s own steps, as the build timed them, wall and CPU seconds.
    assert re.search(r"^- indexes and full-text indexes .*: [\d.]+ / [\d.]+$", text, re.MULTILINE)
    assert re.search(r"\(c\)/\(a\): \*\*\d+%\*\*", small) and re.search(r"\(c\)/\(b\): \*\*[\d.]+×\*\*", small)
    # Every page answered, and the CSV stream carried every event.
    for name in PAGE_TARGETS_MS:
        assert re.search(rf"^\| {re.escape(name)} \|.*\| 200 \|", text, re.MULTILINE), name
    assert len(re.findall(r"Full CSV, .*: \d+ MB at \*\*[\d.]+ MB/s\*\*", text)) == 3  # a table twice, a view once
    # Every page a reader reaches from the home page, judged against its target.
    every = reader_pages(defaultdict(lambda: "x"), dict.fromkeys(OVERVIEW_PAGES, "x"))
    for name in (name for name in every if name.startswith("reader: ")):
        assert re.search(
            rf"^\| {re.escape(name)} \|.*\| (200 \|.*: (met|\*\*missed\*\*)|404 \| not on this site) \|$",
            text,
            re.MULTILINE,
        ), name
    # The map was drawn in Chromium; memory and the reconciliation are reported.
    assert re.search(r"map at 2,002 events, first markers drawn in Chromium \([\w -]+\): \*\*[\d,]+ ms\*\*", text)
    assert re.search(r"Memory of the serving process at 2,002 events, after every page: \d+ MB", text)
    assert re.search(r"At 2,002 events: .*imported places kept as imported: [\d,]+", text)
    # The partitioned release read by DuckDB, and by Spark where pyspark and Java are installed,
    # each with SQLite's answers to the three questions.
    assert re.search(r"^### N = 2,002: \d+ files, [\d,]+ MB, written in [\d.]+ s$", text, re.MULTILINE)
    assert re.search(r"^\| DuckDB \| [\d.]+ \| [\d.]+ \| yes \|$", text, re.MULTILINE)
    spark = r"^\| Spark \(pyspark, local mode\) \| ([\d.]+ \| [\d.]+ \| yes|- \| - \| not run: .+) \|$"
    assert re.search(spark, text, re.MULTILINE)
    # Where a page's time goes, as Datasette's tracer sees it, on the run's own database.
    parts = traced_parts(tmp_path / "work" / "events.db", {"list": "/events/event_list"}, rounds=1)["list"]
    assert 0 < parts.sql_ms <= parts.total_ms and parts.queries > 1
    assert parts.slowest_ms <= parts.sql_ms and parts.slowest_sql.lower().startswith(("select", "with", "pragma"))


def test_a_run_too_small_for_the_site_says_so_before_it_starts(tmp_path: Path) -> None:
    with pytest.raises(click.UsageError, match="from 2,000 events"):
        run([500], tmp_path / "work", tmp_path / "performance.md", site=True)
    assert not (tmp_path / "work").exists()


def test_a_childs_peak_memory_is_its_own_not_the_benchmarks(tmp_path: Path) -> None:
    """Linux carries a parent's peak resident memory into its child's
    ru_maxrss across fork and exec: the 3,000,000 run reported 528 MB for
    the import after the benchmark itself had grown that large."""
    grown = bytearray(400 * 1024**2)
    grown[::4096] = b"x" * len(grown[::4096])  # touched, so resident
    run, _ = measured([sys.executable, "-c", "import time; x = bytearray(40 * 1024**2); time.sleep(0.5)"], tmp_path)
    assert 40 <= run.rss_mb < 200
    assert run.tree_rss_mb < 200
    del grown


def test_every_missed_page_and_download_gets_a_reason_and_a_remedy() -> None:
    """Done-when of issue 14: a miss is reported with its reason and what
    would meet it, whichever page or download misses: the run's note links
    the hand-written reason, which docs/performance.md has for every one."""
    every = reader_pages(defaultdict(lambda: "x"), dict.fromkeys(OVERVIEW_PAGES, "x"))
    names = list(dict.fromkeys([*PAGE_TARGETS_MS, *every]))
    slow = Download(1_000.0, 1.0, 1.5, 0.5)
    site = Site(
        rows=10,
        urls=dict.fromkeys(names, "/"),
        pages={name: (10_000.0, 10_000.0, 200) for name in names},
        csv={name: slow if name != DATASETTES_CSV else Download(1.0, 1.0, 1.0, 0.1) for name in CSV_URLS},
        start_s=START_TARGET_S + 1.0,
        inspect_s=START_TARGET_S,
    )
    notes = page_notes(site)
    reasons = hand_written_reasons(PERFORMANCE.read_text(encoding="utf-8"))
    for name in [SERVE_START, *names, *(name for name in CSV_URLS if name != DATASETTES_CSV)]:
        (line,) = (line for line in notes if line.startswith(f"- {name}: "))
        assert f"(#{WHY_ANCHOR})" in line, name
        assert "cores busy" in line or name in names or "datasette inspect" in line
        assert "What would meet it" in reasons.get(name, ""), f"docs/performance.md gives no reason for {name}"
    assert not any(line.startswith(f"- {DATASETTES_CSV}:") for line in notes)


def test_a_new_report_keeps_what_was_written_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    out.write_text(f"# Intro by hand\n{GENERATED[0]}\nold figures\n{GENERATED[1]}\n## Reasons by hand\n")
    write(out, "new figures")
    assert out.read_text() == f"# Intro by hand\n{GENERATED[0]}\nnew figures\n{GENERATED[1]}\n## Reasons by hand\n"
