"""docs/performance.md from a run's figures: the tables, each target met or
missed, and each miss's measured reason. Why a page misses and what would
meet it is prose a person writes and keeps in the hand-written part of
docs/performance.md, which writing the report leaves as it is."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
from pathlib import Path

from benchmarks.engines import QUESTIONS, Engines
from benchmarks.imports import TARGETS, Run, Scale
from benchmarks.site import (
    CSV_TARGET_MB_S,
    CSV_URLS,
    DATASETTES_CSV,
    MAP_TARGET_MS,
    READER_P50_MS,
    READER_P95_MS,
    SERVE_START,
    SITE_MIN_EVENTS,
    START_TARGET_S,
    Site,
    mark,
    missed_pages,
    verdict,
)
from loader.site.worker import SETTINGS
from tests.support.site_helpers import CHROMIUM


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


GENERATED = ("<!-- Written by make benchmark from here: -->", "<!-- to here. -->")
WHY_HEADING = "Why pages miss, and what would meet them"
WHY_ANCHOR = "why-pages-miss-and-what-would-meet-them"


def report(
    scales: list[Scale],
    sites: list[Site],
    load: tuple[str, str],
    speed: tuple[str, str],
    seconds: float,
    engines: list[Engines] | None = None,
) -> str:
    lines = [
        "Every figure from here to the hand-written part comes from one run of `make benchmark`",
        "(`python -m benchmarks.run`) on one machine.",
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
    compared = [s.rows for s in scales if s.limit is not None]
    if len(compared) < len(scales):
        up_to = f"up to N = {max(compared):,}" if compared else "at no size"
        lines += [
            f"(a), (a′) and (b) were run {up_to} only (`--compare-up-to`): with them at every size a whole run "
            "would pass 100 minutes on this machine, and (a) holds every row in memory at once.",
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
            if run is None:
                lines.append(f"| {label} | - | - | - | - | - | - | not run at this size (see above) | - |")
                continue
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
        lines.append("")
        if s.limit and s.peer:
            c_a, c_b = s.ratio(s.limit), s.ratio(s.peer)
            c_a_cpu, c_b_cpu = s.ratio(s.limit, "cpu"), s.ratio(s.peer, "cpu")
            lines += [
                f"- (c)/(a): **{c_a:.0%}** of the limit's speed (by CPU time {c_a_cpu:.0%}); target "
                f"≥ {TARGETS['c_over_a']:.0%}: {mark(c_a >= TARGETS['c_over_a'])}",
                f"- (c)/(b): **{c_b:.1f}×** the peer's speed (by CPU time {c_b_cpu:.1f}×); target "
                f"≥ {TARGETS['c_over_b']:.0f}×: {mark(c_b >= TARGETS['c_over_b'])}",
            ]
        else:
            lines.append(f"- (c)/(a) and (c)/(b): not measured at N = {s.rows:,} (see above)")
        lines += [
            "- Of (c)'s time, the counts the build makes for reading at scale, re-timed on its database: "
            + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in s.reading_steps.items())
            + f" ({sum(s.reading_steps.values()) / s.project.wall:.0%} of its wall time)",
            f"- (c) peak memory, all its processes together: **{s.project.tree_rss_mb:.0f} MB** (largest "
            f"process {s.project.rss_mb:.0f} MB); target < {TARGETS['rss_mb']} MB: "
            f"{mark(s.project.tree_rss_mb < TARGETS['rss_mb'])}",
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
        unserved = ", ".join(f"{s.rows:,}" for s in scales if s.rows < SITE_MIN_EVENTS)
        if unserved:
            lines += [
                f"The site was not served at N = {unserved}: its pages are chosen among the 1,000 most common "
                f"actors and the 500 latest events, which takes some {SITE_MIN_EVENTS:,} events.",
                "",
            ]
    if engines:
        lines += engines_report(engines)
    return "\n".join(lines + notes(scales, sites[-1] if sites else None))


SAME = {None: "(the answers compared with)", True: "yes", False: "**no**"}


def engines_report(runs: list[Engines]) -> list[str]:
    """The partitioned release in each engine at each size: its time and whether it answered as SQLite did."""
    lines = [
        "## The release beyond one machine: DuckDB and Spark",
        "",
        "The release's event tables as Parquet partitioned by year (Hive layout, GeoParquet geometry; "
        "`partitioned/` in a release, written here from each size's database by the release's own code), "
        "read as they are by DuckDB and by Spark (pyspark in local mode on all the cores, Debian's Java "
        "runtime), and asked the same three questions as SQLite asks of events.db: "
        + ", ".join(QUESTIONS)
        + ". Opening is the engine's start and its reading of the dataset's layout (for Spark, starting the "
        "JVM); the questions are the three answered in turn.",
        "",
    ]
    for run in runs:
        lines += [
            f"### N = {run.rows:,}: {run.files} files, {run.mb:,.0f} MB, written in {run.write_s:.1f} s",
            "",
            "| engine | opening s | the three questions s | same answers as SQLite |",
            "| --- | ---: | ---: | --- |",
        ]
        lines += [
            f"| {name} | {engine.start_s:.2f} | {engine.questions_s:.2f} | {SAME[engine.same_answers]} |"
            for name, engine in run.engines.items()
        ]
        lines += [f"| {name} | - | - | not run: {why} |" for name, why in run.missing.items()]
        lines.append("")
    return lines


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
        "page the overview's squares link (loader/stored_pages.py), into facet_counts (loader/build/facet_counts.py), "
        "which loader/site/plugins/facet_counts.py serves in place of Datasette's GROUP BYs, counting any other page's "
        "column facets in one query and its actors through event_actors' index; a filter on the start of a "
        "date (the overview's squares) reads its range of dates through an index; a facet click's page, and "
        "an overview square's, shows the number of rows the build counted instead of counting them again "
        "(loader/site/plugins/click_counts.py); a filter on a name or an actor the event list looks up gets a twin "
        "clause on the key's index, and a busy actor's page asks it of each row as it walks the dates; the event list's map draws H3 clusters the build counted into "
        "map_cells (loader/build/map_cells.py, loader/site/plugins/server_map.py) instead of fetching every marker; other "
        "filtered pages read indexes that hold the sort column too; and each worker decides each "
        "permission once (loader/site/plugins/compat_065/permission_cache.py).",
        "",
        "`python -m loader serve` (Datasette, immutable, with its inspect file) over each size's database, "
        + ", ".join(
            f"ready in {s.start_s:.1f} s at {s.rows:,} events ({s.inspect_s:.1f} s of it datasette inspect)"
            for s in sites
        )
        + f": target < {START_TARGET_S} s at the largest size, {mark(large.start_s < START_TARGET_S)}. A database "
        "the build has just written has no inspect file yet, so serve first counts every table and hashes the whole "
        "file for Datasette, once (timed apart here); every later start reads the file"
        + ". Each page was fetched once to warm up, then timed repeatedly from the same machine with "
        "httpx, with a cookie, so that loader/site/plugins/response_cache.py answers none of them from memory: every "
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
            f"| {verdict(name, p50, p95, status, large.dropped.get(name, ''))} |"
        )
    lines.append("")
    for name, download in large.csv.items():
        target = (
            "for comparison: the whole-table CSV every table and view page links to is /-/csv's"
            if name == DATASETTES_CSV
            else f"target > {CSV_TARGET_MB_S} MB/s: {mark(download.mb_s > CSV_TARGET_MB_S)}"
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
                f"{mark(p50 < MAP_TARGET_MS)}"
            )
        else:
            lines.append(f"- The event list's map at {s.rows:,} events: not measured ({CHROMIUM} is missing)")
        lines.append(f"- Memory of the serving process at {s.rows:,} events, after every page: {s.rss_mb:.0f} MB")
    lines += ["", "### Reconciliation of the import with the curated sources", ""]
    for s in sites:
        counts = ", ".join(f"{name}: {n:,}" for name, n in s.reconciliation.items())
        lines.append(f"- At {s.rows:,} events: {counts}")
    return lines + [""]


def comparison_notes(s: Scale, limit: Run, peer: Run) -> list[str]:
    """Why (c) missed its speed against (a) and (b), where both were run at this size."""
    lines: list[str] = []
    if s.ratio(peer) < TARGETS["c_over_b"]:
        after_load = limit.phases["after-load"]
        lines.append(
            f"- (c)/(b) at N = {s.rows:,}: the limit itself is only {s.ratio(peer) / s.ratio(limit):.1f}× "
            f"the peer here, because schema.sql's after-load part (indexes and full-text indexes, "
            f"{after_load:.0f} s in (a)) is the same work for all three and {after_load / limit.wall:.0%} "
            f"of the limit's time. To be {TARGETS['c_over_b']:.0f}× the peer, (c) would have to run at "
            f"{TARGETS['c_over_b'] * s.ratio(limit) / s.ratio(peer):.0%} of the limit's speed; it runs at "
            f"{s.ratio(limit):.0%}. Its CPU time is higher than its wall time because reading and mapping "
            "run in a second process, beside the writing."
        )
    if s.ratio(limit) < TARGETS["c_over_a"]:
        reading = sum(s.reading_steps.values())
        beside = next(
            (wall for step, (wall, _) in s.project.steps.items() if "beside the integrity check" in step), 0.0
        )
        no_counts = limit.wall / max(s.project.wall - beside + s.integrity_s, 1e-9)
        neither = limit.wall / max(s.project.wall - beside, 1e-9)
        target = f"{TARGETS['c_over_a']:.0%}"
        cores = os.cpu_count() or 1
        allowed = limit.wall / TARGETS["c_over_a"]
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
    return lines


def notes(scales: list[Scale], site: Site | None) -> list[str]:
    """Why a missed target was missed, in this run's own figures."""
    lines = ["## The misses in this run's figures", ""]
    for s in scales:
        if s.limit is not None and s.peer is not None:
            lines += comparison_notes(s, s.limit, s.peer)
        if s.project.tree_rss_mb >= TARGETS["rss_mb"]:
            lines.append(
                f"- Memory at N = {s.rows:,}: the largest process peaked at {s.project.rss_mb:.0f} MB. SQLite "
                "sizes each index's sort by the build's page cache (WRITE_PRAGMAS in loader/build/database.py) and holds about twice that "
                "while sorting; what grows beyond it with N was not measured step by step in this run."
            )
    if site:
        lines += page_notes(site)
    return lines + [""] if len(lines) > 2 else []


def page_notes(site: Site) -> list[str]:
    """Each missed page with where its time went as Datasette's tracer saw it
    in this run, and each missed CSV with the cores it kept busy; why each
    misses and what would meet it is in the hand-written part of the report
    (WHY_HEADING), kept there by name."""
    lines = []
    if site.start_s >= START_TARGET_S:
        lines.append(
            f"- {SERVE_START}: missed at {site.start_s:.1f} s, of which {site.inspect_s:.1f} s were datasette inspect "
            f"and {site.start_s - site.inspect_s:.1f} s the workers' start; why, and what would meet it, under "
            f"[{WHY_HEADING}](#{WHY_ANCHOR})."
        )
    for name in missed_pages(site.pages, site.dropped):
        parts = site.parts.get(name)
        traced = ""
        if parts:
            traced = (
                f" Traced in this process at {site.rows:,} events: {parts.total_ms:,.0f} ms, of which its "
                f"{parts.queries} queries took {parts.sql_ms:,.0f} ms (the slowest {parts.slowest_ms:,.0f} ms: "
                f"`{parts.slowest_sql[:160]}{'…' if len(parts.slowest_sql) > 160 else ''}`) and Python the other {parts.python_ms:,.0f} ms."
            )
        timed_out = (
            f" At {site.rows:,} events its {site.dropped[name]} facet ran past the facet time limit "
            f"({SETTINGS['facet_time_limit_ms']} ms) and was left out of the page."
            if site.dropped.get(name)
            else ""
        )
        lines.append(
            f"- {name}: missed; why, and what would meet it, under [{WHY_HEADING}](#{WHY_ANCHOR}).{traced}{timed_out}"
        )
    cores = os.cpu_count() or 1
    for name, download in site.csv.items():
        if name == DATASETTES_CSV or download.mb_s > CSV_TARGET_MB_S:
            continue
        lines.append(
            f"- {name}: missed at {download.mb_s:.1f} MB/s for {download.mb:,.0f} MB; the server's processes kept "
            f"{download.server_cores:.1f} cores busy and the client {download.client_cores:.1f}, of this machine's "
            f"{cores}; why, and what would meet it, under [{WHY_HEADING}](#{WHY_ANCHOR})."
        )
    return lines


def hand_written_reasons(text: str) -> dict[str, str]:
    """The reasons of the hand-written part of a report, by page or download."""
    part = text.split(f"## {WHY_HEADING}", 1)[1] if f"## {WHY_HEADING}" in text else ""
    return dict(re.findall(r"^- \*\*(.+?)\*\*: (.+)$", part, re.MULTILINE))


def write(out: Path, generated: str, markers: tuple[str, str] = GENERATED) -> None:
    """Put a run's report into out between its markers, keeping what a
    person wrote around them and the other parts' figures (a new file gets
    the generated part alone; a file without these markers gets them at its end)."""
    begin, end = markers
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    if begin not in text:
        text = f"{text.rstrip()}\n\n{begin}\n{end}\n" if text.strip() else f"{begin}\n{end}\n"
    before, rest = text.split(begin, 1)
    after = rest.split(end, 1)[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"{before}{begin}\n{generated}\n{end}{after}", encoding="utf-8")
