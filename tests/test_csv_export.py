"""loader/site/plugins/csv_export.py: a whole table as CSV, the same rows Datasette holds."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
from datasette.app import Datasette

from loader.build.database import build
from loader.imports.importer import ImportSpec
from loader.site.plugins import csv_export, sql_limits
from tests.conftest import FIXTURES

RANGE = csv_export.RANGE

ACLED = Path(__file__).parent / "fixtures" / "acled" / "syria.csv"


def fetch(db: Path, path: str) -> tuple[int, str, str]:
    async def get() -> tuple[int, str, str]:
        datasette = Datasette([str(db)], immutables=[], metadata=None)
        response = await datasette.client.get(path)
        return response.status_code, response.headers.get("content-type", ""), response.text

    return asyncio.run(get())


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The valid fixture with the ACLED sample imported, built once: the
    tests that export its tables and views only read it."""
    directory = tmp_path_factory.mktemp("csv")
    sources = shutil.copytree(FIXTURES / "valid", directory / "sources")
    db = directory / "events.db"
    build(sources, db, [ImportSpec(ACLED, "acled")])
    return db


def test_a_table_comes_out_whole_and_in_load_order(imported: Path) -> None:
    db = imported
    status, content_type, text = fetch(db, "/-/csv/events/events.csv")
    assert status == 200 and content_type.startswith("text/csv")
    conn = sqlite3.connect(db)
    cursor = conn.execute("SELECT * FROM events ORDER BY rowid")
    expected = [[d[0] for d in cursor.description]] + [["" if v is None else str(v) for v in row] for row in cursor]
    assert list(csv.reader(io.StringIO(text))) == expected


def test_unknown_tables_and_views_are_not_found(published_db: Path) -> None:
    db = published_db
    assert fetch(db, "/-/csv/events/nope.csv")[0] == 404
    assert fetch(db, "/-/csv/nope/events.csv")[0] == 404


def test_a_view_comes_out_whole_in_its_own_order(imported: Path) -> None:
    db = imported
    conn = sqlite3.connect(db)
    for view in ["event_list", "place_list", "event_participants"]:
        status, content_type, text = fetch(db, f"/-/csv/events/{view}.csv")
        assert status == 200 and content_type.startswith("text/csv")
        cursor = conn.execute(f"SELECT * FROM [{view}]")
        expected = [[d[0] for d in cursor.description]]
        expected += [["" if v is None else str(v) for v in row] for row in cursor]
        assert list(csv.reader(io.StringIO(text))) == expected, view
    conn.close()


def fetch_as(db: Path, path: str, metadata: dict | None = None) -> tuple[int, str]:
    async def get() -> tuple[int, str]:
        datasette = Datasette([str(db)], metadata=metadata)
        response = await datasette.client.get(path)
        return response.status_code, response.text

    return asyncio.run(get())


def test_hidden_databases_and_forbidden_tables_are_refused(published_db: Path) -> None:
    db = published_db
    for table in ["databases", "tables", "columns"]:
        status, text = fetch_as(db, f"/-/csv/_internal/{table}.csv")
        assert status == 403 and str(db) not in text
    assert fetch_as(db, "/-/csv/events/events.csv", {"databases": {"events": {"allow": False}}})[0] == 403
    denied = {"databases": {"events": {"tables": {"events": {"allow": False}}}}}
    assert fetch_as(db, "/-/csv/events/events.csv", denied)[0] == 403
    assert fetch_as(db, "/-/csv/events/places.csv", denied)[0] == 200
    assert fetch_as(db, "/-/csv/events/events.csv", {"allow": False})[0] == 403


def test_blobs_come_out_whole_as_hex_literals(tmp_path: Path) -> None:
    db = tmp_path / "blobs.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data)")
    values = [bytes(range(256)), b"\xff\xfe\x00 not utf-8", b""]
    conn.executemany("INSERT INTO t (data) VALUES (?)", [(v,) for v in values])
    conn.commit()
    conn.close()
    status, _, text = fetch(db, "/-/csv/blobs/t.csv")
    assert status == 200
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert [bytes.fromhex(row[1][2:-1]) for row in rows] == values
    assert all(row[1].startswith("x'") and row[1].endswith("'") for row in rows)


def test_wide_rows_come_out_whole_over_several_pages(tmp_path: Path) -> None:
    """Rows of 500 KB: a page stops at a few megabytes, and no row is lost or repeated."""
    db = tmp_path / "wide.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO t (text) VALUES (?)", [(str(i) * (500_000 // len(str(i))),) for i in range(40)])
    conn.commit()
    expected = [[str(i), t] for i, t in conn.execute("SELECT id, text FROM t ORDER BY rowid")]
    conn.close()
    status, _, text = fetch(db, "/-/csv/wide/t.csv")
    assert status == 200
    csv.field_size_limit(1_000_000)
    assert list(csv.reader(io.StringIO(text)))[1:] == expected


def test_many_ranges_come_out_whole_in_rowid_order(tmp_path: Path) -> None:
    """Enough rows for several ranges, read by this process and by the
    helper in turn: rowids with gaps, a negative one and one far past the
    rest, rows of every type, and wide rows in a range the helper reads; the
    same through a view that carries the rowid."""
    db = tmp_path / "ranges.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, number, data BLOB)")
    rowids = [-7, *range(1, 3 * RANGE, 2), *range(3 * RANGE, 3 * RANGE + 30), 10**12]
    rows = [
        (
            rowid,
            "x" * 300_000 if 3 * RANGE <= rowid < 3 * RANGE + 30 else f'say "{rowid}",\nthen Ğ {rowid % 7}',
            None if rowid % 5 == 0 else rowid / 4,
            bytes([rowid % 256]) if rowid % 3 == 0 else None,
        )
        for rowid in rowids
    ]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    conn.execute("CREATE VIEW v AS SELECT rowid AS rowid, id, text FROM t")
    conn.commit()
    conn.close()
    csv.field_size_limit(1_000_000)
    for name, expected in [
        (
            "t",
            [
                [str(i), t, "" if n is None else str(n), "" if b is None else f"x'{b.hex().upper()}'"]
                for i, t, n, b in rows
            ],
        ),
        ("v", [[str(i), str(i), t] for i, t, _, _ in rows]),
    ]:
        status, _, text = fetch(db, f"/-/csv/ranges/{name}.csv")
        assert status == 200
        assert list(csv.reader(io.StringIO(text)))[1:] == expected, name


def test_the_widest_table_datasette_opens_comes_out_whole(tmp_path: Path) -> None:
    """A line is joined by one printf of all its cells: a table of as many
    columns as sql_limits lets Datasette open, of every type, keeps each
    cell in its place."""
    width = sql_limits.MAX_COLUMNS
    db = tmp_path / "many.db"
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(width))})")
    row = [[f'"{i}", said', i, i / 8, None, bytes([i % 256])][i % 5] for i in range(width)]
    conn.execute(f"INSERT INTO t VALUES ({', '.join('?' * width)})", row)
    conn.commit()
    conn.close()
    status, _, text = fetch(db, "/-/csv/many/t.csv")
    assert status == 200
    header, line = list(csv.reader(io.StringIO(text)))
    assert header == [f"c{i}" for i in range(width)]
    assert line == ["" if v is None else f"x'{v.hex().upper()}'" if isinstance(v, bytes) else str(v) for v in row]


def test_a_helper_stopped_with_its_output_unread_ends(tmp_path: Path) -> None:
    """A download stopped early (its reader gone) kills its helper with a
    range's CSV still unread in the pipe: the helper must still be waited
    for, and its place freed, within moments. (asyncio's wait() alone waited
    for the pipe's end for ever, holding the download and the worker's one
    helper.)"""
    module = csv_export
    db = tmp_path / "wide.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO t (text) VALUES (?)", [("x" * 10_000,) for _ in range(500)])
    conn.commit()
    conn.close()

    async def stop_unread() -> int | None:
        source = module.Source(str(db), False, "t", ["id", "text"])
        helper = (await module.Helper.start(source)).ask((0, 500))
        await asyncio.sleep(1)  # the helper writes its 5 MB; the pipe fills and pauses
        try:
            await asyncio.wait_for(helper.finish(), 10)
        finally:
            source.close()
        return helper.process.returncode

    assert asyncio.run(stop_unread()) is not None
