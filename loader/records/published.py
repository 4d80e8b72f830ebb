"""Stable ids: what every release has published, so that no id silently disappears.

A citation, a bookmark or another dataset may point at any id a release
published, so an id once published must keep answering. The ids live in
`sources/published-ids.tsv`, one line per record (table, id, the release
that first published it), and the releases in `sources/releases.tsv`
(version, date, commit). Both sit beside the records, so that a fresh clone
knows them; `release` appends to them and they are committed with the sources.
Every build checks that each published id is still in the sources or has a
withdrawal entry (the `withdrawals` section), and names the line of
published-ids.tsv of any that is neither.

They are tab-separated text, not YAML, because they are the release's
bookkeeping rather than records: the loader reads only .yml files as records.
"""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ..errors import InvalidSources
from ..problems import Problem, display_path
from ..rules import Record

PUBLISHED_IDS = "published-ids.tsv"
RELEASES = "releases.tsv"
# The tables whose ids have pages of their own and can be cited, and their keys.
TRACKED = {"event_types": "code", "documents": "id", "places": "id", "actors": "id", "events": "id", "claims": "id"}
HEADER = "# Every id a release of this dataset has published. Written by `release`; never remove a line:\n"
RELEASES_HEADER = "# Every release of this dataset, oldest first: version, date, commit, commit date (UTC).\n"
HEADER_WITHDRAW = "# to take a record out, add a withdrawal to the withdrawals section instead.\n"


@dataclass(frozen=True)
class PublishedId:
    table: str
    id: str
    first_release: str
    line: int


@dataclass(frozen=True)
class Release:
    version: str
    released: str
    commit: str  # empty outside a git checkout
    committed: str  # the commit's date, ISO 8601 in UTC; empty outside a checkout


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return [
            (number, row)
            for number, row in enumerate(csv.reader(f, delimiter="\t"), start=1)
            if row and not row[0].startswith("#")
        ]


def published_ids(sources: Path) -> list[PublishedId]:
    path = sources / PUBLISHED_IDS
    found = []
    for number, row in _rows(path):
        if len(row) != 3 or row[0] not in TRACKED:
            raise InvalidSources(
                [
                    Problem(
                        display_path(path),
                        number,
                        "-",
                        "-",
                        "expected TABLE<tab>ID<tab>RELEASE, TABLE one of " + ", ".join(TRACKED),
                    )
                ]
            )
        found.append(PublishedId(row[0], row[1], row[2], number))
    return found


def releases(sources: Path) -> list[Release]:
    return [Release(*row[:4]) for _, row in _rows(sources / RELEASES) if len(row) == 4]


def write_releases(db: sqlite_utils.Database, sources: Path, *cut: Release) -> None:
    """Load sources/releases.tsv, and any release being cut now, into the releases table."""
    merged = {r.version: r for r in [*releases(sources), *cut]}
    with db.atomic():
        # Emptied and filled afresh, so the rows (and their rowids) depend
        # only on the releases, not on whether this one was cut before.
        db.execute("DELETE FROM releases")
        db.conn.executemany(
            "INSERT INTO releases (version, released, commit_hash, committed) VALUES (?, ?, ?, ?)",
            [(r.version, r.released, r.commit or None, r.committed or None) for r in merged.values()],
        )


def current_ids(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(table, row[0]) for table, key in TRACKED.items() for row in conn.execute(f"SELECT [{key}] FROM [{table}]")}


def published_id_problems(sources: Path, conn: sqlite3.Connection, withdrawals: dict[tuple, Record]) -> list[Problem]:
    """What loses a published id without withdrawing it, or withdraws a
    record into one that does not exist; `withdrawals` are the withdrawal
    records by (table_name, id), for the lines of those at fault."""
    present = current_ids(conn)
    withdrawn = {
        (table, id_): replaced_by
        for table, id_, replaced_by in conn.execute("SELECT table_name, id, replaced_by FROM withdrawals")
    }
    path = display_path(sources / PUBLISHED_IDS)
    problems = [
        Problem(
            path,
            published.line,
            published.id,
            published.table,
            f"release {published.first_release} published this {published.table} id and the sources no longer have it; "
            "add a withdrawal (table_name, id, withdrawn, reason, replaced_by) to the withdrawals section",
        )
        for published in published_ids(sources)
        if (published.table, published.id) not in present and (published.table, published.id) not in withdrawn
    ]
    problems += [
        withdrawals[(table, id_)].problem("replaced_by", f"'{replaced_by}' is not a known {table} id")
        for (table, id_), replaced_by in withdrawn.items()
        if replaced_by is not None and (table, replaced_by) not in present
    ]
    problems += [
        withdrawals[(table, id_)].problem(
            "id", f"the {table} record '{id_}' is still in the sources; remove the record or the withdrawal"
        )
        for (table, id_) in withdrawn
        if (table, id_) in present
    ]
    return problems


def record_release(sources: Path, conn: sqlite3.Connection, release: Release) -> list[Path]:
    """Add the ids a release publishes, and the release itself, to the sources'
    bookkeeping. conn holds the curated records alone: the ids of imported
    files are the importer's to keep stable (ACLED's event_id_cnty)."""
    ids_path, releases_path = sources / PUBLISHED_IDS, sources / RELEASES
    known = {(p.table, p.id) for p in published_ids(sources)}
    new = sorted(current_ids(conn) - known)
    if not ids_path.exists():
        ids_path.write_text(HEADER + HEADER_WITHDRAW, encoding="utf-8")
    with open(ids_path, "a", encoding="utf-8", newline="") as f:
        for table, id_ in new:
            f.write(f"{table}\t{id_}\t{release.version}\n")
    # A release cut again under the same version replaces its line.
    kept = [r for r in releases(sources) if r.version != release.version]
    lines = [f"{r.version}\t{r.released}\t{r.commit}\t{r.committed}\n" for r in [*kept, release]]
    releases_path.write_text(RELEASES_HEADER + "".join(lines), encoding="utf-8")
    return [ids_path, releases_path]
