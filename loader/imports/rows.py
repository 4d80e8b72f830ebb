"""Read a large file of events row by row: CSV, or NDJSON (one JSON object a line).

An import may run to millions of rows, so the file is never held in memory:
each row comes with its line number, so that every problem can be pinned to
FILE:LINE as a YAML record's would be. Nor is a row: each is read up to
MAX_ROW characters and no further, so one line of two gigabytes (a damaged
file, or not a file of events at all) is refused at its line, having cost a
megabyte or so, rather than the machine's memory.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidImport
from ..problems import Problem, did_you_mean, display_path

# Characters in one row (a line, or a CSV record whose quoted values hold
# line breaks): a row holds a few dozen values of at most rules.MAX_TEXT
# (20,000) characters each, so no row of events comes near it. A CSV value
# is also held to the csv module's own limit, 131,072 characters.
MAX_ROW = 1_000_000
# What a column name looks like. A header that holds anything else is not one
# (--import /etc/passwd reads "root:x:0:0:root:/root:/bin/bash" as a column),
# and is then not repeated in a message, since the file may be any the user
# can read, and its first line anything at all.
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]{0,63}")
BLOCK = 1 << 20  # bytes read at a time when looking for a bad byte


def file_format(path: Path) -> str:
    return "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "csv"


def unknown_name(kind: str, name: str, position: int, known: Iterable[str]) -> str:
    """Why a name (a header's column, or an NDJSON record's field) is
    refused: the name itself, with the nearest known one, only when it looks
    like a name at all."""
    if COLUMN_NAME.fullmatch(name):
        return f"unknown {kind} {name}{did_you_mean(name, known)}"
    return f"{kind} {position} is not named like a {kind}; is this a file of events?"


def first_bad_byte(path: Path) -> tuple[int, int]:
    """The line and value of the file's first byte that is not UTF-8.

    A decoding error raised while reading names a position within the block
    being decoded, not the file, so the line is found again from the bytes,
    a block at a time, since a line may be longer than memory holds."""
    line, carried = 1, b""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            data = carried + block
            try:
                data.decode("utf-8")
                carried = b""
            except UnicodeDecodeError as e:
                if e.reason != "unexpected end of data":
                    return line + data.count(b"\n", 0, e.start), data[e.start]
                carried = data[e.start :]  # a character cut in two by the block's end
                data = data[: e.start]
            line += data.count(b"\n")
    return line, carried[0] if carried else 0


class Lines:
    """A text file's lines, read no further than MAX_ROW characters into a
    row: the CSV reader and the NDJSON loop take their lines from here."""

    def __init__(self, path: Path, file: io.TextIOWrapper):
        self.path = path
        self.file = file
        self.line = 0  # the last line read
        self.row = 0  # characters read since the current row began

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        text = self.file.readline(MAX_ROW + 2)  # one more than a row and its line break may hold
        if not text:
            raise StopIteration
        self.line += 1
        self.row += len(text.rstrip("\r\n"))
        if self.row > MAX_ROW:
            problem = Problem(
                display_path(self.path),
                self.line,
                "-",
                "-",
                f"a row longer than {MAX_ROW:,} characters, far longer than a row of events;"
                " is the file damaged, or not a file of events?",
            )
            raise InvalidImport(self.path, [problem], 1, skippable=False)
        return text

    def next_row(self) -> None:
        self.row = 0

    def rewind(self) -> None:
        """Back to the first line, for NDJSON, whose header is its first record."""
        self.file.seek(0)
        self.line = self.row = 0


class Rows:
    """A file's header, then (line number, values in header order) for each
    row, or (line number, why) for an NDJSON line that is not a record.

    NDJSON values keep their JSON types unless `text` is set, for a mapper
    that wants text as it would have read it from CSV.
    """

    def __init__(self, path: Path):
        self.path = path
        self.shown = display_path(path)
        self.csv = file_format(path) == "csv"
        self.raw = open(path, "rb")
        self.size = os.fstat(self.raw.fileno()).st_size
        self.file = io.TextIOWrapper(self.raw, encoding="utf-8-sig", newline="")
        self.lines = Lines(path, self.file)
        try:
            if self.csv:
                self.reader = csv.reader(self.lines)
                header = next(self.reader, None)
                self.lines.next_row()
            else:
                first = next(self.lines, "")
                header = list(json.loads(first)) if first.strip() else None
        except UnicodeDecodeError:
            self.file.close()
            raise self.undecodable() from None
        except InvalidImport:
            self.file.close()
            raise
        except (csv.Error, ValueError, TypeError, RecursionError) as e:
            self.file.close()
            message = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            raise InvalidImport(
                path, [Problem(self.shown, 1, "-", "-", f"unreadable header: {message}")], 1, skippable=False
            ) from None
        if not header:
            self.file.close()
            raise InvalidImport(path, [Problem(self.shown, 1, "-", "-", "the file is empty")], 1, skippable=False)
        self.header = [str(c).strip() for c in header]
        self.text = False

    def close(self) -> None:
        self.file.close()

    def undecodable(self) -> InvalidImport:
        """The file cannot be read past a byte that is not UTF-8: no row can be skipped over it."""
        line, byte = first_bad_byte(self.path)
        problem = Problem(self.shown, line, "-", "-", f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8")
        return InvalidImport(self.path, [problem], 1, skippable=False)

    def position(self) -> int:
        """Bytes read so far, for the build's progress: all of them once the rows are read."""
        return self.size if self.raw.closed else self.raw.tell()

    def __iter__(self) -> Iterator[tuple[int, list[Any] | str]]:
        with self.file:
            try:
                yield from (self._csv() if self.csv else self._ndjson())
            except UnicodeDecodeError:
                raise self.undecodable() from None

    def _csv(self) -> Iterator[tuple[int, list[Any]]]:
        previous = self.reader.line_num
        try:
            for values in self.reader:
                self.lines.next_row()
                if values:
                    yield previous + 1, values
                previous = self.reader.line_num
        except csv.Error as e:
            problem = Problem(self.shown, previous + 1, "-", "-", f"unreadable: {e}")
            raise InvalidImport(self.path, [problem], 1, skippable=False) from None

    def _ndjson(self) -> Iterator[tuple[int, list[Any] | str]]:
        header = self.header
        self.lines.rewind()
        for text in self.lines:
            line = self.lines.line
            self.lines.next_row()
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as e:
                yield line, f"not valid JSON: {e.msg}"
                continue
            except RecursionError:
                yield line, "not a record: its JSON is nested too deeply"
                continue
            except ValueError as e:  # an integer of more digits than Python reads
                yield line, f"not valid JSON: {e}"
                continue
            if not isinstance(item, dict):
                yield line, "expected a JSON object on each line"
                continue
            extra = [(position, name) for position, name in enumerate(item, 1) if name not in header]
            if extra:
                position, name = extra[0]
                yield line, unknown_name("field", name, position, header)
                continue
            values = [item.get(c) for c in header]
            yield line, [("" if v is None else str(v)) for v in values] if self.text else values
