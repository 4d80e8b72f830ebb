"""The curator's desk measured leave-one-out on the archived articles.

For each document of sources/ whose archived copy the archive holds, a
temporary copy of sources/ is made without that document and without the
records only it supports (the events it alone is cited for, its claims,
the actors only it cites, the places only those events had): the store as
it stood before a curator added the article, as near as the records tell.
`draft` is then run on the archived copy and compared with what the
curators recorded from it. `find` is timed and scored over the table of
spelling variants (tests/fixtures/desk/name_variants.tsv), and `diff` over
the whole store.

    python -m benchmarks.run curation      # writes docs/performance.md's curation part
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from benchmarks.report import machine
from loader import PROJECT_ROOT
from loader.desk.diff import diff
from loader.desk.draft import Draft, compose, copied_runs
from loader.desk.find import matcher_from_sources
from loader.desk.records import Records, from_directory
from loader.records.archive import find_archive, parse_locator
from tests.support.name_variants import variant_rows

SOURCES = PROJECT_ROOT / "sources"
TARGETS = {"names": 0.9, "events": 0.8, "copied": 0, "find_first": 0.95, "diff_s": 2.0}
GENERATED = ("<!-- Written by the benchmark's curation part from here: -->", "<!-- to here (curation). -->")
TOP = 5  # "offered among the first" counts the events a curator sees without scrolling


@dataclass
class Cited:
    """What the curators recorded from one document."""

    actors: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    # Events the document is cited on for their date: id -> (start, end, paragraph numbers).
    dated: dict[str, tuple[date, date, set[int]]] = field(default_factory=dict)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def cited(records: Records, document_id: str) -> Cited:
    """The actors, places and events the store cites `document_id` for."""
    found = Cited()
    for eid, event in records.tables["events"].items():
        for row in event.get("actors") or []:
            if isinstance(row, dict) and row.get("document_id") == document_id:
                found.actors.add(str(row.get("actor_id")))
        entries = [
            d for d in event.get("documents") or [] if isinstance(d, dict) and d.get("document_id") == document_id
        ]
        if not entries:
            continue
        found.events.add(eid)
        if event.get("place_id"):
            found.places.add(str(event["place_id"]))
        start, end = _day(event.get("start_date")), _day(event.get("end_date") or event.get("start_date"))
        for entry in entries:
            if "date" in (entry.get("supports") or []) and start and end:
                numbers = {p[0] for p in map(parse_locator, entry.get("paragraphs") or []) if p}
                found.dated[eid] = (start, end, numbers)
    for claim in records.tables["claims"].values():
        if claim.get("document_id") == document_id and claim.get("claimant_id"):
            found.actors.add(str(claim["claimant_id"]))
    return found


def _citing(records: Records) -> dict[str, set[str]]:
    """Each actor's citing documents, by the event rows and claims that name it."""
    citing: dict[str, set[str]] = {}
    for event in records.tables["events"].values():
        for row in event.get("actors") or []:
            if isinstance(row, dict):
                citing.setdefault(str(row.get("actor_id")), set()).add(str(row.get("document_id")))
    for claim in records.tables["claims"].values():
        citing.setdefault(str(claim.get("claimant_id")), set()).add(str(claim.get("document_id")))
    return citing


def leave_out(sources: Path, document_id: str, target: Path) -> None:
    """Write to `target` a copy of sources/ without the document and the records only it supports."""
    citing = _citing(from_directory(sources))
    gone_actors = {actor for actor, documents in citing.items() if documents == {document_id}}
    kept_places: set[str] = set()
    dropped_places: set[str] = set()
    files: dict[Path, Any] = {}
    for path in sorted(sources.rglob("*.y*ml")):
        files[path.relative_to(sources)] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for data in files.values():
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            continue
        kept = []
        for event in data["events"]:
            documents = [d for d in event.get("documents") or [] if d.get("document_id") != document_id]
            if not documents:
                dropped_places.add(str(event.get("place_id")))
                continue
            kept_places.add(str(event.get("place_id")))
            event["documents"] = documents
            event["actors"] = [a for a in event.get("actors") or [] if a.get("document_id") != document_id]
            if event.get("claims"):
                event["claims"] = [c for c in event["claims"] if c.get("document_id") != document_id]
            kept.append(event)
        data["events"] = kept
    gone = {"documents": {document_id}, "actors": gone_actors, "places": dropped_places - kept_places}
    for relative, data in files.items():
        if isinstance(data, dict):
            for table, ids in gone.items():
                if isinstance(data.get(table), list):
                    data[table] = [r for r in data[table] if str(r.get("id")) not in ids]
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class Article:
    """One article's draft against what the curators recorded from it."""

    document_id: str
    archive_ref: str
    known: set[str]  # kind:id of the actors and places cited for it that the store kept without it
    found: set[str]  # of those, the ones the draft lists
    listed: int  # the known actors and places the draft lists, cited for the article or not
    events: set[str]  # the events cited on it that the store kept without it
    offered: set[str]  # of those, the ones the draft offers
    offered_top: set[str]  # ... among its first TOP
    proposed_top: int  # the events the draft offers first (at most TOP), cited on it or not
    dated: int  # events cited on it for their date (those it alone supports too)
    dated_right: int  # of those, the ones a date the draft resolves in the cited paragraphs falls within
    document_date: str  # printed | inferred, as the curators recorded it
    document_date_right: bool
    copied: int
    seconds: float


def score(result: Draft, citations: Cited, store: Records, document: dict[str, Any]) -> dict[str, Any]:
    """The draft's findings against the citations, with the store left without the document."""
    known = {f"actor:{a}" for a in citations.actors if a in store.tables["actors"]}
    known |= {f"place:{p}" for p in citations.places if p in store.tables["places"]}
    listed = {f"{m.kind}:{m.id}" for m in result.mentions}
    events = {e for e in citations.events if e in store.tables["events"]}
    ranked = [e for e, _, _ in result.events]
    right = 0
    for start, end, numbers in citations.dated.values():
        windows = [d.resolved for d in result.dates if d.resolved and d.paragraph in numbers]
        right += any(start <= w.earliest and w.latest <= end for w in windows)
    printed = _day(document.get("published_date"))
    window = result.window
    if printed:
        document_right = window is not None and window.earliest == window.latest == printed
    else:
        # An undated article must not be given a printed day, and its window
        # must hold the earliest day the curators allow it.
        earliest = _day(document.get("published_earliest"))
        document_right = not result.document.get("published_date") and (
            window is None or earliest is None or window.earliest <= earliest <= window.latest
        )
    return {
        "known": known,
        "found": known & listed,
        "listed": len(listed),
        "events": events,
        "offered": events & set(ranked),
        "offered_top": events & set(ranked[:TOP]),
        "proposed_top": len(ranked[:TOP]),
        "dated": len(citations.dated),
        "dated_right": right,
        "document_date": "printed" if printed else "inferred",
        "document_date_right": document_right,
    }


def archived_documents(records: Records) -> list[tuple[str, Path]]:
    """Each document with an archived copy in the project's archive, and the copy."""
    archive = find_archive(())
    found = []
    for document_id, document in records.tables["documents"].items():
        copy = archive.copy(str(document.get("archive_ref") or "")) if archive else None
        if copy is not None:
            found.append((document_id, copy.path))
    return found


def measure_article(sources: Path, records: Records, document_id: str, article: Path) -> Article:
    with tempfile.TemporaryDirectory() as folder:
        without = Path(folder) / "sources"
        leave_out(sources, document_id, without)
        started = time.perf_counter()
        result = compose(article, without)
        seconds = time.perf_counter() - started
        copied = len(copied_runs(result, article))
        figures = score(
            result, cited(records, document_id), from_directory(without), records.tables["documents"][document_id]
        )
    return Article(document_id, article.name, copied=copied, seconds=seconds, **figures)


@dataclass
class Lookups:
    rows: int
    first: int
    missed: list[tuple[str, str, str]]  # query, record, what came first
    seconds: float  # all the look-ups, the matcher already built
    build_seconds: float


def measure_find(sources: Path, rows: Iterable[tuple[str, str, str]]) -> Lookups:
    started = time.perf_counter()
    matcher = matcher_from_sources(sources)
    built = time.perf_counter() - started
    rows = list(rows)
    missed = []
    started = time.perf_counter()
    for query, record, _ in rows:
        found = matcher.find(query)
        best = f"{found[0].entry.kind}:{found[0].entry.id}" if found else "nothing"
        if best != record:
            missed.append((query, record, best))
    return Lookups(len(rows), len(rows) - len(missed), missed, time.perf_counter() - started, built)


def measure_diff(sources: Path) -> float:
    started = time.perf_counter()
    diff(sources, "HEAD")
    return time.perf_counter() - started


def measure(sources: Path = SOURCES) -> tuple[list[Article], Lookups, float]:
    records = from_directory(sources)
    articles = [measure_article(sources, records, d, path) for d, path in archived_documents(records)]
    return articles, measure_find(sources, variant_rows()), measure_diff(sources)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def mark(met: bool) -> str:
    return "met" if met else "**missed**"


def report(articles: list[Article], lookups: Lookups, diff_seconds: float) -> str:
    known = sum(len(a.known) for a in articles)
    found = sum(len(a.found) for a in articles)
    events = sum(len(a.events) for a in articles)
    offered = sum(len(a.offered) for a in articles)
    top = sum(len(a.offered_top) for a in articles)
    dated = sum(a.dated for a in articles)
    dated_right = sum(a.dated_right for a in articles)
    copied = sum(a.copied for a in articles)
    listed = sum(a.listed for a in articles)
    proposed = sum(a.proposed_top for a in articles)
    printed = [a for a in articles if a.document_date == "printed"]
    undated = [a for a in articles if a.document_date == "inferred"]
    slowest = max((a.seconds for a in articles), default=0.0)
    lines = [
        "## The curator's desk, leave-one-out",
        "",
        "`python -m benchmarks.run curation`. For each of the "
        f"{len(articles)} documents with an archived copy, `draft` ran on the copy against sources/ without "
        "that document and the records only it supports (the events only it is cited on, its claims, the "
        "actors only it cites, the places only those events had). Measured against what the curators "
        "recorded from it: the known actors and places cited for it (those the store still has without it) "
        "that the draft lists; the events cited on it that the store still has, offered among the draft's "
        f"recorded events (and among its first {TOP}); the events cited on it for their date whose recorded "
        "dates hold a date the draft resolves in the cited paragraphs (a day or span inside the event's "
        "start and end; a wider reading counts as wrong); whether the draft gives the document its "
        "recorded printed date, or, for an undated article, no printed date and a window that holds its "
        "earliest recorded day; and every run of ten words the draft shares with the article. Its precision: "
        "of the known actors and places the draft lists, those cited for the article, and of the events it "
        f"offers first (up to {TOP}), those cited on it; an actor or place the article names in passing, "
        "which the curators did not cite, counts against it.",
        "",
        f"Machine: {machine()}; load average at the end {os.getloadavg()[0]:.1f} (times are wall-clock, "
        "on a shared machine).",
        "",
        "| document | known actors and places found | events offered (first 5) | dated events resolved "
        "| document's date | copied runs | right of listed: names; first 5 events | draft s |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for a in articles:
        missing = ", ".join(sorted(a.known - a.found))
        not_offered = ", ".join(sorted(a.events - a.offered))
        lines.append(
            f"| {a.document_id} | {len(a.found)} of {len(a.known)}{f' (not: {missing})' if missing else ''} "
            f"| {len(a.offered)} ({len(a.offered_top)}) of {len(a.events)}{f' (not: {not_offered})' if not_offered else ''} "
            f"| {a.dated_right} of {a.dated} | {a.document_date}: {'right' if a.document_date_right else '**wrong**'} "
            f"| {a.copied} | {len(a.found)} of {a.listed}; {len(a.offered_top)} of {a.proposed_top} | {a.seconds:.2f} |"
        )
    lines += [
        "",
        f"- Known actors and places found: **{_share(found, known)}** ({found} of {known}); target "
        f"≥ {TARGETS['names']:.0%}: {mark(known > 0 and found / known >= TARGETS['names'])}",
        f"- Events it is cited on, offered: **{_share(offered, events)}** ({offered} of {events}; among the "
        f"first {TOP}: {_share(top, events)}); target ≥ {TARGETS['events']:.0%}: "
        f"{mark(events > 0 and offered / events >= TARGETS['events'])}",
        f"- Dated events whose recorded dates hold a date the draft resolves in the cited paragraphs: "
        f"{_share(dated_right, dated)} ({dated_right} of {dated})",
        f"- Documents' dates: printed dates read right {sum(a.document_date_right for a in printed)} of "
        f"{len(printed)}; undated articles given no printed date, with a window holding their earliest "
        f"recorded day, {sum(a.document_date_right for a in undated)} of {len(undated)}",
        f"- Precision: of the known actors and places the draft lists, cited for the article: "
        f"**{_share(found, listed)}** ({found} of {listed}); of the events it offers first, cited on it: "
        f"**{_share(top, proposed)}** ({top} of {proposed}); no target",
        f"- Copied runs of ten words: **{copied}**; target 0: {mark(copied == 0)}",
        f"- `draft` time: {sum(a.seconds for a in articles) / max(len(articles), 1):.2f} s an article on "
        f"average, {slowest:.2f} s at most (reading the store, building the matcher, drafting)",
        f"- `find` over the {lookups.rows} spellings of tests/fixtures/desk/name_variants.tsv "
        "(transliterations, word orders, Arabic and Hebrew script, from the archive and beyond): the right "
        f"record ranked first for **{_share(lookups.first, lookups.rows)}**; target ≥ {TARGETS['find_first']:.0%}: "
        f"{mark(lookups.rows > 0 and lookups.first / lookups.rows >= TARGETS['find_first'])}; "
        f"{lookups.seconds / max(lookups.rows, 1) * 1000:.1f} ms a name, after {lookups.build_seconds:.2f} s "
        "building the matcher",
    ]
    lines += [f"  - missed: {q} (for {r}; first: {b})" for q, r, b in lookups.missed]
    lines += [
        f"- `diff HEAD` on the whole store: **{diff_seconds:.2f} s**; target < {TARGETS['diff_s']:.0f} s: "
        f"{mark(diff_seconds < TARGETS['diff_s'])}",
        "",
    ]
    return "\n".join(lines)
