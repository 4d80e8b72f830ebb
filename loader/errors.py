"""What the loader raises when it refuses to do something.

The library never prints and never exits: like sqlite-utils, it raises its
own exceptions, and `cli.py` alone turns them into messages and exit codes.
Every exception the loader means a person to read derives from LoaderError,
so a caller can catch them all in one place, or one kind of refusal alone.
"""

from __future__ import annotations

from pathlib import Path

from .problems import MAX_SHOWN, Problem, display_path, plural


class LoaderError(Exception):
    """A refusal with a message for the person who asked: bad input, a busy
    database, a file that could not be replaced."""


class InvalidSources(LoaderError):
    """Every problem found in the sources, so that one run lists them all;
    the message sums them up and `problems` holds each one, sorted."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        files = len({p.path for p in self.problems})
        super().__init__(f"{plural(len(self.problems), 'problem')} in {plural(files, 'file')}; nothing was written.")


class InvalidImport(InvalidSources):
    """Every bad row of an imported file counted (`total`), the first of
    them kept in `problems`, and nothing written.

    Only bad rows are skippable; a file that cannot be read (its header,
    its encoding, its columns) is not, and then the message does not advise
    --skip-invalid, which could not help (and which, once given, leaves only
    such problems to report)."""

    def __init__(self, path: Path, problems: list[Problem], rows: int, skippable: bool = True):
        super().__init__(problems)
        self.total = rows
        self.skippable = skippable
        shown = f"; the first {MAX_SHOWN} problems are shown" if len(self.problems) > MAX_SHOWN else ""
        self.problems = self.problems[:MAX_SHOWN]
        if skippable:
            message = (
                f"{rows:,} invalid row{'s' if rows != 1 else ''} in {display_path(path)}{shown}; nothing was written."
                " Fix the rows, or pass --skip-invalid to leave them out."
            )
        else:
            message = f"{display_path(path)} cannot be imported{shown}; nothing was written."
        self.args = (message,)


class BuildLocked(LoaderError):
    """Another build holds the lock on the database's directory."""


class ReplaceFailed(LoaderError):
    """The new database could not be written or put in place; the previous one is untouched."""
