"""What a process tree uses, read from Linux's /proc in one walk.

Shared by the import benchmark (a build's processes) and the load tests (a
server's workers, or nginx and its `serve` processes): each sample must see
the processes that exist at that moment, since workers are started and
recycled while a run goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def tree_files(pid: int, name: str) -> Iterator[tuple[int, str]]:
    """(pid, /proc/PID/name) of a process and of each of its descendants still running."""
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            text = Path(f"/proc/{current}/{name}").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # it has just ended
            continue
        yield current, text
        pending.extend(int(child) for child in children)


def status_bytes(status: str, field: str) -> int:
    """A memory field of /proc/PID/status (VmRSS:, VmHWM:) in bytes, from its text (0 for a zombie)."""
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith(field)), 0)


def resident(status: str) -> int:
    """VmRSS in bytes, from the text of /proc/PID/status (0 for a zombie)."""
    return status_bytes(status, "VmRSS:")


def high_water(status: str) -> int:
    """VmHWM in bytes, the process's own peak resident memory, from the text
    of /proc/PID/status (0 for a zombie). Unlike getrusage's ru_maxrss, it
    starts afresh at exec: Linux carries the parent's peak into a child's
    ru_maxrss across fork and exec, so a benchmark that has grown would see
    its own peak as its child's."""
    return status_bytes(status, "VmHWM:")


def rss_by_process(pid: int) -> dict[int, int]:
    """Resident bytes of each process of the tree."""
    return {current: resident(status) for current, status in tree_files(pid, "status")}


def rss_of_tree(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    return sum(rss_by_process(pid).values()) / 1024**2


def cpu_of_tree(pid: int) -> float:
    """CPU seconds of a process and all its descendants so far, from /proc,
    with those of its children that have ended and been waited for."""
    # utime, stime, cutime and cstime: fields 14 to 17, counted after the name in parentheses.
    ticks = sum(int(field) for _, stat in tree_files(pid, "stat") for field in stat.rsplit(")", 1)[1].split()[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")
