"""Cut a citable release: `dist/event-store-<version>/` with the database,
every table as CSV and Parquet, the event tables as Parquet partitioned by
year, GeoJSON, a Data Package, a citation, the
changes since the previous release, and checksums over it all.

A release is written into a temporary directory beside its target and
renamed into place only when complete, so a failed release leaves the
previous one as it was. Everything in it depends only on the sources, the
imports and the version, except the release date (`released`: in the
dataset_release and releases tables, their CSV and Parquet, datapackage.json's `created`,
CITATION.cff's `date-released` and the README): two releases of the same
commit differ in that field alone, and not at all when it is given the same
value (`--released`, or SOURCE_DATE_EPOCH as reproducible builds set it).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from .. import DATABASE_FILE, DATABASE_NAME
from ..build.database import DEFAULT_DB, build, recorded_imports
from ..build.version import git, release_of, source_version, stamp_release
from ..citation import metadata_permalink
from ..errors import InvalidSources, LoaderError
from ..files import connect_readonly, sha256_file
from ..metadata import read_metadata
from ..problems import display_path
from ..records.published import Release, record_release, releases, write_releases
from ..records.sources import DEFAULT_SOURCES, validate
from ..schema import read_schema
from . import CHECKSUMS, DIST
from .changes import Changes, compare, to_markdown
from .datapackage import Licence, citation_cff, data_package, release_readme, write_json
from .exports import (
    PARTITIONED,
    data_tables,
    describe,
    write_csv,
    write_duckdb_script,
    write_geojson,
    write_parquet,
    write_partitioned,
)

NAME = "event-store"
VERSION = re.compile(r"^\d{4}\.\d{2}\.\d{2}(\.\d+)?$")
LICENCE = Licence(
    "CC-BY-4.0", "Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"
)


class ReleaseError(LoaderError):
    """A release that cannot be cut as asked."""


@dataclass
class ReleaseResult:
    directory: Path
    version: str
    released: str
    changes: Changes
    bookkeeping: list[Path]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def release_date(given: str | None = None) -> str:
    """The release's date: as given, else SOURCE_DATE_EPOCH's, else today's (UTC)."""
    if given:
        try:
            return datetime.strptime(given, "%Y-%m-%d").date().isoformat()
        except ValueError:
            raise ReleaseError(f"--released {given}: expected a date written YYYY-MM-DD") from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.date().isoformat()


def next_version(sources_date: str, commit: str | None, known: list[Release]) -> str:
    """YYYY.MM.DD from the sources' newest commit; the same commit keeps its
    version, newer sources dated the same day get .2, .3, ..."""
    base = sources_date.replace("-", ".")
    same_day = [r for r in known if r.version == base or r.version.startswith(base + ".")]
    for previous in same_day:
        if commit and previous.commit == commit:
            return previous.version
    return base if not same_day else f"{base}.{len(same_day) + 1}"


def previous_release(dist: Path, version: str) -> tuple[str, Path] | None:
    """The newest release in dist older than version, with its database."""
    found = []
    for directory in dist.glob(f"{NAME}-*"):
        candidate = directory.name[len(NAME) + 1 :]
        if VERSION.match(candidate) and (directory / DATABASE_FILE).is_file():
            if _version_key(candidate) < _version_key(version):
                found.append((_version_key(candidate), candidate, directory / DATABASE_FILE))
    if not found:
        return None
    _, candidate, db = max(found)
    return candidate, db


def rebuilt_release(sources: Path, version: str, known: list[Release], directory: Path) -> tuple[str, Path] | None:
    """The newest release older than version that sources/releases.tsv lists,
    rebuilt from its commit's sources: what a fresh clone, with no dist/,
    compares against. None when no such release was cut from a clean commit."""
    older = [
        r
        for r in known
        if _version_key(r.version) < _version_key(version) and r.commit and not r.commit.endswith("-dirty")
    ]
    prefix = git(sources, "rev-parse", "--show-prefix")
    if not older or prefix is None:
        return None
    last = max(older, key=lambda r: _version_key(r.version))
    archive = subprocess.run(
        ["git", "-C", str(sources), "archive", "--format=tar", f"{last.commit}:{prefix.strip()}"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise ReleaseError(
            f"release {last.version}: cannot read its sources at commit {last.commit} "
            f"({archive.stderr.decode(errors='replace').strip()}); give its database with --previous"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(directory / "sources")  # noqa: S202 - the repository's own tree
    try:
        build(directory / "sources", directory / DATABASE_FILE)
    except InvalidSources as error:
        raise ReleaseError(
            f"release {last.version}: its sources (commit {last.commit}) no longer build with this schema.sql "
            f"({error}); give its database with --previous"
        ) from None
    return last.version, directory / DATABASE_FILE


def _previous_version(db: Path) -> str:
    conn = connect_readonly(db)
    try:
        return str(conn.execute("SELECT version FROM dataset_release").fetchone()[0])
    except sqlite3.Error as e:
        raise ReleaseError(f"{display_path(db)}: not a release's database ({e})") from None
    finally:
        conn.close()


def _metadata() -> tuple[str, str, dict[str, Any], str | None]:
    """The title, description, tables (with their columns' meanings) and
    permalink base of metadata.yml."""
    metadata = read_metadata()
    database = metadata["databases"][DATABASE_NAME]
    return (
        metadata.get("title", NAME),
        database.get("description", ""),
        database.get("tables") or {},
        metadata_permalink(metadata),
    )


def release(
    sources: Path = DEFAULT_SOURCES,
    db: Path = DEFAULT_DB,
    dist: Path = DIST,
    version: str | None = None,
    released: str | None = None,
    previous: Path | None = None,
) -> ReleaseResult:
    """Write dist/event-store-<version>/ from the sources and the imports db was built with."""
    source = source_version(sources)
    known = releases(sources)
    # Sources already released keep that release's version, even at a later
    # commit that only added the release's bookkeeping.
    same = release_of(sources, source)
    version = version or (same.version if same else next_version(source.sources_date, source.built_from, known))
    if not VERSION.match(version):
        raise ReleaseError(f"version {version}: expected YYYY.MM.DD or YYYY.MM.DD.N")
    released = release_date(released)
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"{NAME}-{version}"
    cut = Release(version, released, source.built_from or "", source.committed or "")
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=dist))
    try:
        with tempfile.TemporaryDirectory(prefix=".previous.", dir=dist) as scratch:
            if previous is not None:
                previous_found: tuple[str, Path] | None = (_previous_version(previous), previous)
            else:
                previous_found = previous_release(dist, version) or rebuilt_release(
                    sources, version, known, Path(scratch)
                )
            changes = _write(work, sources, db, cut, previous_found)
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    curated = validate(sources)
    bookkeeping = record_release(sources, curated.db.conn, cut)
    return ReleaseResult(target, version, released, changes, bookkeeping)


def _write(
    directory: Path,
    sources: Path,
    db: Path,
    cut: Release,
    previous: tuple[str, Path] | None,
) -> Changes:
    version, released = cut.version, cut.released
    database = directory / DATABASE_FILE
    plain = directory / "unreleased.db"
    built = build(sources, plain, recorded_imports(db))
    with sqlite_utils.Database(plain) as stamped:
        stamp_release(stamped, version, released)
        write_releases(stamped, sources, cut)
        # A fresh copy, as the build makes: its bytes depend on the content
        # alone, not on how many writes led to it.
        stamped.execute("VACUUM INTO ?", [str(database)])
    plain.unlink()
    (directory / "csv").mkdir()
    (directory / "parquet").mkdir()
    conn = connect_readonly(database)
    try:
        tables = []
        for name in data_tables(conn):
            table = describe(conn, name)
            csv_path, parquet_path = directory / "csv" / f"{name}.csv", directory / "parquet" / f"{name}.parquet"
            write_csv(conn, table, csv_path)
            write_parquet(conn, table, parquet_path)
            tables.append((table, csv_path, parquet_path))
        geojson_files = [directory / name for name in write_geojson(conn, directory)]
        partitioned = write_partitioned(conn, directory / PARTITIONED)
        duckdb_script = write_duckdb_script([table for table, _, _ in tables], directory)
        documents = conn.execute("SELECT title, url FROM documents WHERE url IS NOT NULL ORDER BY id").fetchall()
    finally:
        conn.close()
    schema = read_schema()
    changes = compare(previous[1] if previous else None, database, schema, previous[0] if previous else None, version)
    (directory / "CHANGES.md").write_text(to_markdown(changes), encoding="utf-8")
    (directory / "changes.json").write_text(changes.to_json(), encoding="utf-8")
    title, description, described, url = _metadata()
    commit = built.version.built_from if built.version else None
    (directory / "CITATION.cff").write_text(
        citation_cff(title, version, released, LICENCE, commit, description, url), encoding="utf-8"
    )
    listing = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()) + [
        "README.md",
        "datapackage.json",
        CHECKSUMS,
    ]
    (directory / "README.md").write_text(
        release_readme(title, version, released, LICENCE, sorted(listing), url), encoding="utf-8"
    )
    others = [
        database,
        *geojson_files,
        duckdb_script,
        *partitioned,
        *(directory / n for n in ("CHANGES.md", "changes.json", "CITATION.cff", "README.md")),
    ]
    package = data_package(
        directory,
        NAME,
        title,
        version,
        released,
        LICENCE,
        tables,
        others,
        described,
        [{"title": title_, "path": address} for title_, address in documents],
        url,
    )
    write_json(directory / "datapackage.json", package)
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    (directory / CHECKSUMS).write_text(
        "".join(f"{sha256_file(p)}  {p.relative_to(directory).as_posix()}\n" for p in files), encoding="utf-8"
    )
    return changes
