"""What is wrong with an input, said so that a curator can go straight to it.

Every check of the loader, on YAML records and on imported rows alike,
reports a Problem pinned to a file, a line, a record and a field, and every
message names files and suggests names the same way, so this module is the
one place that decides how.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_KEPT = 1_000  # problems an import keeps for its report; the rest are only counted
MAX_SHOWN = 50  # problems of an import printed


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.record}: {self.field}: {self.message}"


def display_path(path: Path) -> str:
    """Name a file the way the curator would type it: relative when possible."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    matches = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"
