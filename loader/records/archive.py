"""The archived copies the documents were curated from, and the one rule
that cuts a copy into numbered paragraphs.

A citation points into its document's archived copy by a locator, "N:HASH":
the paragraph's number and the first 8 hex digits of the SHA-256 of its
text. Anyone holding the archive can find the passage by its number and see
by its hash that it is the same text, without the store ever holding the
text. For that to work the rule must give the same paragraphs for the same
text, however the file was captured: line endings, blank lines and runs of
spaces change nothing, only the words and where lines break do.

The archive is a list of folders (a newsroom keeps its own); a file is found
by its name, archive_ref, in the first folder that has it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import PROJECT_ROOT
from ..errors import LoaderError

# Folders of archived copies, separated as PATH is (':' on POSIX); relative
# folders are taken from the project's root.
ARCHIVE_ENV = "EVENT_STORE_ARCHIVE"
# Where this project keeps its own archive beside the checkout: the seed
# articles and the later captures.
DEFAULT_FOLDERS = ("../shared/seeds", "../shared/archive")

LOCATOR = re.compile(r"([1-9][0-9]*):([0-9a-f]{8})")


def paragraphs(text: str) -> list[str]:
    """The paragraphs of an archived copy, in file order (paragraph N is item N-1).

    A paragraph is a line that is not empty or only whitespace, with every
    run of whitespace made one space and its ends stripped; a copy captured
    again with other line endings, spacing or blank lines between them keeps
    every number and hash. A line, not a block between blank lines: two of
    the five seed articles have no blank line at all, and a block rule made
    each of them a single paragraph that every citation pointed at.
    Whitespace is Unicode's (str.split's), so a line of no-break spaces is
    blank too."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [" ".join(line.split()) for line in lines if line.strip()]


def locator_hash(paragraph: str) -> str:
    """The first 8 hex digits of the SHA-256 of a paragraph's normalised text."""
    return hashlib.sha256(paragraph.encode("utf-8")).hexdigest()[:8]


def locators(text: str) -> list[str]:
    """Each paragraph's locator, N:HASH, in order."""
    return [f"{number}:{locator_hash(paragraph)}" for number, paragraph in enumerate(paragraphs(text), start=1)]


def parse_locator(value: str) -> tuple[int, str] | None:
    """A locator's paragraph number and hash, or None when it is not written N:HASH."""
    match = LOCATOR.fullmatch(value)
    return (int(match.group(1)), match.group(2)) if match else None


@dataclass
class ArchivedCopy:
    """One archived file: its bytes' SHA-256 and its paragraphs."""

    path: Path

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def paragraphs(self) -> list[str]:
        try:
            return paragraphs(self.data.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise LoaderError(f"{self.path.name}: the archived copy is not UTF-8 text ({error.reason})") from None

    def hash_of(self, number: int) -> str | None:
        """The hash of paragraph number (from 1), or None when there is no such paragraph."""
        return locator_hash(self.paragraphs[number - 1]) if 1 <= number <= len(self.paragraphs) else None


@dataclass
class Archive:
    """Folders of archived copies, searched in order for a file by its name."""

    folders: tuple[Path, ...]
    _copies: dict[str, ArchivedCopy | None] = field(default_factory=dict, repr=False, compare=False)

    def copy(self, name: str) -> ArchivedCopy | None:
        """The archived file of that name, or None when no folder has one.

        A name is a file's name, never a path: archive_ref comes from the
        sources, and must not reach outside the archive's folders."""
        if name not in self._copies:
            found = None
            if name and name == Path(name).name and name not in (".", ".."):
                found = next((ArchivedCopy(f / name) for f in self.folders if (f / name).is_file()), None)
            self._copies[name] = found
        return self._copies[name]

    def describe(self) -> str:
        return ", ".join(str(folder) for folder in self.folders)


def find_archive(
    given: Sequence[Path] = (), own_sources: bool = True, environ: dict[str, str] | None = None
) -> Archive | None:
    """The archive to check locators against: the folders given (an option),
    else those the setting names, else, for the project's own sources, its
    own archive beside the checkout, each where it exists. None when there
    is none, and then locators are checked for their form only.

    Another directory of sources (a test's, a newsroom's) has other
    documents, so this project's archive is no default for it."""
    environ = dict(os.environ) if environ is None else environ
    if given:
        missing = [str(folder) for folder in given if not folder.is_dir()]
        if missing:
            raise LoaderError(f"{', '.join(missing)}: no such archive folder")
        return Archive(tuple(given))
    setting = [part for part in environ.get(ARCHIVE_ENV, "").split(os.pathsep) if part]
    if setting:
        folders = [_from_root(part) for part in setting]
        missing = [str(folder) for folder in folders if not folder.is_dir()]
        if missing:
            raise LoaderError(f"{ARCHIVE_ENV} names {', '.join(missing)}: no such archive folder")
        return Archive(tuple(folders))
    if not own_sources:
        return None
    found = tuple(folder for folder in (_from_root(part) for part in DEFAULT_FOLDERS) if folder.is_dir())
    return Archive(found) if found else None


def _from_root(folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def numbered(text: str, words: int = 8) -> Iterable[str]:
    """Each paragraph as `N:HASH  first words…`, for a curator looking for
    the locator of a passage in their own copy."""
    for number, paragraph in enumerate(paragraphs(text), start=1):
        shown = paragraph.split(" ")
        start = " ".join(shown[:words]) + (" …" if len(shown) > words else "")
        yield f"{number}:{locator_hash(paragraph)}  {start}"
