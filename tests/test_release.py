"""`release`: a complete, checksummed, valid Data Package, and the changes since the last one."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import frictionless
import geojson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasette.utils import parse_metadata

from loader.build.database import build
from loader.cli import cli
from loader.imports.importer import ImportSpec
from loader.metadata import METADATA_PATH
from loader.records.published import PUBLISHED_IDS
from loader.records.sources import DEFAULT_SOURCES, InvalidSources, validate
from loader.release.cut import ReleaseError, ReleaseResult, release
from tests.conftest import published_sources

FIXTURES = Path(__file__).parent / "fixtures"
ARROW_NAMES = {"INTEGER": "int64", "REAL": "double", "TEXT": "string", "BLOB": "binary", "ANY": "string"}


def cut(sources: Path, dist: Path, version: str, released: str = "2026-02-01") -> ReleaseResult:
    # db names no existing database: the release imports nothing.
    return release(sources, dist / "none.db", dist, version, released)


def later_sources(sources: Path) -> None:
    """Turn the valid fixture into tests/fixtures/release's later state."""
    shutil.copy(FIXTURES / "release" / "paris.yml", sources / "events" / "paris.yml")
    shutil.copy(FIXTURES / "release" / "withdrawals.yml", sources / "withdrawals.yml")
    shutil.copy(FIXTURES / "release" / "relations.yml", sources / "relations.yml")


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseResult, ReleaseResult]:
    directory = tmp_path_factory.mktemp("releases")
    sources = directory / "sources"
    shutil.copytree(FIXTURES / "valid", sources)
    first = cut(sources, directory / "dist", "2026.01.10")
    later_sources(sources)
    second = cut(sources, directory / "dist", "2026.02.01")
    return first, second


def files_in(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def test_every_file_is_in_the_package_and_the_checksums(two_releases: tuple[ReleaseResult, ReleaseResult]) -> None:
    directory = two_releases[1].directory
    assert directory.name == "event-store-2026.02.01"
    files = files_in(directory)
    assert {"events.db", "csv/events.csv", "parquet/events.parquet", "events.geojson", "places.geojson"} <= files
    assert {"CITATION.cff", "README.md", "CHANGES.md", "changes.json"} <= files
    package = json.loads((directory / "datapackage.json").read_text())
    assert {r["path"] for r in package["resources"]} == files - {"datapackage.json", "SHA256SUMS"}
    sums = {
        name: digest
        for digest, name in (line.split("  ", 1) for line in (directory / "SHA256SUMS").read_text().splitlines())
    }
    assert set(sums) == files - {"SHA256SUMS"}
    for path, digest in sums.items():
        assert hashlib.sha256((directory / path).read_bytes()).hexdigest() == digest, path
    for resource in package["resources"]:
        assert resource["hash"] == f"sha256:{sums[resource['path']]}"


def test_the_package_validates_with_frictionless(two_releases: tuple[ReleaseResult, ReleaseResult]) -> None:
    report = frictionless.validate(two_releases[1].directory / "datapackage.json")
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "message"])
    package = json.loads((two_releases[1].directory / "datapackage.json").read_text())
    events = next(r for r in package["resources"] if r["name"] == "events")
    assert events["schema"]["primaryKey"] == ["id"]
    assert {"fields": ["place_id"], "reference": {"resource": "places", "fields": ["id"]}} in events["schema"][
        "foreignKeys"
    ]
    described = {f["name"]: f.get("description", "") for f in events["schema"]["fields"]}
    meanings = parse_metadata(METADATA_PATH.read_text())["databases"]["events"]["tables"]["events"]["columns"]
    assert described == meanings  # every column described, as metadata.yml says
    assert package["licenses"][0]["name"] == "CC-BY-4.0"


def test_parquet_has_sqlite_rows_and_types(two_releases: tuple[ReleaseResult, ReleaseResult]) -> None:
    directory = two_releases[1].directory
    conn = sqlite3.connect(directory / "events.db")
    parquet_files = sorted((directory / "parquet").glob("*.parquet"))
    assert {p.stem for p in parquet_files} >= {"events", "places", "actors", "claims", "dataset_release"}
    for path in parquet_files:
        table = pq.read_table(path)
        # An ANY column (facet_counts' values) is written as text, as loader/release/exports.py does.
        declared = [
            (row[1], ARROW_NAMES.get(row[2], "string")) for row in conn.execute(f"PRAGMA table_info([{path.stem}])")
        ]
        assert [(f.name, str(f.type)) for f in table.schema] == declared, path.stem
        assert table.num_rows == conn.execute(f"SELECT count(*) FROM [{path.stem}]").fetchone()[0], path.stem
    events = pq.read_table(directory / "parquet" / "events.parquet").to_pylist()
    assert events == [
        dict(zip([c[0] for c in cursor.description], row, strict=True))
        for cursor in [conn.execute("SELECT * FROM events ORDER BY id")]
        for row in cursor.fetchall()
    ]


def test_geojson_holds_the_located_events_and_places(two_releases: tuple[ReleaseResult, ReleaseResult]) -> None:
    directory = two_releases[1].directory
    events = geojson.loads((directory / "events.geojson").read_text())
    assert events.is_valid
    assert {f["id"] for f in events["features"]} == {
        "2025-08-19-paris-shaibani-dermer",
        "2025-07-israeli-strikes-on-damascus",
    }
    places = geojson.loads((directory / "places.geojson").read_text())
    assert "damascus" in {f["id"] for f in places["features"]}


def test_an_event_on_one_of_a_few_days_is_exported_with_its_precision_and_label(tmp_path: Path) -> None:
    """tests/fixtures/publish has a visit on the 30th or the 31st (days precision)."""
    result = cut(published_sources(tmp_path / "sources"), tmp_path / "dist", "2026.01.10")
    visit = "2025-07-30-to-31-shaibani-visits-moscow"
    (feature,) = [
        f for f in geojson.loads((result.directory / "events.geojson").read_text())["features"] if f["id"] == visit
    ]
    assert feature["properties"]["date_label"] == "between 30 and 31 July 2025"
    with (result.directory / "csv" / "events.csv").open(encoding="utf-8") as file:
        (row,) = [r for r in csv.DictReader(file) if r["id"] == visit]
    assert (row["start_date"], row["end_date"], row["date_precision"]) == ("2025-07-30", "2025-07-31", "days")


def test_changes_list_exactly_what_was_added_changed_and_withdrawn(
    two_releases: tuple[ReleaseResult, ReleaseResult],
) -> None:
    changes = json.loads((two_releases[1].directory / "changes.json").read_text())
    assert changes["previous"] == "2026.01.10" and changes["version"] == "2026.02.01"
    touched = {name: found for name, found in changes["tables"].items() if any(found.values())}
    assert set(touched) == {"events", "event_documents", "event_relations", "withdrawals"}
    events = touched["events"]
    assert events["added"] == ["2025-07-israeli-strikes-on-damascus"]
    assert events["changed"] == [
        {
            "key": "2025-08-19-paris-shaibani-dermer",
            "fields": {
                "summary": {
                    "old": "The Syrian foreign minister meets an Israeli delegation led by Ron Dermer in Paris, "
                    "with US mediation.",
                    "new": "The Syrian foreign minister meets an Israeli delegation led by Ron Dermer in Paris; "
                    "US envoy Tom Barrack mediates.",
                },
                "status": {"old": "disputed", "new": "confirmed"},
            },
        }
    ]
    assert events["withdrawn"] == [
        {
            "key": "2025-07-strikes-on-damascus",
            "withdrawn": "2025-10-02",
            "reason": "Renamed to say whose strikes they were.",
            "replaced_by": "2025-07-israeli-strikes-on-damascus",
        }
    ]
    assert touched["event_documents"]["added"] == ["2025-07-israeli-strikes-on-damascus/newarab-paris-meeting"]
    assert [w["key"] for w in touched["event_documents"]["withdrawn"]] == [
        "2025-07-strikes-on-damascus/newarab-paris-meeting"
    ]
    assert touched["withdrawals"]["added"] == ["events/2025-07-strikes-on-damascus"]
    markdown = (two_releases[1].directory / "CHANGES.md").read_text()
    assert "# Changes in 2026.02.01 since 2026.01.10" in markdown
    assert "| events | 1 | 1 | 1 |" in markdown and "| event_documents | 1 | 0 | 1 |" in markdown
    assert "| `2025-08-19-paris-shaibani-dermer` | status | disputed | confirmed |" in markdown
    assert "replaced by `2025-07-israeli-strikes-on-damascus`" in markdown


def test_a_release_records_its_ids_and_version(two_releases: tuple[ReleaseResult, ReleaseResult]) -> None:
    first, second = two_releases
    sources = second.bookkeeping[0].parent
    lines = (sources / PUBLISHED_IDS).read_text().splitlines()
    assert "events\t2025-07-strikes-on-damascus\t2026.01.10" in lines
    assert "events\t2025-07-israeli-strikes-on-damascus\t2026.02.01" in lines
    conn = sqlite3.connect(second.directory / "events.db")
    assert conn.execute("SELECT version, released FROM dataset_release").fetchone() == ("2026.02.01", "2026-02-01")
    citation = (second.directory / "CITATION.cff").read_text()
    assert 'version: "2026.02.01"' in citation and 'date-released: "2026-02-01"' in citation


def test_a_dropped_id_without_a_withdrawal_is_refused_with_its_line(sources: Path, tmp_path: Path) -> None:
    cut(sources, tmp_path / "dist", "2026.01.10")
    shutil.copy(FIXTURES / "release" / "paris.yml", sources / "events" / "paris.yml")  # no withdrawal this time
    shutil.copy(FIXTURES / "release" / "relations.yml", sources / "relations.yml")
    db = tmp_path / "events.db"
    with pytest.raises(InvalidSources) as refused:
        build(sources, db)
    lines = (sources / PUBLISHED_IDS).read_text().splitlines()
    line = lines.index("events\t2025-07-strikes-on-damascus\t2026.01.10") + 1
    [problem] = refused.value.problems
    assert (problem.path.endswith(PUBLISHED_IDS), problem.line, problem.record) == (
        True,
        line,
        "2025-07-strikes-on-damascus",
    )
    assert "withdrawal" in problem.message
    assert not db.exists()
    with pytest.raises(InvalidSources) as refused:  # valid means one thing: validate() refuses it too
        validate(sources)
    assert refused.value.problems == [problem]
    for command in (["build", "--db", str(db)], ["validate"]):
        result = CliRunner().invoke(cli, [*command, "--sources", str(sources)])
        assert result.exit_code == 1
        assert f"{PUBLISHED_IDS}:{line}: 2025-07-strikes-on-damascus: events:" in result.output


def test_a_withdrawal_must_name_a_real_replacement(sources: Path, tmp_path: Path) -> None:
    path = sources / "withdrawals.yml"
    path.write_text(path.read_text().replace("replaced_by: 2025-08-19-paris-shaibani-dermer", "replaced_by: nowhere"))
    with pytest.raises(InvalidSources) as refused:
        build(sources, tmp_path / "events.db")
    [problem] = refused.value.problems
    line = path.read_text().splitlines().index("    replaced_by: nowhere") + 1
    assert (problem.path.endswith("withdrawals.yml"), problem.line, problem.field) == (True, line, "replaced_by")
    assert "'nowhere' is not a known events id" in problem.message


def test_two_releases_of_the_same_sources_differ_only_in_the_release_date(sources: Path, tmp_path: Path) -> None:
    a = cut(sources, tmp_path / "a", "2026.01.10", "2026-01-10")
    b = cut(sources, tmp_path / "b", "2026.01.10", "2026-01-10")
    assert (a.directory / "SHA256SUMS").read_bytes() == (b.directory / "SHA256SUMS").read_bytes()
    c = cut(sources, tmp_path / "c", "2026.01.10", "2026-03-04")
    conn = sqlite3.connect(a.directory / "events.db")
    conn.execute("ATTACH ? AS c", [str(c.directory / "events.db")])
    assert conn.execute("SELECT released FROM c.dataset_release").fetchone() == ("2026-03-04",)
    for table in ("events", "places", "actors", "claims", "withdrawals"):
        assert conn.execute(f"SELECT * FROM [{table}] EXCEPT SELECT * FROM c.[{table}]").fetchall() == []
    differing = {
        line.split("  ")[1]
        for line in set((a.directory / "SHA256SUMS").read_text().splitlines())
        ^ set((c.directory / "SHA256SUMS").read_text().splitlines())
    }
    assert differing == {
        "events.db",
        "csv/dataset_release.csv",
        "parquet/dataset_release.parquet",
        "csv/releases.csv",
        "parquet/releases.parquet",
        "CITATION.cff",
        "README.md",
        "datapackage.json",
    }


def test_release_of_the_real_sources_validates(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES, sources)
    result = CliRunner().invoke(
        cli,
        ["release", "--sources", str(sources), "--db", str(tmp_path / "none.db"), "--dist", str(tmp_path / "dist")],
    )
    assert result.exit_code == 0, result.output
    [directory] = (tmp_path / "dist").iterdir()
    report = frictionless.validate(directory / "datapackage.json")
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "message"])
    conn = sqlite3.connect(directory / "events.db")
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert (
        len(geojson.loads((directory / "events.geojson").read_text())["features"])
        == conn.execute("SELECT count(*) FROM event_list WHERE geometry IS NOT NULL").fetchone()[0]
    )
    assert events > 0 and f"{events} records" in (directory / "CHANGES.md").read_text()


def test_a_release_carries_the_imports_the_database_was_built_with(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db, [ImportSpec(FIXTURES / "acled" / "syria.csv", "acled", False)])
    result = release(sources, db, tmp_path / "dist", "2026.01.10", "2026-01-10")
    conn = sqlite3.connect(result.directory / "events.db")
    imported = conn.execute("SELECT count(*) FROM events WHERE origin = 'acled'").fetchone()[0]
    assert imported > 0
    assert conn.execute("SELECT origin, events FROM imports").fetchall() == [("acled", imported)]
    assert (
        pq.read_table(result.directory / "parquet" / "events.parquet").num_rows
        == conn.execute("SELECT count(*) FROM events").fetchone()[0]
    )
    # Only the curated records' ids are the release's to keep: ACLED keeps its own.
    published = {line.split("\t")[1] for line in (sources / PUBLISHED_IDS).read_text().splitlines()[2:]}
    acled_ids = {row[0] for row in conn.execute("SELECT id FROM events WHERE origin = 'acled'")}
    assert "2025-08-19-paris-shaibani-dermer" in published and not acled_ids & published


def test_previous_names_the_release_to_compare_with(
    two_releases: tuple[ReleaseResult, ReleaseResult], tmp_path: Path
) -> None:
    first, second = two_releases
    sources = tmp_path / "sources"  # a copy: this release appends to its bookkeeping
    shutil.copytree(second.bookkeeping[0].parent, sources)
    result = CliRunner().invoke(
        cli,
        [
            "release",
            "--sources",
            str(sources),
            "--db",
            str(tmp_path / "none.db"),
            "--dist",
            str(tmp_path / "dist"),
            "--version",
            "2026.03.01",
            "--released",
            "2026-03-01",
            "--previous",
            str(first.directory / "events.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 added, 1 changed, 3 withdrawn since 2026.01.10" in result.output
    again = json.loads((tmp_path / "dist" / "event-store-2026.03.01" / "changes.json").read_text())
    assert again["tables"] == json.loads((second.directory / "changes.json").read_text())["tables"]


def test_a_failed_release_leaves_the_previous_one_and_nothing_else(sources: Path, tmp_path: Path) -> None:
    first = cut(sources, tmp_path / "dist", "2026.01.10")
    before = {p: p.read_bytes() for p in first.directory.rglob("*") if p.is_file()}
    (sources / "places.yml").write_text("places:\n  - id: Not A Slug\n", encoding="utf-8")
    with pytest.raises(InvalidSources):
        cut(sources, tmp_path / "dist", "2026.02.01")
    assert [p.name for p in (tmp_path / "dist").iterdir()] == [first.directory.name]
    assert {p: p.read_bytes() for p in first.directory.rglob("*") if p.is_file()} == before
    with pytest.raises(ReleaseError, match="expected YYYY.MM.DD"):
        cut(sources, tmp_path / "dist", "v2")
