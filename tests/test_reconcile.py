"""Imports that join the curated store: a real build of the published fixture
with a small ACLED file (tests/fixtures/reconcile) whose places and actors
meet the curated ones in every way the reconciliation knows. Expected values
are the fixture's own records, read back by SQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from loader.build.database import build
from loader.imports.importer import ImportSpec
from loader.imports.reconcile import MAX_DISTANCE_KM, distance_km, fold, reconcile
from loader.records.sources import validate
from tests.conftest import FIXTURES, published_sources

RECONCILE = FIXTURES / "reconcile"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("reconcile")
    sources = published_sources(directory / "sources")
    shutil.copy(RECONCILE / "matches.yml", sources / "matches.yml")
    db = directory / "events.db"
    build(sources, db, imports=[ImportSpec(RECONCILE / "acled.csv", "acled", False)])
    return db, sources


@pytest.fixture(scope="module")
def sql(built: tuple[Path, Path]):
    conn = sqlite3.connect(built[0])
    yield lambda query, params=(): conn.execute(query, params).fetchall()
    conn.close()


def test_alias_within_distance_is_the_curated_place(sql) -> None:
    assert sql("select place_id from events where id = 'acled-syr9001'") == [("sweida",)]
    ((how, km, events),) = sql(
        "select how, distance_km, events from reconciliation where kind = 'place' and name = 'As-Suwayda'"
    )
    assert (how, events) == ("alias", 1) and km < MAX_DISTANCE_KM
    assert sql("select count(*) from places where name = 'As-Suwayda'") == [(0,)]
    # The canned query by any of the place's names now finds the imported event too.
    assert ("acled-syr9001",) in sql("select id from events where place_id = 'sweida'")


def test_a_near_miss_is_left_apart_and_reported(sql) -> None:
    ((place_id,),) = sql("select place_id from events where id = 'acled-syr9002'")
    assert place_id != "sweida" and place_id.startswith("acled-")
    assert sql("select name, latitude from places where id = ?", (place_id,)) == [("Sweida", 35.33)]
    ((how, curated, km),) = sql(
        "select how, curated_id, distance_km from reconciliation where imported_id = ?", (place_id,)
    )
    assert (how, curated) == ("apart: too far", "sweida")
    assert km == pytest.approx(distance_km((35.33, 40.14), (32.70896, 36.56951)))
    assert km > MAX_DISTANCE_KM


def test_overrides_join_an_actor_and_keep_a_place_apart(sql) -> None:
    assert sql("select actor_id from event_actors where event_id = 'acled-syr9001' order by actor_id") == [
        ("ahmed-al-sharaa",),
        ("israel",),
    ]
    assert sql("select count(*) from actors where name = 'Military Forces of Israel (2022-)'") == [(0,)]
    assert sql("select how, events from reconciliation where name = 'Military Forces of Israel (2022-)'") == [
        ("override", 2)
    ]
    ((place_id,),) = sql("select place_id from events where id = 'acled-syr9003'")
    assert place_id != "paris"
    assert sql("select how, curated_id from reconciliation where imported_id = ?", (place_id,)) == [
        ("apart: override", "paris")
    ]


def test_actors_join_by_name_and_alias(sql) -> None:
    rows = sql("select name, curated_id, how from reconciliation where kind = 'actor' order by name")
    assert ("Julani", "ahmed-al-sharaa", "alias") in rows
    assert ("Ahmed al-Sharaa", "ahmed-al-sharaa", "name") in rows
    # Unknown Group (Syria) matches nothing: it stays an imported actor and is not in the report.
    assert sql("select count(*) from actors where name = 'Unknown Group (Syria)'") == [(1,)]
    assert not any(name == "Unknown Group (Syria)" for name, _, _ in rows)


def test_same_geonames_id_is_the_curated_place(built: tuple[Path, Path], tmp_path: Path) -> None:
    """An import that gives GeoNames ids: the id decides, whatever the name or point."""
    source, sources = built
    copy = tmp_path / "events.db"
    shutil.copy(source, copy)
    db = sqlite_utils.Database(copy)
    db.table("places").insert(
        {"id": "acled-x-1", "name": "Suwaida City", "kind": "town", "latitude": 32.8, "longitude": 36.6}
        | {"geo_precision": "locality", "geonames_id": 163345}
    )
    db.execute("update events set place_id = 'acled-x-1' where id = 'acled-syr9002'")
    dataset = validate(sources)
    result = reconcile(db, dataset.db, dataset.schema)
    (match,) = [m for m in result.matches if m.imported_id == "acled-x-1"]
    assert (match.curated_id, match.how, match.events) == ("sweida", "geonames_id", 1)
    assert db.execute("select place_id from events where id = 'acled-syr9002'").fetchone() == ("sweida",)
    assert db.execute("select count(*) from places where id = 'acled-x-1'").fetchone() == (0,)


def test_fold_ignores_case_marks_punctuation_and_a_leading_article() -> None:
    assert fold("As-Suwaydā") == fold("suwayda") == "suwayda"
    assert fold("Al Qunaytirah") == "qunaytirah"
    assert fold("Damascus - Kafr Sousa") == "damascus kafr sousa"
    assert fold("Al") == "al"


def test_a_build_without_imports_reports_nothing(sources: Path, tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    build(sources, db)
    assert sqlite_utils.Database(db)["reconciliation"].count == 0
