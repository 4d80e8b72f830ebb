"""Read a large file of events row by row: CSV, or NDJSON (one JSON object a line).

An import may run to millions of rows, so the file is never held in memory:
each row comes with its line number, so that every problem can be pinned to
FILE:LINE as a YAML record's would be.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InvalidImport
from .problems import Problem, did_you_mean, display_path


def file_format(path: Path) -> str:
    return "ndjson" if path.suffix.lower() in (".ndjson", ".jsonl") else "csv"


def first_bad_byte(path: Path) -> tuple[int, int]:
    """The line and value of the file's first byte that is not UTF-8.

    A decoding error raised while reading names a position within the block
    being decoded, not the file, so the line is found again from the bytes."""
    with open(path, "rb") as f:
        for line, raw in enumerate(f, 1):
            if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                return line, raw[e.start]
    return 1, 0


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
        self.file = io.TextIOWrapper(self.raw, encoding="utf-8-sig", newline="")
        try:
            if self.csv:
                self.reader = csv.reader(self.file)
                header = next(self.reader, None)
            else:
                first = self.file.readline()
                header = list(json.loads(first)) if first.strip() else None
                self.file.seek(0)
        except UnicodeDecodeError:
            self.file.close()
            raise self.undecodable() from None
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
        """Bytes read so far, for the progress bar."""
        return self.raw.tell()

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
                if values:
                    yield previous + 1, values
                previous = self.reader.line_num
        except csv.Error as e:
            problem = Problem(self.shown, previous + 1, "-", "-", f"unreadable: {e}")
            raise InvalidImport(self.path, [problem], 1, skippable=False) from None

    def _ndjson(self) -> Iterator[tuple[int, list[Any] | str]]:
        header = self.header
        for line, text in enumerate(self.file, 1):
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
            extra = [k for k in item if k not in header]
            if extra:
                yield line, f"unknown field {extra[0]}{did_you_mean(extra[0], header)}"
                continue
            values = [item.get(c) for c in header]
            yield line, [("" if v is None else str(v)) for v in values] if self.text else values
