"""The records of sources/ as plain dictionaries, from the working tree or
from any commit, read fast and without validation.

diff, draft and overlap read records that a curator is half-way through
writing, and diff reads a commit's as well, so they cannot wait for (or
stop at) the validator: PyYAML's C parser reads the whole store in a few
hundredths of a second. Nested lists inside an event (its claims and
disputes) are lifted out to tables of their own, with the event's id.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import YAMLError, parse_yaml
from . import DeskError

KEYS = {"event_types": "code"}  # every other table's key is id
TABLES = ("event_types", "documents", "places", "actors", "events", "disputes", "claims", "withdrawals")
# Fields of free prose, where a record speaks of other records.
PROSE = ("notes", "summary", "date_inference", "statement", "note", "question", "description", "reason")


@dataclass
class Records:
    """Every record by table and key, and the file each came from."""

    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in TABLES})
    files: dict[tuple[str, str], str] = field(default_factory=dict)

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        return self.tables.get(table, {}).get(key)

    def prose(self) -> Iterator[tuple[str, str, str, str]]:
        """Every prose field: (table, key, field path, text), nested entries included."""
        for table, records in self.tables.items():
            for rkey, record in records.items():
                for path, text in _prose_fields(record, ""):
                    yield table, rkey, path, text


def _prose_fields(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for name, item in value.items():
            here = f"{path}.{name}" if path else str(name)
            if name in PROSE and isinstance(item, str):
                yield here, item
            elif isinstance(item, (dict, list)) and name not in ("claims", "disputes"):
                yield from _prose_fields(item, here)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _prose_fields(item, f"{path}[{i}]")


def _plain(value: Any) -> Any:
    """Dates as the text a curator wrote, like the loader keeps them."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def add_file(records: Records, name: str, text: str) -> None:
    try:
        data = parse_yaml(text) or {}
    except YAMLError as error:
        raise DeskError(f"{name}: not readable YAML: {error}") from error
    if not isinstance(data, dict):
        return
    for table, items in data.items():
        if table not in records.tables or not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, dict):
                continue
            item = _plain(item)
            if table == "withdrawals":
                key = f"{item.get('table_name')}/{item.get('id')}"
            else:
                key = str(item.get(KEYS.get(table, "id")))
            records.tables[table][key] = item
            records.files[(table, key)] = name
            if table == "events":
                for nested in ("claims", "disputes"):
                    for child in item.get(nested) or []:
                        if isinstance(child, dict) and child.get("id"):
                            child = {**child, "event_id": key}
                            records.tables[nested][str(child["id"])] = child
                            records.files[(nested, str(child["id"]))] = name


def from_directory(sources: Path) -> Records:
    if not sources.is_dir():
        raise DeskError(f"{sources}: no such directory of records")
    records = Records()
    for path in sorted(sources.rglob("*.y*ml")):
        add_file(records, str(path.relative_to(sources)), path.read_text(encoding="utf-8"))
    return records


def git(directory: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=False)
    except OSError as error:  # no git installed, as in a container that only serves
        raise DeskError(f"git {' '.join(args)}: {error.strerror}") from None
    if result.returncode != 0:
        raise DeskError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout


def from_commit(sources: Path, revision: str) -> Records:
    """The records of sources/ as they were at `revision`."""
    prefix = git(sources, "rev-parse", "--show-prefix").strip()
    names = list(git(sources, "ls-tree", "-r", "--name-only", "--full-name", revision, "--", ".").splitlines())
    names = [n for n in names if n.endswith((".yml", ".yaml"))]
    records = Records()
    if not names:
        return records
    batch = "".join(f"{revision}:{n}\n" for n in names)
    output = subprocess.run(
        ["git", "-C", str(sources), "cat-file", "--batch"], input=batch.encode(), capture_output=True, check=True
    ).stdout
    position = 0
    for name in names:
        header_end = output.index(b"\n", position)
        size = int(output[position:header_end].split()[2])
        body = output[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
        relative = name[len(prefix) :] if name.startswith(prefix) else name
        add_file(records, relative, body.decode("utf-8"))
    return records
