"""Write a validated dataset to disk so that no reader ever sees half a database.

Datasette may be serving the previous file, and a curator's typo must never
cost anyone the database they had: the new database is written to a
temporary file beside the target and renamed over it only once it is
complete and checked. A build killed midway leaves only that temporary file,
which the next build removes.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
import sqlite_utils

from . import PROJECT_ROOT
from .sources import DEFAULT_SOURCES, Dataset, display_path, validate

DEFAULT_DB = PROJECT_ROOT / "events.db"


def finish(dataset: Dataset) -> None:
    """Create what schema.sql builds once the rows are in, then prove the result sound."""
    db = dataset.db
    db.executescript(dataset.schema.after_load_sql)
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise click.ClickException(f"foreign key check failed after loading: {broken[:5]}")
    integrity = db.execute("PRAGMA integrity_check").fetchall()
    if integrity != [("ok",)]:
        raise click.ClickException(f"integrity check failed after loading: {integrity[:5]}")


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}.build-"


@contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the target's directory for the length of a
    write, so that two builds never race and stale temporary files can be
    told apart from a live one."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise click.ClickException(
                f"another build is writing into {display_path(directory)}; try again when it has finished"
            ) from None
        yield
    finally:
        os.close(fd)


SQLITE_SIDECARS = ("-journal", "-wal", "-shm")


def _remove_with_sidecars(temporary: Path) -> None:
    """A killed or failed write can leave SQLite's journal of the temporary
    database beside it; it must go too, or it piles up, and would be replayed
    into any later temporary file that happened to get the same name."""
    for suffix in ("", *SQLITE_SIDECARS):
        Path(f"{temporary}{suffix}").unlink(missing_ok=True)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Temporary files left by a build that was killed; only call under build_lock."""
    stale = sorted(target.parent.glob(_temporary_prefix(target) + "*.tmp*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _file_mode(target: Path) -> int:
    """Keep the old database's permissions; a new one gets the umask's (mkstemp makes 0600)."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(db: sqlite_utils.Database, target: Path) -> None:
    """Copy a finished database to target, replacing the old file in one rename."""
    directory = target.parent
    if not directory.is_dir():
        raise click.ClickException(f"{display_path(directory)}: no such directory for the database")
    try:
        with build_lock(directory):
            remove_stale_temporaries(target)
            fd, name = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=".tmp", dir=directory)
            os.close(fd)
            temporary = Path(name)
            try:
                os.chmod(temporary, _file_mode(target))
                # VACUUM INTO writes a compact copy whose bytes depend only on
                # the content, so identical sources give identical files.
                db.execute("VACUUM INTO ?", [str(temporary)])
                with open(temporary, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(temporary, target)
                _fsync_directory(directory)
            except BaseException:
                _remove_with_sidecars(temporary)
                raise
    except (OSError, sqlite3.Error) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise click.ClickException(
            f"could not write {display_path(target)}: {reason}; the previous database is untouched"
        ) from None


def build(sources: Path = DEFAULT_SOURCES, target: Path = DEFAULT_DB) -> Dataset:
    """Validate the sources and replace the database with what they hold."""
    dataset = validate(sources)
    finish(dataset)
    write_atomically(dataset.db, target)
    return dataset
