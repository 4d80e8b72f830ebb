"""What is wrong with an input, said so that a curator can go straight to it.

Every check of the loader, on YAML records and on imported rows alike,
reports a Problem pinned to a file, a line, a record and a field, and every
message names files and suggests names the same way, so this module is the
one place that decides how.
"""

from __future__ import annotations

import difflib
import re
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


# Characters that would break a FILE:LINE line apart or hide in it.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_ECHOED = 60  # characters of a bad value repeated in a message


def escape(text: str) -> str:
    """Text with every control character written as an escape, so that a
    file name or value holding a newline stays on its one line."""
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def display_path(path: Path) -> str:
    """Name a file the way the curator would type it: relative when possible."""
    absolute = path.absolute()
    try:
        return escape(str(absolute.relative_to(Path.cwd())))
    except ValueError:
        return escape(str(absolute))


def echo(value: object) -> str:
    """A bad value as a message repeats it: quoted if text, cut short if long."""
    if not isinstance(value, str):
        return str(value)
    shown = escape(value if len(value) <= MAX_ECHOED else value[: MAX_ECHOED - 1] + "…")
    return f"'{shown}'"


def closest(value: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    near = closest(value, candidates)
    return f" (did you mean '{near}'?)" if near else ""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"
