"""When a worker gives memory back (loader/site/plugins/memory_release.py):
after a request that grew it, once it is idle, and while it stays busy at
most once every few seconds, since each release stops its event loop."""

from __future__ import annotations

import asyncio
import mmap

import pytest

from loader.site.plugins import memory_release
from loader.site.plugins.memory_release import BUSY_RELEASE_SECONDS, GROWTH_BYTES, RELEASE_DELAY_SECONDS, Releaser

pytestmark = pytest.mark.skipif(not memory_release.resident_bytes(), reason="needs /proc/self/statm")


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The times the releaser asked for a release (the real one, a full
    collection and malloc_trim, is measured by tests/test_memory_bound.py)."""
    calls: list[float] = []
    monkeypatch.setattr(memory_release, "release", lambda: calls.append(asyncio.get_running_loop().time()))
    return calls


def grown() -> mmap.mmap:
    """Memory the process really holds: fresh pages of its own, each written,
    so resident (memory from the heap may reuse pages an earlier test freed)."""
    pages = mmap.mmap(-1, 2 * GROWTH_BYTES)
    for offset in range(0, len(pages), mmap.PAGESIZE):
        pages[offset] = 1
    return pages


def test_an_idle_worker_releases_after_a_request_that_grew_it(releases: list[float]) -> None:
    async def scenario() -> None:
        releaser = Releaser()
        releaser.begin()
        held = grown()
        releaser.end()
        await asyncio.sleep(RELEASE_DELAY_SECONDS * 3)
        del held

    asyncio.run(scenario())
    assert len(releases) == 1


def test_a_small_request_releases_nothing(releases: list[float]) -> None:
    async def scenario() -> None:
        releaser = Releaser()
        releaser.begin()
        releaser.end()
        await asyncio.sleep(RELEASE_DELAY_SECONDS * 3)

    asyncio.run(scenario())
    assert releases == []


def test_a_busy_worker_releases_at_most_every_few_seconds(releases: list[float]) -> None:
    async def scenario() -> None:
        releaser = Releaser()
        releaser.begin()  # a long answer keeps the worker busy throughout
        held: list[mmap.mmap] = []
        for _ in range(4):  # requests that each grow it, answered one after another beside it
            releaser.begin()
            held.append(grown())
            releaser.end()
            await asyncio.sleep(RELEASE_DELAY_SECONDS * 3)
        busy = len(releases)
        releaser.end()  # idle at last: what it grew since is given back now
        await asyncio.sleep(RELEASE_DELAY_SECONDS * 3)
        assert busy == 1
        del held

    asyncio.run(scenario())
    assert len(releases) == 2
    assert releases[1] - releases[0] < BUSY_RELEASE_SECONDS  # the idle one waits for no interval
