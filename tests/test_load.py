"""The load harness of `make reliability` (benchmarks/load.py), small: each
kind of costly client against the real `serve`, with the other clients'
answers all served and each server process's memory read before, at its
peak and after."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.load import HOSTILE, MIX, fresh, run_load
from tests.support.site_helpers import serving_process

# Timed or measured against a bound: run apart from the others (make test's serial run).
pytestmark = pytest.mark.serial


@pytest.fixture(scope="module")
def served(hostile_db: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    with serving_process(hostile_db.parent / "sources", hostile_db) as served:
        yield served


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_each_costly_kind_of_client_leaves_the_others_served(served: tuple[str, subprocess.Popen], kind: str) -> None:
    base, process = served
    # Seven browsing clients, each starting at a different page of MIX, so every page is asked;
    # nothing is timed or weighed here, so no warm-up and no wait for the memory to settle.
    result = run_load(
        base, [process.pid], clients=3 + len(MIX), seconds=2, distinct=True, hostile=3, kind=kind, warmup=0, settle=0
    )
    assert result.error_count == 0, result.error_examples
    assert all(result.latencies.get(kind) for kind in MIX)
    assert sum(result.hostile_answers.values()) >= 3, result.hostile_answers
    # How long the others waited is make reliability's figure (docs/reliability.md), not a test's.


def test_distinct_urls_are_not_answered_from_a_cache(served: tuple[str, subprocess.Popen]) -> None:
    """A page asked twice comes the second time from the response cache (it
    carries Age); the same page asked twice through fresh() never does."""
    base, _ = served
    with httpx.Client(base_url=base, timeout=30) as client:
        repeated = [client.get(MIX["table"]) for _ in range(6)]  # one worker of three must see it twice
        assert any("age" in r.headers for r in repeated)
        distinct = [client.get(fresh(MIX["table"])) for _ in range(6)]
        assert all(r.status_code == 200 and "age" not in r.headers for r in distinct)


def test_the_servers_processes_memory_is_read_before_at_peak_and_after(
    served: tuple[str, subprocess.Popen],
) -> None:
    base, process = served
    result = run_load(base, [process.pid], clients=4, seconds=2, warmup=0, settle=1)
    present = [(m.before, m.peak, m.after) for m in result.memory if m.before is not None and m.after is not None]
    assert len(present) >= 2  # serve, uvicorn's supervisor and its workers
    assert all(before > 0 and peak >= before and after > 0 for before, peak, after in present)
    assert process.pid in {m.pid for m in result.memory}
