"""plugins/csv_export.py: a whole table as CSV, the same rows Datasette holds."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from pathlib import Path

from datasette.app import Datasette

from loader.build import build
from loader.importer import ImportSpec
from loader.serve import PLUGINS_PATH

ACLED = Path(__file__).parent / "fixtures" / "acled" / "syria.csv"


def fetch(db: Path, path: str) -> tuple[int, str, str]:
    async def get() -> tuple[int, str, str]:
        datasette = Datasette([str(db)], immutables=[], metadata=None, plugins_dir=str(PLUGINS_PATH))
        response = await datasette.client.get(path)
        return response.status_code, response.headers.get("content-type", ""), response.text

    return asyncio.run(get())


def test_a_table_comes_out_whole_and_in_load_order(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db, [ImportSpec(ACLED, "acled")])
    status, content_type, text = fetch(db, "/-/csv/events/events.csv")
    assert status == 200 and content_type.startswith("text/csv")
    conn = sqlite3.connect(db)
    cursor = conn.execute("SELECT * FROM events ORDER BY rowid")
    expected = [[d[0] for d in cursor.description]] + [["" if v is None else str(v) for v in row] for row in cursor]
    assert list(csv.reader(io.StringIO(text))) == expected


def test_unknown_tables_and_views_are_not_found(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    assert fetch(db, "/-/csv/events/nope.csv")[0] == 404
    assert fetch(db, "/-/csv/events/event_list.csv")[0] == 404
    assert fetch(db, "/-/csv/nope/events.csv")[0] == 404
