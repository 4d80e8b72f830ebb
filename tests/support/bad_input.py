"""Run one bad-input case end to end and check the refusal is one a curator can act on.

A case copies the valid fixture sources and the database they build, breaks
the copy with one mutation, runs `build` over it and then demands: exit code
1, a FILE:LINE message at the place the mutation points to, no traceback,
bounded time (and, in a subprocess, bounded memory), and the previous
database byte for byte as it was, with no temporary file left beside it.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from loader.build.database import build
from loader.cli import cli
from tests.support.mutations import Mutation, Target, Tree

PROJECT = Path(__file__).resolve().parents[2]
VALID = PROJECT / "tests" / "fixtures" / "valid"
PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<rest>.*)$", re.MULTILINE)
BUILD = ["build", "--sources", "sources", "--db", "events.db"]
TIME_LIMIT = 30.0  # seconds for one refused build; the valid fixture builds in well under one
MEMORY_LIMIT = 2 * 1024**3  # address space a refusing build may reserve
RSS_LIMIT = 500 * 1024**2  # resident memory it may actually use


@dataclass
class Outcome:
    exit_code: int
    output: str
    seconds: float
    peak_rss: int | None = None  # bytes; known only for a subprocess
    exception: BaseException | None = None  # what CliRunner caught, other than the exit


def reference_database(directory: Path) -> Path:
    """The database the valid fixtures build: the 'previous events.db' of every case."""
    target = directory / "reference.db"
    build(VALID, target)
    return target


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(directory: Path, arguments: tuple[str, ...] = ()) -> Outcome:
    """In process, through click's test runner: fast enough for hundreds of cases."""
    started = time.perf_counter()
    previous = Path.cwd()
    os.chdir(directory)
    try:
        result = CliRunner().invoke(cli, [*BUILD, *arguments])
    finally:
        os.chdir(previous)
    caught = None if isinstance(result.exception, SystemExit) else result.exception
    return Outcome(result.exit_code, result.output, time.perf_counter() - started, exception=caught)


def run_subprocess(directory: Path, arguments: tuple[str, ...] = (), time_limit: float = TIME_LIMIT) -> Outcome:
    """`python -m loader build` as a curator runs it, with a cap on memory and
    a watchdog on time (twice time_limit), measuring its peak resident memory
    (through tests/support/peak_memory.py, which says why)."""
    started = time.perf_counter()
    log = directory / "output.txt"
    peak = directory / "peak-rss.txt"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    command = [sys.executable, "-m", "loader", *BUILD, *arguments]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.peak_memory", str(MEMORY_LIMIT), str(peak), *command],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # the watchdog kills the build with the process that started it
        )
        watchdog = threading.Timer(2 * time_limit, os.killpg, (process.pid, signal.SIGKILL))
        watchdog.start()
        try:
            process.wait()
        finally:
            watchdog.cancel()
    return Outcome(
        process.returncode,
        log.read_text(encoding="utf-8", errors="replace"),
        time.perf_counter() - started,
        peak_rss=int(peak.read_text(encoding="utf-8")) if peak.exists() else None,
    )


def check_refused(outcome: Outcome, target: Target, directory: Path, previous: str) -> None:
    """Everything a refused build owes the curator; raises AssertionError saying what is missing."""
    shown = outcome.output[-3000:]
    assert outcome.exception is None, f"crashed with {outcome.exception!r}:\n{shown}"
    assert "Traceback" not in outcome.output, f"printed a traceback:\n{shown}"
    assert outcome.exit_code == 1, f"exit code {outcome.exit_code}, not 1:\n{shown}"
    assert outcome.seconds < TIME_LIMIT, f"took {outcome.seconds:.1f} s"
    if outcome.peak_rss is not None:
        assert outcome.peak_rss < RSS_LIMIT, f"used {outcome.peak_rss / 1024**2:.0f} MB"
    expected_file = (directory / "sources" / target.file).resolve()
    pointed = []
    for match in PROBLEM.finditer(outcome.output):
        if (directory / match["file"]).resolve() != expected_file:
            continue
        pointed.append(match.group(0)[:300])
        if int(match["line"]) in target.lines and (
            target.record is None
            # the record's label, alone or before a part of it ("syria aliases[0]: ")
            or any(re.match(rf"(.* )?{re.escape(name)}(: | [^ :]+: )", match["rest"]) for name in target.record)
        ):
            break
    else:
        raise AssertionError(f"no message points to {target.describe()}; got:\n" + "\n".join(pointed or [shown]))
    db = directory / "events.db"
    assert digest(db) == previous, "the previous events.db was changed"
    leftovers = sorted(p.name for p in directory.iterdir() if p.name.startswith(".events.db"))
    assert not leftovers, f"left temporary files: {leftovers}"


def run_case(
    mutation: Mutation, rnd: random.Random, directory: Path, reference: Path, subprocess_: bool = False
) -> Outcome:
    """Break a fresh copy of the valid sources, build over the reference database, check the refusal."""
    sources = directory / "sources"
    shutil.copytree(VALID, sources)
    shutil.copyfile(reference, directory / "events.db")
    target = mutation.apply(Tree(sources), rnd)
    outcome = (run_subprocess if subprocess_ else run_cli)(directory, target.arguments)
    check_refused(outcome, target, directory, digest(reference))
    return outcome
