"""Publish the database with Datasette, rebuilding it first when the sources changed.

`make serve` should always show what is in sources/ now, yet a restart should
not pay for a rebuild it does not need, so the database is rebuilt only when
it is missing or older than anything it is made from.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import PROJECT_ROOT
from .build import build
from .schema import SCHEMA_PATH
from .sources import source_files

METADATA_PATH = PROJECT_ROOT / "metadata.yml"


def inputs(sources: Path) -> list[Path]:
    """Everything a build reads; directories count, since deleting a file only touches its directory."""
    directories = [sources, *(p for p in sources.rglob("*") if p.is_dir())]
    return [SCHEMA_PATH, *directories, *source_files(sources)]


def is_stale(db: Path, sources: Path) -> bool:
    if not db.exists():
        return True
    built = db.stat().st_mtime
    return any(path.stat().st_mtime > built for path in inputs(sources))


def datasette_command(db: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The Datasette command line that serves db: immutable, with the project's metadata."""
    return [
        sys.executable, "-m", "datasette", "serve",
        "--immutable", str(db),
        "--metadata", str(METADATA_PATH),
        "--host", host,
        "--port", str(port),
    ]


def serve(db: Path, sources: Path, port: int) -> None:
    """Build if needed, then replace this process with Datasette."""
    if is_stale(db, sources):
        build(sources, db)
    command = datasette_command(db, port)
    os.execv(command[0], command)
