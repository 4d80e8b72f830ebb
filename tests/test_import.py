"""build --import: ACLED exports and the store's own columns, streamed into the database."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader.build.database import Build, build, recorded_imports
from loader.cli import cli, import_spec
from loader.errors import InvalidImport, LoaderError
from loader.imports.importer import ImportSpec
from loader.imports.rows import BLOCK, MAX_ROW
from loader.site.serve import is_stale
from tests.support.bad_input import VALID, run_subprocess

ACLED = Path(__file__).parent / "fixtures" / "acled"
VALID_SOURCES = Path(__file__).parent / "fixtures" / "valid"
GOOD = ACLED / "syria.csv"
BAD = ACLED / "syria-bad.csv"


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def acled_build(sources: Path, db: Path, *files: Path, skip_invalid: bool = False):
    return build(sources, db, [ImportSpec(f, "acled", skip_invalid) for f in files])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Path]:
    """The valid fixture built with the good ACLED sample once, for the tests that only read it."""
    directory = tmp_path_factory.mktemp("good")
    sources = shutil.copytree(VALID_SOURCES, directory / "sources")
    db = directory / "events.db"
    return acled_build(sources, db, GOOD), db


def test_acled_rows_become_events_places_actors_and_sources(good: tuple[Build, Path]) -> None:
    result, db = good
    assert [(r.events, r.skipped) for r in result.imports] == [(5, 0)]
    events = dict(rows(db, "SELECT id, place_id FROM events WHERE origin = 'acled'"))
    assert sorted(events) == ["acled-syr1001", "acled-syr1002", "acled-syr1003", "acled-syr1004", "acled-syr1005"]
    # Two strikes on Kafr Sousa share one place; five rows name four places.
    assert events["acled-syr1001"] == events["acled-syr1005"]
    assert rows(db, "SELECT count(*) FROM places WHERE id LIKE 'acled-%'") == [(4,)]
    assert rows(
        db, f"SELECT name, admin1, country_code, latitude FROM places WHERE id = '{events['acled-syr1002']}'"
    ) == [("Palmyra", "Homs", "SY", 34.56)]
    # Actors by name, once each; the protest's two associated actors split on ';'.
    assert rows(db, "SELECT count(*) FROM actors WHERE name = 'Military Forces of Israel (2022-)'") == [(1,)]
    links = rows(
        db,
        "SELECT a.name, ea.role, ea.note FROM event_actors ea JOIN actors a ON a.id = ea.actor_id WHERE event_id = 'acled-syr1004' ORDER BY a.name",
    )
    assert links == [
        ("Protesters (Syria)", "participant", "actor1"),
        ("Students (Syria)", "participant", "assoc_actor_1"),
        ("Teachers (Syria)", "participant", "assoc_actor_1"),
    ]
    assert ("Civilians (Syria)", "affected") in rows(
        db,
        "SELECT a.name, ea.role FROM event_actors ea JOIN actors a ON a.id = ea.actor_id WHERE event_id = 'acled-syr1003'",
    )
    assert rows(db, "SELECT kind FROM actors WHERE name = 'Military Forces of Syria (2000-2024)'") == [("military",)]
    # Each outlet ACLED cites is a document the event links to.
    assert sorted(
        rows(
            db,
            "SELECT d.outlet FROM event_documents ed JOIN documents d ON d.id = ed.document_id WHERE event_id = 'acled-syr1001'",
        )
    ) == [("SANA",), ("Syrian Observatory for Human Rights",)]
    assert rows(db, "SELECT fatalities, source_scale, tags, origin_updated FROM events WHERE id = 'acled-syr1004'") == [
        (0, "Local partner-Other", "crowd size=hundreds", "2024-03-21T05:46:40Z")
    ]
    # ACLED's sub-event types arrive as event types placed on PLOVER and CAMEO.
    assert rows(
        db,
        "SELECT e.event_type, t.plover FROM events e JOIN event_types t ON t.code = e.event_type WHERE e.id = 'acled-syr1001'",
    ) == [("acled-air-drone-strike", "ASSAULT")]
    # The curated records are all still there, told apart by origin.
    assert rows(db, "SELECT count(*) FROM events WHERE origin = 'curated'") == [(2,)]
    assert rows(db, "PRAGMA foreign_key_check") == []


def test_precision_codes_become_spans_and_words(good: tuple[Build, Path]) -> None:
    db = good[1]
    got = {
        r[0]: r[1:]
        for r in rows(
            db, "SELECT id, start_date, end_date, date_precision, geo_precision FROM events WHERE origin = 'acled'"
        )
    }
    assert got["acled-syr1001"] == ("2024-03-13", "2024-03-13", "day", "locality")
    # Week: the seven days around the date ACLED gives for the middle of the week.
    assert got["acled-syr1002"] == ("2024-03-10", "2024-03-16", "week", "representative")
    # Month, from the older '15 January 2024' date format.
    assert got["acled-syr1003"] == ("2024-01-01", "2024-01-31", "month", "representative")


def test_every_bad_row_is_reported_with_file_and_line(sources: Path, db: Path) -> None:
    with pytest.raises(InvalidImport) as raised:
        acled_build(sources, db, BAD)
    found = {(p.line, p.record, p.field) for p in raised.value.problems}
    assert all(p.path.endswith("syria-bad.csv") for p in raised.value.problems)
    assert (4, "SYR2002", "event_date") in found
    assert (5, "SYR2003", "sub_event_type") in found
    assert (6, "SYR2004", "latitude") in found  # refused by schema.sql's CHECK on places
    assert (7, "SYR2005", "fatalities") in found  # refused by schema.sql's CHECK on events
    assert (8, "SYR2001", "event_id_cnty") in found  # the same id twice
    assert (9, "-", "-") in found  # too few fields
    assert not any(line in (2, 10) for line, _, _ in found)
    messages = {p.line: p.message for p in raised.value.problems}
    assert "did you mean 'Air/drone strike'" in messages[5]
    assert messages[6] == "must be between -90 and 90 (got 95.0)"
    assert "6 invalid rows" in str(raised.value) and "nothing was written" in str(raised.value)
    assert not db.exists()


def test_cli_prints_problems_and_caps_them(sources: Path, db: Path, tmp_path: Path) -> None:
    many = tmp_path / "many.csv"
    good_row = GOOD.read_text().splitlines()[1]
    many.write_text(
        GOOD.read_text().splitlines()[0]
        + "\n"
        + "\n".join(
            good_row.replace("SYR1001", f"SYR{n}").replace(",1,Explosions", ",7,Explosions", 1) for n in range(80)
        )
        + "\n"
    )
    result = CliRunner().invoke(cli, ["build", "--sources", str(sources), "--db", str(db), "--import", str(many)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "many.csv:" in line]
    assert len(lines) == 50 and lines[0].startswith(f"{many}:2: SYR0: time_precision: ")
    assert "80 invalid rows" in result.output and "the first 50 problems are shown" in result.output
    assert "Traceback" not in result.output


def test_skip_invalid_leaves_bad_rows_out_and_counts_them(sources: Path, db: Path) -> None:
    result = CliRunner().invoke(
        cli, ["build", "--sources", str(sources), "--db", str(db), "--import", str(BAD), "--skip-invalid"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported 2 acled events" in result.output and "skipping 6 invalid rows" in result.output
    assert sum(":6: SYR2004: latitude:" in line for line in result.output.splitlines()) == 1
    assert rows(db, "SELECT id FROM events WHERE origin = 'acled' ORDER BY id") == [
        ("acled-syr2001",),
        ("acled-syr2008",),
    ]
    assert rows(db, "SELECT events, skipped, skip_invalid FROM imports") == [(2, 6, 1)]
    # The refused place was not written; the good rows' links all were.
    assert rows(db, "SELECT count(*) FROM places WHERE name = 'Nowhere'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM event_actors WHERE event_id = 'acled-syr2008'") == [(1,)]
    assert rows(db, "PRAGMA foreign_key_check") == []


def test_control_characters_are_refused_like_in_yaml(sources: Path, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "control.csv"
    path.write_text(GOOD.read_text().replace("Israeli aircraft", "Israeli\x07aircraft"))
    with pytest.raises(InvalidImport) as raised:
        acled_build(sources, db, path)
    assert [(p.line, p.field, p.message) for p in raised.value.problems] == [
        (2, "notes", "contains the control character U+0007")
    ]


def test_reimport_updates_in_place_and_reports_changes(sources: Path, db: Path, tmp_path: Path) -> None:
    acled_build(sources, db, GOOD)
    newer = tmp_path / "newer.csv"
    lines = GOOD.read_text().split("\n")
    header, body = lines[0], "\n".join(lines[1:])
    body = body.replace(",2,,1710500000", ",3,,1712000000")  # SYR1001: a higher death toll
    body = "\n".join(line for line in body.split("\n") if not line.startswith("SYR1005"))  # deleted by ACLED
    added = GOOD.read_text().splitlines()[1].replace("SYR1001", "SYR1006")
    newer.write_text(f"{header}\n{body.rstrip()}\n{added}\n")
    result = build(sources, db, [import_spec(f"acled={newer}", False)])
    assert result.imports[0].changes == (1, 1, 1)
    assert rows(db, "SELECT fatalities FROM events WHERE id = 'acled-syr1001'") == [(3,)]
    assert rows(db, "SELECT count(*) FROM events WHERE id = 'acled-syr1005'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM event_actors WHERE event_id = 'acled-syr1005'") == [(0,)]
    assert rows(db, "SELECT path FROM imports") == [("newer.csv",)]


def test_a_later_build_keeps_the_import(sources: Path, db: Path) -> None:
    acled_build(sources, db, GOOD)
    before = rows(db, "SELECT * FROM events ORDER BY id")
    result = build(sources, db)  # no --import: the recorded one is repeated
    assert [(r.spec.origin, r.events, r.changes) for r in result.imports] == [("acled", 5, (0, 0, 0))]
    assert rows(db, "SELECT * FROM events ORDER BY id") == before
    build(sources, db, drop_imports=True)
    assert rows(db, "SELECT DISTINCT origin FROM events") == [("curated",)]
    assert recorded_imports(db) == []


def test_a_missing_import_file_is_a_clear_error(sources: Path, db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "acled.csv"
    copy.write_bytes(GOOD.read_bytes())
    acled_build(sources, db, copy)
    before = db.read_bytes()
    copy.unlink()
    with pytest.raises(LoaderError, match="no such file to import.*--drop-imports"):
        build(sources, db)
    assert db.read_bytes() == before


def test_a_failed_import_leaves_the_previous_database_byte_identical(sources: Path, db: Path) -> None:
    acled_build(sources, db, GOOD)
    before = db.read_bytes()
    with pytest.raises(InvalidImport):
        acled_build(sources, db, BAD)
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_same_inputs_give_identical_files(sources: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    acled_build(sources, first, GOOD)
    acled_build(sources, second, GOOD)
    assert first.read_bytes() == second.read_bytes()


def test_store_columns_as_ndjson(sources: Path, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "extra.ndjson"
    good = {
        "id": "2025-09-01-extra",
        "title": "An extra event",
        "summary": "From a file.",
        "event_type": "meeting",
        "start_date": "2025-09-01",
        "end_date": "2025-09-01",
        "date_precision": "day",
        "place_id": "paris",
        "fatalities": 0,
    }
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                json.dumps({**good, "id": "2025-09-02-extra", "place_id": "pariss"}),
                "not json",
                json.dumps({**good, "id": "2025-09-03-extra", "fatalities": "many"}),
            ]
        )
        + "\n"
    )
    with pytest.raises(InvalidImport) as raised:
        build(sources, db, [import_spec(str(path), False)])
    found = {(p.line, p.field) for p in raised.value.problems}
    assert found == {(2, "place_id"), (3, "-"), (4, "fatalities")}
    result = build(sources, db, [import_spec(str(path), True)])
    assert [(r.spec.origin, r.format, r.events, r.skipped) for r in result.imports] == [("extra", "events", 1, 3)]
    assert rows(db, "SELECT origin FROM events WHERE id = '2025-09-01-extra'") == [("extra",)]


def test_store_columns_as_csv_need_the_required_ones(sources: Path, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("id,title,evnt_type\nx,y,meeting\n")
    with pytest.raises(InvalidImport) as raised:
        build(sources, db, [import_spec(str(path), False)])
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (1, "unknown column evnt_type (did you mean 'event_type'?)")
    ]


def test_an_import_newer_than_the_database_makes_it_stale(sources: Path, db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "acled.csv"
    copy.write_bytes(GOOD.read_bytes())
    for path in [sources, *sources.rglob("*"), copy]:
        then = time.time() - 60
        os.utime(path, (then, then))
    acled_build(sources, db, copy)
    assert not is_stale(db, sources)
    copy.touch()
    assert is_stale(db, sources)


# --- input classes that were accepted or misreported -------------------------


def acled_row(**changes: str) -> str:
    """The first row of the good ACLED sample, with some of its columns changed."""
    header, first = GOOD.read_text().splitlines()[:2]
    values = next(csv.reader([first]))
    columns = header.split(",")
    for column, value in changes.items():
        values[columns.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return header + "\n" + out.getvalue()


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        (
            {"fatalities": "99999999999999999999"},
            "fatalities",
            "'99999999999999999999' is too large for a 64-bit integer",
        ),
        ({"latitude": "nan"}, "latitude", "'nan, 36.2610' are not two finite numbers"),
        ({"longitude": "inf"}, "latitude", "'33.4939, inf' are not two finite numbers"),
    ],
)
def test_acled_values_sqlite_cannot_hold_are_refused(
    sources: Path, db: Path, tmp_path: Path, changes: dict[str, str], column: str, message: str
) -> None:
    path = tmp_path / "acled.csv"
    path.write_text(acled_row(**changes))
    with pytest.raises(InvalidImport) as raised:
        acled_build(sources, db, path)
    assert [(p.line, p.field, p.message) for p in raised.value.problems] == [(2, column, message)]


def test_deeply_nested_ndjson_is_one_bad_line(sources: Path, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "deep.ndjson"
    good = {"id": "2025-09-01-x", "title": "x", "summary": "x", "event_type": "meeting"}
    good |= {"start_date": "2025-09-01", "end_date": "2025-09-01", "date_precision": "day"}
    path.write_text(json.dumps(good) + "\n" + '{"id": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    result = CliRunner().invoke(cli, ["build", "--sources", str(sources), "--db", str(db), "--import", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}:2: -: -: not a record: its JSON is nested too deeply" in result.output


def test_a_bad_byte_is_reported_at_its_line_and_skipping_is_not_advised(
    sources: Path, db: Path, tmp_path: Path
) -> None:
    """The bad byte lies in the second of the blocks the line is counted in
    (rows.BLOCK), so the first block's lines must be carried over; every row
    before it is read and mapped, so a file no longer than that is built
    three times as fast as one of 10,000 rows was."""
    header, first = GOOD.read_text().splitlines()[:2]
    path = tmp_path / "long.csv"
    count = BLOCK // len(first) + 100  # the last row begins some 30 kB past the first block
    rows_ = [first.replace("SYR1001", f"SYR{n}") for n in range(count)]
    rows_[-1] = rows_[-1].replace("Kafr Sousa", "Kafr S\udcffousa")
    path.write_bytes((header + "\n" + "\n".join(rows_) + "\n").encode("utf-8", "surrogateescape"))
    assert path.stat().st_size - len(rows_[-1]) > BLOCK
    for extra in ([], ["--skip-invalid"]):
        result = CliRunner().invoke(
            cli, ["build", "--sources", str(sources), "--db", str(db), "--import", str(path), *extra]
        )
        assert result.exit_code == 1
        assert f"{path}:{count + 1}: -: -: not valid UTF-8 (byte 0xff); save the file as UTF-8" in result.output
        assert f"{path} cannot be imported; nothing was written." in result.output
        assert "--skip-invalid" not in result.output
    assert not db.exists()


def test_a_missing_column_is_named_as_one(sources: Path, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(GOOD.read_text().replace(",fatalities,", ",deaths,", 1))
    result = CliRunner().invoke(
        cli, ["build", "--sources", str(sources), "--db", str(db), "--import", str(path), "--skip-invalid"]
    )
    assert result.exit_code == 1
    assert f"{path}:1: -: -: missing ACLED column fatalities" in result.output
    assert "invalid row" not in result.output and "--skip-invalid" not in result.output


def test_an_origin_column_is_told_it_comes_from_the_import(sources: Path, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("id,title,origin\nx,y,z\n")
    with pytest.raises(InvalidImport) as raised:
        build(sources, db, [import_spec(str(path), False)])
    [problem] = raised.value.problems
    assert problem.message == "column origin is set by the import, from --import NAME=FILE; remove the column"
    assert "did you mean" not in problem.message


REFUSAL_RSS = 200 * 1024**2  # a refused build: the interpreter and the loader, and not the bad input


@pytest.mark.parametrize("name", ["commas.csv", "string.ndjson", "quoted.csv"])
def test_an_overlong_row_is_refused_at_its_line_in_bounded_memory(name: str, tmp_path: Path) -> None:
    """B13: a line of 2×10⁹ commas, or a JSON string of 2 GB, was read whole
    (3.95 GB before the cap stopped it). A row longer than MAX_ROW is refused
    at its line having read no more of it; so is a CSV record that runs over
    many short lines of quoted line breaks."""
    shutil.copytree(VALID, tmp_path / "sources")
    header = GOOD.read_text().splitlines()[0]
    with (tmp_path / name).open("w", encoding="utf-8") as f:
        if name == "commas.csv":
            f.write(header + "\n" + GOOD.read_text().splitlines()[1] + "\n" + "," * 100_000_000 + "\n")
            line = 3
        elif name == "string.ndjson":
            f.write('{"id": "' + "x" * 100_000_000 + '"}\n')
            line = 1
        else:
            f.write(header + "\n" + '"a\n",' * (MAX_ROW // 2) + '"a"\n')  # lines of four characters: ","a
            line = 2 + MAX_ROW // 4
    outcome = run_subprocess(tmp_path, ("--import", name))
    assert outcome.exit_code == 1, outcome.output
    assert f"{name}:{line}: -: -: a row longer than {MAX_ROW:,} characters" in outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.peak_rss is not None and outcome.peak_rss < REFUSAL_RSS


def test_a_header_that_is_not_one_is_not_repeated(sources: Path, db: Path, tmp_path: Path) -> None:
    """B14: `--import ../../etc/passwd` printed the file's first line as an
    unknown column. A header name is repeated only when it looks like a
    column name, so that no file the user can read is shown by a message."""
    path = tmp_path / "passwd"
    path.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    with pytest.raises(InvalidImport) as raised:
        build(sources, db, [import_spec(str(path), False)])
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (1, "column 1 is not named like a column; is this a file of events?")
    ]
    ndjson = tmp_path / "extra.ndjson"
    good = {"id": "2025-09-01-x", "title": "x", "summary": "x", "event_type": "meeting"}
    good |= {"start_date": "2025-09-01", "end_date": "2025-09-01", "date_precision": "day", "place_id": "paris"}
    ndjson.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "y", "root:x:0:0:/bin/bash": 1}) + "\n")
    with pytest.raises(InvalidImport) as raised:
        build(sources, db, [import_spec(str(ndjson), False)])
    assert [(p.line, p.message) for p in raised.value.problems] == [
        (2, "field 9 is not named like a field; is this a file of events?")
    ]
