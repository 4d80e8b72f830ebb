"""The public history of every record, from the git log of the sources.

The sources are under version control, so each record's history is already
there: this module walks the commits that touched the sources, oldest first,
and records for each record every commit that added, changed or removed it,
with the fields that changed from what to what. It takes the approach of
Simon Willison's git-history (replay each version of the files and diff the
items by id) but is written here because git-history reads one JSON or CSV
file per call, while records here are YAML, several kinds to a file, and move
between files; records are matched by table and key wherever they sit.

Only the files a commit changed are read again, in one `git cat-file --batch`
process, so history costs little; outside a git checkout there is none.

An event renamed (its id re-dated, say) lists its old ids in `aliases`, and
its history is kept under the id it has now: the commit that renamed it is a
change of its `id`, not the removal of one event and the addition of
another. So the event's page shows all of its history, and the changes feeds
link the event as it can be found today rather than at an id that is gone.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from ..files import YAMLError, parse_yaml
from ..schema import Schema
from .version import git

Key = tuple[str, str]  # table, record key


@dataclass(frozen=True)
class Commit:
    hash: str
    committed: str  # ISO 8601, UTC
    subject: str
    paths: list[str]  # the .yml files it changed, relative to the repository's root


def commits(sources: Path) -> list[Commit] | None:
    """The commits that touched the sources' YAML files, oldest first; None outside a checkout."""
    log = git(
        sources,
        "log",
        "--reverse",
        "--no-renames",
        "--format=%x1e%H%x1f%cd%x1f%s",
        "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
        "--name-only",
        "--",
        "*.yml",
        "*.yaml",
    )
    if log is None:
        return None
    found = []
    for entry in log.split("\x1e")[1:]:
        header, _, names = entry.partition("\n")
        hash_, committed, subject = header.split("\x1f", 2)
        found.append(Commit(hash_, committed, subject, [n for n in names.splitlines() if n.strip()]))
    return found


def _records(text: str, schema: Schema) -> dict[Key, dict[str, Any]] | None:
    """The top-level records of one version of a file, by table and key;
    None for a version that does not parse."""
    try:
        data = parse_yaml(text)
    except YAMLError:
        return None
    found: dict[Key, dict[str, Any]] = {}
    if not isinstance(data, dict):
        return found
    for section, items in data.items():
        table = schema.tables.get(str(section))
        if table is None or not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and all(item.get(c) is not None for c in table.primary_key):
                key = "/".join(str(item[c]) for c in table.primary_key)
                # Values as JSON text, so that dates, lists and nested records compare and store alike.
                found[(table.name, key)] = {
                    str(k): json.dumps(v, default=str, ensure_ascii=False) for k, v in item.items()
                }
    return found


def _read(root: Path, requests: list[str]) -> list[str | None]:
    """The contents of COMMIT:PATH for each request, None where the file does not exist."""
    if not requests:
        return []
    done = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input="".join(f"{r}\n" for r in requests).encode(),
        capture_output=True,
        check=True,
    )
    out, position = done.stdout, 0
    contents: list[str | None] = []
    for _ in requests:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if header[-1] == b"missing":
            contents.append(None)
            continue
        size = int(header[2])
        contents.append(out[position : position + size].decode("utf-8", "replace"))
        position += size + 1
    return contents


def renamed_ids(db: sqlite_utils.Database) -> dict[Key, Key]:
    """Each former id of an event (its aliases) and the event that holds it
    now; an alias two events claim, or that is an event's own id, names none."""
    if not db["events"].exists():
        return {}
    rows = db.execute(
        "SELECT j.value, e.id FROM events AS e, json_each(e.aliases) AS j "
        "WHERE j.type = 'text' AND j.value NOT IN (SELECT id FROM events) "
        "GROUP BY j.value HAVING count(DISTINCT e.id) = 1"
    ).fetchall()
    return {("events", old): ("events", new) for old, new in rows}


def _under_current_ids(records: dict[Key, dict[str, Any]], renamed: dict[Key, Key]) -> dict[Key, dict[str, Any]]:
    """The records of one commit by the key each has now; where a commit holds
    a record under both its old and its new id, the new one counts."""
    found: dict[Key, dict[str, Any]] = {}
    for key, record in records.items():
        current = renamed.get(key, key)
        if current == key or current not in found:
            found[current] = record
    return found


def history_rows(sources: Path, schema: Schema, renamed: dict[Key, Key] | None = None) -> list[dict[str, Any]] | None:
    """One row per record and commit that changed it, a renamed record's
    under the key it has now (renamed: old key → current key); None outside
    a checkout."""
    found = commits(sources)
    top = git(sources, "rev-parse", "--show-toplevel")
    if found is None or top is None:
        return None
    root = Path(top.strip())
    contents = iter(_read(root, [f"{c.hash}:{path}" for c in found for path in c.paths]))
    files: dict[str, dict[Key, dict[str, Any]]] = {}
    state: dict[Key, dict[str, Any]] = {}
    rows = []
    for commit in found:
        for path in commit.paths:
            text = next(contents)
            parsed = _records(text, schema) if text is not None else {}
            # A commit that left a file unreadable changed none of its records:
            # they count as they were until a later commit makes it readable.
            if parsed is not None:
                files[path] = parsed
        current = _under_current_ids(
            {key: record for records in files.values() for key, record in records.items()}, renamed or {}
        )
        for key in sorted(state.keys() | current.keys()):
            old, new = state.get(key), current.get(key)
            if old == new:
                continue
            change = "added" if old is None else "removed" if new is None else "changed"
            fields = {
                name: {"old": _value((old or {}).get(name)), "new": _value((new or {}).get(name))}
                for name in sorted((old or {}).keys() | (new or {}).keys())
                if (old or {}).get(name) != (new or {}).get(name)
            }
            rows.append(
                {
                    "table_name": key[0],
                    "record_id": key[1],
                    "commit_hash": commit.hash,
                    "committed": commit.committed,
                    "subject": commit.subject,
                    "change": change,
                    "fields": json.dumps(fields, ensure_ascii=False),
                }
            )
        state = current
    return rows


def _value(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def write_history(db: sqlite_utils.Database, sources: Path, schema: Schema) -> bool:
    """Fill record_history; False when the sources are not in a git checkout."""
    rows = history_rows(sources, schema, renamed_ids(db))
    if rows is None:
        return False
    with db.atomic():
        db.table("record_history").insert_all(rows)
    return True
