"""Write a validated dataset to disk so that no reader ever sees half a database.

Datasette may be serving the previous file, and a curator's typo must never
cost anyone the database they had: the new database is written to a
temporary file beside the target and renamed over it only once it is
complete and checked. A build killed midway leaves only that temporary file,
which the next build removes.

Large files imported beside the curated sources (`build --import`) are
written straight into that temporary file rather than through memory, and
are recorded in it, so that the next build or serve imports them again
instead of silently dropping them.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .. import DATABASE_FILE, PROJECT_ROOT
from ..errors import BuildLocked, LoaderError, ReplaceFailed
from ..files import connect_readonly
from ..imports.importer import Importer, ImportReport, ImportSpec, Progress
from ..imports.reconcile import reconcile
from ..problems import display_path
from ..records.archive import Archive
from ..records.published import write_releases
from ..records.sources import DEFAULT_SOURCES, Dataset, validate
from .compare import only_in
from .facet_counts import count_facets
from .history import write_history
from .map_cells import cluster_places
from .timings import Timings
from .version import SourceVersion, record_version

DEFAULT_DB = PROJECT_ROOT / DATABASE_FILE
# For the file a build writes: no journal, since nothing is ever rolled back
# (a failed build deletes the file, and an import resumes after a refused
# row); no syncing as it goes, since the finished file is synced once; and a
# page cache of 12 MB. SQLite also sizes each index's sort by the page cache,
# and holds about twice it while sorting: with 32 MB a build of 100,000
# events peaked at 200 MB while its indexes were made, with 8 MB at 138 MB;
# with 16 MB a build of a million peaked at 200 MB, with 12 MB at 178 MB in
# no more time.
WRITE_PRAGMAS = ("PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", "PRAGMA cache_size = -12288")


@dataclass
class Steps(Timings):
    """The build's timings, which also tell progress of each step as it
    begins, so that every step a build times is one its caller sees."""

    progress: Progress | None = None

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.progress:
            self.progress.step(name)
        with super().step(name):
            yield


@dataclass
class Build(Dataset):
    """The curated dataset, and what each import added to the written database."""

    imports: list[ImportReport] = field(default_factory=list)
    version: SourceVersion | None = None
    timings: Timings = field(default_factory=Timings)


def count_and_check(db: sqlite_utils.Database, timings: Timings | None = None) -> None:
    """Count what the pages read at scale, and prove the finished file sound.

    The full integrity check, which also matches every index against its
    table, is the promise that nothing published was written wrong, and it
    reads the whole file: so it runs once every other table is written, on a
    connection of its own beside the counting of facets and map cells, which
    write nothing to the file until the check has finished; the two tables
    they fill are then checked in turn."""
    timings = timings or Timings()
    (path,) = (file for _, name, file in db.execute("PRAGMA database_list") if name == "main")
    with timings.step("facet counts and map cells, beside the integrity check"), ThreadPoolExecutor(1) as pool:
        checked = pool.submit(integrity_check, Path(path))
        with db.atomic():
            count_facets(db)
            cluster_places(db)
            integrity = checked.result()  # before committing, which needs the file to itself
    with timings.step("foreign key check, and the integrity check of the counts"):
        broken = db.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise LoaderError(f"foreign key check failed after loading: {broken[:5]}")
        for table in ("facet_counts", "map_cells"):
            if integrity == [("ok",)]:
                integrity = db.execute(f"PRAGMA integrity_check([{table}])").fetchall()
    if integrity != [("ok",)]:
        raise LoaderError(f"integrity check failed after loading: {integrity[:5]}")


def integrity_check(path: Path) -> list[tuple]:
    conn = connect_readonly(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


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
            raise BuildLocked(
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


@contextmanager
def atomic_replace(target: Path) -> Iterator[Path]:
    """Yield a temporary file beside target for the caller to write the new
    database into; once the block ends without error, make it durable and
    rename it over target in one step. Any failure leaves target untouched."""
    directory = target.parent
    if not directory.is_dir():
        raise ReplaceFailed(f"{display_path(directory)}: no such directory for the database")
    try:
        with build_lock(directory):
            remove_stale_temporaries(target)
            fd, name = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=".tmp", dir=directory)
            os.close(fd)
            temporary = Path(name)
            try:
                os.chmod(temporary, _file_mode(target))
                yield temporary
                with open(temporary, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(temporary, target)
                _fsync_directory(directory)
            except BaseException:
                _remove_with_sidecars(temporary)
                raise
    except (OSError, sqlite3.Error) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ReplaceFailed(
            f"could not write {display_path(target)}: {reason}; the previous database is untouched"
        ) from None


def recorded_imports(db: Path) -> list[ImportSpec]:
    """The imports an existing database was built with, relative paths
    resolved against its directory; none if it has no record of any."""
    if not db.exists():
        return []
    conn = connect_readonly(db)
    try:
        rows = conn.execute("SELECT origin, path, skip_invalid FROM imports ORDER BY rowid").fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [ImportSpec(db.parent / path, origin, bool(skip)) for origin, path, skip in rows]


def planned_imports(target: Path, given: Sequence[ImportSpec], drop_recorded: bool) -> list[ImportSpec]:
    """What to import: the imports target was built with (unless dropped),
    each replaced by a newly given file of the same origin, then the new ones."""
    plan = {spec.origin: spec for spec in ([] if drop_recorded else recorded_imports(target))}
    plan.update((spec.origin, spec) for spec in given)
    for spec in plan.values():
        if not spec.path.is_file():
            hint = (
                f"; {display_path(target)} was built with it: pass --import {spec.origin}=FILE "
                "to import another file in its place, or --drop-imports to build without it"
                if spec not in given
                else ""
            )
            raise LoaderError(f"{display_path(spec.path)}: no such file to import{hint}")
    return list(plan.values())


def _relative_path(path: Path, directory: Path) -> str:
    try:
        return os.path.relpath(path.absolute(), directory.absolute())
    except ValueError:  # another drive
        return str(path.absolute())


def build(
    sources: Path = DEFAULT_SOURCES,
    target: Path = DEFAULT_DB,
    imports: Sequence[ImportSpec] = (),
    drop_imports: bool = False,
    progress: Progress | None = None,
    archive: Archive | None = None,
) -> Build:
    """Validate the sources (their locators against the archive, when one is
    given) and replace the database with what they hold, together with the
    imports it was built with and any given now, telling progress (if given)
    of each step and of each import's rows."""
    timings = Steps(progress=progress)
    with timings.step("validating the sources"):
        dataset = validate(sources, archive=archive)
        plan = planned_imports(target, imports, drop_imports)
    result = Build(dataset.schema, dataset.db, dataset.files, archive=dataset.archive, timings=timings)
    with atomic_replace(target) as temporary:
        # VACUUM INTO writes a copy whose bytes depend only on the content,
        # so identical sources (and imports) give identical files.
        dataset.db.execute("VACUUM INTO ?", [str(temporary)])
        db = sqlite_utils.Database(temporary)
        try:
            for pragma in WRITE_PRAGMAS:
                db.execute(pragma)
            with db.atomic():
                with timings.step("importing (reading and mapping beside writing)"):
                    result.imports = [Importer(db, dataset.schema, spec).run(progress) for spec in plan]
                with timings.step("reconciling with the curated places and actors"):
                    reconciled = reconcile(db, dataset.db, dataset.schema)
            with timings.step("indexes and full-text indexes (schema.sql's after-load part)"):
                db.executescript(dataset.schema.after_load_sql)
            with timings.step("version, history, releases, the record of imports and changes"):
                result.version = record_version(db, sources)
                write_history(db, sources, dataset.schema)
                write_releases(db, sources)
                with db.atomic():
                    db.table("imports").insert_all(
                        {
                            "origin": report.spec.origin,
                            "path": _relative_path(report.spec.path, target.parent),
                            "format": report.format,
                            "sha256": report.sha256,
                            "skip_invalid": int(report.spec.skip_invalid),
                            "events": report.events,
                            "skipped": report.skipped,
                        }
                        for report in result.imports
                    )
                    reconciled.write(db)
            # Last, so that every table is counted and checked as it is published.
            count_and_check(db, timings)
            for report in result.imports:
                report.changes = changes_since(db, target, report.spec.origin)
        finally:
            db.close()
    return result


def changes_since(db: sqlite_utils.Database, previous: Path, origin: str) -> tuple[int, int, int] | None:
    """How an origin's events differ from those in the database being
    replaced: (added, changed, removed), compared by their stable ids; an
    event counts as changed when any of its fields, actors or sources did.
    None when there is nothing to compare with."""
    if not previous.exists():
        return None
    db.execute("ATTACH DATABASE ? AS previous", [str(previous.absolute())])
    try:
        if not db.execute("SELECT 1 FROM previous.events WHERE origin = ? LIMIT 1", [origin]).fetchone():
            return None
        ours = "t.origin = :origin"
        (added,) = db.execute(
            f"SELECT count(*) FROM ({only_in('main', 'previous', 'events', ['id'], ours)})", {"origin": origin}
        ).fetchone()
        (removed,) = db.execute(
            f"SELECT count(*) FROM ({only_in('previous', 'main', 'events', ['id'], ours)})", {"origin": origin}
        ).fetchone()
        differing = " UNION ".join(
            f"SELECT {key} FROM (SELECT t.* FROM {a}.{table} AS t JOIN {a}.events AS e ON e.id = t.{key} WHERE e.origin = :origin"
            f" EXCEPT SELECT t.* FROM {b}.{table} AS t JOIN {b}.events AS e ON e.id = t.{key} WHERE e.origin = :origin)"
            for table, key in (("events", "id"), ("event_actors", "event_id"), ("event_documents", "event_id"))
            for a, b in (("main", "previous"), ("previous", "main"))
        )
        (changed,) = db.execute(
            f"SELECT count(*) FROM ({differing})"
            " WHERE id IN (SELECT id FROM main.events) AND id IN (SELECT id FROM previous.events)",
            {"origin": origin},
        ).fetchone()
        return added, changed, removed
    except sqlite3.Error:  # the previous database has another schema
        return None
    finally:
        db.execute("DETACH DATABASE previous")
