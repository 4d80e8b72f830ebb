"""Kill a build while it writes, fill its disk, make its directory read-only,
and check what is left: the previous database, whole, or the new one, whole.

Nothing in the loader is told about the test: a kill is timed from the
outside, by watching the build's temporary file appear beside the database
and grow, and SIGKILL lands when it has reached a given share of its final
size. So the points are real moments of a real write, and the leftover
temporary file after each kill shows it landed mid-write.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import generate
from loader.build.database import build
from loader.files import connect_readonly

PROJECT = Path(__file__).resolve().parents[2]
WORDS = (
    "talks envoy border ceasefire delegation security withdrawal buffer zone agreement "
    "mediation minister statement golan quneitra sweida paris damascus jerusalem"
).split()


def generate_sources(directory: Path, events: int, variant: int = 0, words: int = 120) -> Path:
    """A valid sources tree of `events` events, each citing its own document.
    Another variant gives other text, so the database it builds differs."""
    rnd = random.Random(variant)

    def text(count: int) -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(count))

    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "event_types:",
        "  - {code: meeting, label: Meeting, description: Officials meet., plover: CONSULT, cameo: '043'}",
        "places:",
        "  - {id: paris, name: Paris, kind: city, country_code: FR, latitude: 48.85, longitude: 2.35, geo_precision: locality}",
        "actors:",
        "  - {id: syria, name: Syria, kind: state, country_code: SY}",
        "  - {id: israel, name: Israel, kind: state, country_code: IL}",
        "documents:",
        *(
            f"  - {{id: doc-{i}, title: {text(6)}, outlet: Wire {i % 7}, archive_ref: doc-{i}.txt, "
            f"archive_sha256: '{i:064x}', date_paragraphs: []}}"
            for i in range(events)
        ),
        "events:",
    ]
    for i in range(events):
        day = 1 + i % 28
        lines += [
            f"  - id: event-{variant}-{i}",
            f"    title: {text(8)}",
            f"    summary: {text(words)}",
            "    event_type: meeting",
            f"    start_date: 2025-{1 + i % 12:02d}-{day:02d}",
            f"    end_date: 2025-{1 + i % 12:02d}-{day:02d}",
            "    date_precision: day",
            "    place_id: paris",
            "    actors:",
            "      - {actor_id: syria, role: participant}",
            "      - {actor_id: israel, role: participant}",
            "    documents:",
            f"      - {{document_id: doc-{i}, paragraphs: ['1:{i:08x}']}}",
        ]
    (directory / "generated.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(db: Path) -> list[Path]:
    return sorted(db.parent.glob(f".{db.name}.*"))


def check_database(db: Path, allowed: dict[str, str]) -> str:
    """The database must open, pass SQLite's own checks and be, byte for
    byte, one of the allowed databases; returns which one it is."""
    conn = connect_readonly(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    finally:
        conn.close()
    found = digest(db)
    names = [name for name, value in allowed.items() if value == found]
    assert names, f"{db.name} is neither of {sorted(allowed)}"
    return names[0]


def build_command(sources: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "loader", "build", "--sources", str(sources), "--db", str(db)]


def _start(sources: Path, db: Path, preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen(
        build_command(sources, db),
        cwd=db.parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        preexec_fn=preexec_fn,
    )


@dataclass(frozen=True)
class Calibration:
    until_write: float  # seconds from start until the temporary file appears
    final_size: int  # bytes of the finished database


def calibrate(sources: Path, db: Path) -> Calibration:
    """Time uninterrupted builds, to place the kill points: the quicker of
    two, since the first also fills the byte-code and file caches, and a kill
    placed by a slow build lands after a fast one has finished."""
    first, second = calibrate_once(sources, db), calibrate_once(sources, db)
    return min(first, second, key=lambda c: c.until_write)


def calibrate_once(sources: Path, db: Path) -> Calibration:
    started = time.perf_counter()
    process = _start(sources, db)
    appeared = None
    while process.poll() is None:
        if appeared is None and temporaries(db):
            appeared = time.perf_counter() - started
        time.sleep(0.0002)
    _, errors = process.communicate()
    assert process.returncode == 0, errors.decode()
    return Calibration(appeared or time.perf_counter() - started, db.stat().st_size)


@dataclass(frozen=True)
class KillPoint:
    """When to kill: a share of the time before the write starts, or the
    share of the final size the temporary file has reached."""

    phase: str  # "reading" or "writing"
    share: float

    def describe(self) -> str:
        if self.phase == "reading":
            return f"while reading the sources, {self.share:.0%} of the way to the write"
        return f"while writing, the temporary file at {self.share:.0%} of the database's size"


@dataclass(frozen=True)
class Kill:
    point: KillPoint
    at_seconds: float
    temporary_size: int | None  # None: there was no temporary file when the kill landed
    left_temporary: bool
    survivor: str  # which database was found afterwards: "old" or "new"


def _temporary_size(db: Path) -> int | None:
    for path in temporaries(db):
        try:
            return path.stat().st_size
        except FileNotFoundError:  # renamed or removed between listing and stat
            pass
    return None


def kill_build(sources: Path, db: Path, point: KillPoint, calibration: Calibration, allowed: dict[str, str]) -> Kill:
    """Start a build, SIGKILL it at the point, and check what it left."""
    started = time.perf_counter()
    process = _start(sources, db)
    size = None
    while process.poll() is None:
        elapsed = time.perf_counter() - started
        size = _temporary_size(db)
        if point.phase == "reading" and elapsed >= point.share * calibration.until_write:
            break
        if point.phase == "writing" and size is not None and size >= point.share * calibration.final_size:
            break
        time.sleep(0.0001)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    left = bool(temporaries(db))
    return Kill(point, time.perf_counter() - started, size, left, check_database(db, allowed))


def rebuild_cleanly(sources: Path, db: Path, allowed: dict[str, str]) -> str:
    """The build after a crash succeeds, cleans up, and writes the new database."""
    result = subprocess.run(
        build_command(sources, db),
        cwd=db.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert temporaries(db) == [], temporaries(db)
    return check_database(db, allowed)


def kill_points(reading: int, writing: int) -> list[KillPoint]:
    """Points spread evenly over each phase, from the start of the process to the finished file."""
    return [KillPoint("reading", (i + 1) / (reading + 1)) for i in range(reading)] + [
        KillPoint("writing", i / max(writing - 1, 1)) for i in range(writing)
    ]


@dataclass
class Scenario:
    """A directory holding the old database, sources for a new one, and the digests of both."""

    directory: Path
    sources: Path
    db: Path
    old: bytes
    allowed: dict[str, str]
    calibration: Calibration

    def restore_old(self) -> None:
        """Put the old database back, as before a build, with nothing beside it."""
        for path in temporaries(self.db):
            path.unlink()
        self.db.write_bytes(self.old)


def scenario(directory: Path, events: int) -> Scenario:
    """Build the old database from one variant of generated sources and,
    elsewhere, the new one from another; the digests say which is which."""
    old_sources = generate_sources(directory / "old-sources", events, variant=0)
    new_sources = generate_sources(directory / "sources", events, variant=1)
    reference = directory / "reference"
    reference.mkdir()
    calibration = calibrate(new_sources, reference / "events.db")
    site = directory / "site"
    site.mkdir()
    db = site / "events.db"
    build(old_sources, db)
    allowed = {"old": digest(db), "new": digest(reference / "events.db")}
    return Scenario(directory, new_sources, db, db.read_bytes(), allowed, calibration)


class MountUnavailable(Exception):
    """This machine will not let the test mount a file system (not root, or no CAP_SYS_ADMIN)."""


@contextmanager
def tmpfs(path: Path, size: int) -> Iterator[Path]:
    """A small RAM file system at path: a real 'disk' that fills up or goes read-only."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise MountUnavailable(result.stderr.strip() or f"mount exited {result.returncode}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


# What stops the write, and what the curator must be told.
DISK_FAULTS = {
    "full disk": "database or disk is full",
    "full disk during an import": "database or disk is full",
    "read-only directory": "Read-only file system",
}


def refused_write(directory: Path, fault: str) -> str:
    """Build over an old database on a 1 MB tmpfs that is too small for the
    new one, or remounted read-only; the build must fail with a clear
    message and keep the old database. Returns that message."""
    with tmpfs(directory / "disk", 1024 * 1024) as disk:
        db = disk / "events.db"
        build(generate_sources(directory / "old", 2, variant=0), db)
        before = digest(db)
        sources = generate_sources(directory / "new", 400 if fault == "full disk" else 2, variant=1)
        command = build_command(sources, db)
        if fault == "full disk during an import":  # the sources fit; the imported rows do not
            command += ["--import", str(generate(directory / "acled.csv", 5_000))]
        if fault == "read-only directory":
            remount_read_only(disk)
        result = subprocess.run(
            command,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
            timeout=300,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert "could not write" in result.stderr and "previous database is untouched" in result.stderr, result.stderr
        assert DISK_FAULTS[fault] in result.stderr, result.stderr
        assert check_database(db, {"old": before}) == "old"
        assert temporaries(db) == []
        return result.stderr.strip().splitlines()[-1].replace(str(db), "events.db")
