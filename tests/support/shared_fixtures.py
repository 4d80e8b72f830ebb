"""Fixture files made once for a whole test run, however many workers run it.

pytest-xdist gives each worker a session of its own, so a session fixture
runs once a worker: `make test`'s three workers built each shared database
three times over, and the wheel as often. pytest-xdist's documentation
("Making session-scoped fixtures execute only once") has the first worker
make it in the directory the workers share, under a lock, and the others
wait for it and take it. Its recipe locks with the filelock package;
fcntl.flock, which the project's own locks use, is the same lock on Linux.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def made_once(factory: pytest.TempPathFactory, worker_id: str, name: str, make: Callable[[Path], Path]) -> Path:
    """What make(directory) returned (a path in directory), made by the first
    worker to ask, in a directory called name that every worker of the run
    shares; a worker that asks meanwhile waits for it. Whoever takes it must
    not change it, as with any session fixture. worker_id is pytest-xdist's
    fixture of that name: "master" in a run without workers (a pytest that a
    test starts inherits its worker's environment, so that cannot tell)."""
    root = factory.getbasetemp()
    if worker_id != "master":  # each worker's base is a folder of the run's
        root = root.parent
    directory, made = root / name, root / f"{name}.made"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released as the file closes
        if not made.exists():
            shutil.rmtree(directory, ignore_errors=True)  # what a failed make left
            directory.mkdir()
            made.write_text(str(make(directory).relative_to(directory)))
    return directory / made.read_text()
