"""A build killed, out of disk or facing a read-only directory never costs
the curator the database they had.

SIGKILL lands at staggered moments of a real build of generated sources:
while it reads them, the moment its temporary file appears, and as that file
grows to its full size. The disk and read-only cases use real file systems:
a small tmpfs that fills up, and one remounted read-only (chmod stops
nothing when the tests run as root).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.crash import (
    DISK_FAULTS,
    KillPoint,
    MountUnavailable,
    Scenario,
    kill_build,
    kill_points,
    rebuild_cleanly,
    refused_write,
    scenario,
)

pytestmark = pytest.mark.slow

EVENTS = 40  # enough for a write of a few hundred kilobytes; the report kills bigger builds


@pytest.fixture(scope="module")
def killing(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return scenario(tmp_path_factory.mktemp("crash"), EVENTS)


@pytest.mark.parametrize("point", kill_points(reading=1, writing=4), ids=KillPoint.describe)
def test_a_killed_build_leaves_a_whole_database_and_the_next_build_cleans_up(
    killing: Scenario, point: KillPoint
) -> None:
    killing.restore_old()
    kill = kill_build(killing.sources, killing.db, point, killing.calibration, killing.allowed)
    if point.phase == "reading":
        assert kill.temporary_size is None and kill.survivor == "old"
    elif point.share < 1:
        assert kill.temporary_size is not None, "the build finished before the kill landed"
        assert kill.left_temporary and kill.survivor == "old"
    assert rebuild_cleanly(killing.sources, killing.db, killing.allowed) == "new"


@pytest.mark.parametrize("fault", DISK_FAULTS)
def test_a_full_disk_or_read_only_directory_keeps_the_old_database(tmp_path: Path, fault: str) -> None:
    try:
        refused_write(tmp_path, fault)
    except MountUnavailable as e:
        pytest.skip(f"cannot mount a tmpfs to fill up or make read-only: {e}")
