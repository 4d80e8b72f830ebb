"""Which sources a database was built from, read from git rather than the clock.

A citation names a version, and a reader checking it needs to know exactly
which records it holds. So every build writes one row into
`dataset_release`: the commit the sources were read at and the date of the
newest commit that touched them. Both come from the repository (or, outside a
checkout, from the newest source file's modification date), never from the
time of the build, so that two builds of the same sources stay byte-identical.
The `release` command gives the row a version and a release date; a plain
build of sources that a release was cut from (the same commit, or a later one
that changed only the release's bookkeeping) takes that release's version and
date from sources/releases.tsv, so that `make serve` right after `make release`
cites the release rather than calling it unreleased.

The version scheme is date-based, `YYYY.MM.DD`, the day the release was cut
from; a second release on the same day adds `.2`, `.3`, and so on. A plain
build of any other sources, uncommitted changes included, is `unreleased`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from ..records.published import PUBLISHED_IDS, RELEASES, Release, releases
from ..records.sources import source_files
from ..schema import SCHEMA_PATH

UNRELEASED = "unreleased"


@dataclass(frozen=True)
class SourceVersion:
    """Where a build's sources come from; built_from is None outside a git checkout."""

    built_from: str | None
    sources_date: str
    committed: str | None = None  # the date and time of HEAD, ISO 8601 in UTC

    @property
    def in_checkout(self) -> bool:
        return self.built_from is not None


def git(directory: Path, *args: str) -> str | None:
    """Run git in directory; None when git is missing or the directory is not in a repository.

    Dates are asked for in UTC, so the same commit gives the same date on
    every machine.
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            env={**os.environ, "TZ": "UTC", "GIT_OPTIONAL_LOCKS": "0"},
            check=False,
        )
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def _newest_file_date(sources: Path) -> str:
    paths = [SCHEMA_PATH, *source_files(sources)]
    newest = max(path.stat().st_mtime for path in paths)
    return datetime.fromtimestamp(newest, timezone.utc).date().isoformat()


def source_version(sources: Path) -> SourceVersion:
    """The commit the sources are read at and the date of the newest commit
    touching them; a checkout with uncommitted changes to the sources is
    marked '-dirty' after the commit, as `git describe --dirty` does."""
    head = git(sources, "log", "-1", "--format=%H %cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ", "HEAD")
    if not head:
        return SourceVersion(None, _newest_file_date(sources))
    head, committed = head.split()
    paths = _source_paths(sources)
    date = git(sources, "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d", "--", *paths)
    dirty = git(sources, "status", "--porcelain", "--untracked-files=normal", "--", *paths)
    commit = head + ("-dirty" if dirty else "")
    return SourceVersion(commit, (date or "").strip() or _newest_file_date(sources), committed)


def _source_paths(sources: Path) -> list[str]:
    """The git pathspecs of what counts as the sources: the sources folder, and
    schema.sql when it is in the same repository; the bookkeeping that
    `release` appends to does not count, so that releasing (and committing
    that bookkeeping) leaves the sources as they were."""
    paths = [".", *(f":(exclude){name}" for name in (PUBLISHED_IDS, RELEASES))]
    if git(sources, "ls-files", "--error-unmatch", str(SCHEMA_PATH)):
        paths.append(str(SCHEMA_PATH))
    return paths


def release_of(sources: Path, version: SourceVersion) -> Release | None:
    """The newest release in sources/releases.tsv cut from exactly these
    sources: from the commit they are read at, or from an earlier commit
    whose sources are the same (the commit that added the release's own
    bookkeeping changes nothing else). None for uncommitted changes, outside
    a checkout, or when no release holds them."""
    if not version.built_from or version.built_from.endswith("-dirty"):
        return None
    paths = _source_paths(sources)
    for cut in reversed(releases(sources)):
        if not cut.commit or cut.commit.endswith("-dirty"):
            continue
        # `git diff --quiet` fails (None here) when they differ or the commit is unknown.
        if (
            cut.commit == version.built_from
            or git(sources, "diff", "--quiet", cut.commit, "HEAD", "--", *paths) is not None
        ):
            return cut
    return None


def record_version(db: sqlite_utils.Database, sources: Path) -> SourceVersion:
    """Write the one row of dataset_release for a plain build: unreleased,
    unless a release was cut from the same sources."""
    version = source_version(sources)
    cut = release_of(sources, version)
    with db.atomic():
        db.execute("DELETE FROM dataset_release")
        db.execute(
            "INSERT INTO dataset_release (version, released, built_from, sources_date) VALUES (?, ?, ?, ?)",
            [
                cut.version if cut else UNRELEASED,
                cut.released if cut else None,
                version.built_from,
                version.sources_date,
            ],
        )
    return version


def stamp_release(db: sqlite_utils.Database, version: str, released: str) -> None:
    """Give a built database its release's version and date."""
    with db.atomic():
        db.execute("UPDATE dataset_release SET version = ?, released = ?", [version, released])
