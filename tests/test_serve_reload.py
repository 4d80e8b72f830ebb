"""serve --reload: a curator's edit to the sources is served a moment later,
and an edit that does not validate is listed in the terminal while the last
good database stays served. A real server on 127.0.0.1, its sources a copy
of the valid fixture edited as a curator would."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.site_helpers import free_port, wait_until_served, worker_pids

MEETING = "2025-08-19-paris-shaibani-dermer"
PARIS = Path("events") / "paris.yml"


@contextmanager
def reloading(sources: Path, db: Path) -> Iterator[tuple[str, Callable[[], str], int]]:
    """`serve --reload` until the block ends, with its workers as `make
    curate` runs it (one): its base URL, what it has printed so far, and its
    process id."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "loader", "serve", "--reload", "--sources", str(sources), "--db", str(db)]
        + ["--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def output() -> str:
        log.seek(0)
        return log.read().decode()

    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_served(f"{base}/-/versions.json", process, 90, output)
        yield base, output, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def title(base: str) -> str:
    with urllib.request.urlopen(f"{base}/events/events/{MEETING}.json?_shape=array") as response:
        return json.load(response)[0]["title"]


def edit(sources: Path, *replacements: tuple[str, str]) -> None:
    """Each (old, new) replaced in one write: two writes may reach the
    watcher as two changes, and a rebuild between them would serve the first."""
    path = sources / PARIS
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def served(base: str, expected: str, output: Callable[[], str], pid: int, old: set[int], timeout: float = 120) -> None:
    """Until every worker serves the expected title: uvicorn's supervisor
    replaces the `old` workers one at a time after the rebuild, so until the
    last is gone one may still serve the old database; then five answers in
    a row, so that a new worker given the old file would still be caught."""
    deadline, seen = time.monotonic() + timeout, 0
    while seen < 5:
        replaced = not old & set(worker_pids(pid))
        seen = seen + 1 if replaced and title(base) == expected else 0
        assert time.monotonic() < deadline, f"{expected!r} not served in {timeout:g} s:\n{output()}"
        time.sleep(0.2)


def test_an_edit_is_served_and_a_bad_one_keeps_the_last_good_database(sources: Path, tmp_path: Path) -> None:
    with reloading(sources, tmp_path / "events.db") as (base, output, pid):
        assert title(base) == "Shaibani and Dermer meet in Paris"
        workers = set(worker_pids(pid))
        assert len(workers) == 1  # every page from the new database once one is
        edit(sources, ("meet in Paris\n", "meet in Paris again\n"))
        served(base, "Shaibani and Dermer meet in Paris again", output, pid, workers)
        assert "reload: the sources changed; rebuilt" in output()

        edit(
            sources,
            ("meet in Paris again\n", "meet in Paris once more\n"),
            ("    place_id: paris\n", "    place_id: pariss\n"),
        )
        deadline = time.monotonic() + 60
        while "still serves the last good database" not in output():
            assert time.monotonic() < deadline, output()
            time.sleep(0.1)
        shown = output()
        assert f"{PARIS}:11: {MEETING}: place_id: 'pariss' is not a known places id (did you mean 'paris'?)" in shown
        assert "reload: 1 problem in 1 file; nothing was written." in shown
        assert title(base) == "Shaibani and Dermer meet in Paris again"

        workers = set(worker_pids(pid))
        edit(sources, ("    place_id: pariss\n", "    place_id: paris\n"))
        served(base, "Shaibani and Dermer meet in Paris once more", output, pid, workers)
