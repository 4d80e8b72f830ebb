"""What the loader learns from schema.sql."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from loader.metadata import named_by, referring_columns, tables_metadata
from loader.reference import view_columns
from loader.schema import SCHEMA_PATH, read_schema, split_schema


def test_every_named_check_is_found() -> None:
    schema = read_schema()
    tables_sql = schema.tables_sql
    declared = re.findall(r'CONSTRAINT "(\w+): ([^"]+)"', tables_sql)
    found = [(c.field, c.message) for t in schema.tables.values() for c in t.checks]
    assert sorted(found) == sorted(declared)
    assert len(found) > 40


def test_check_fields_are_columns_of_their_table() -> None:
    for table in read_schema().tables.values():
        for check in table.checks:
            assert check.field in table.columns, f"{table.name}: {check.field}"


def test_columns_types_keys_and_references() -> None:
    tables = read_schema().tables
    events = tables["events"]
    assert events.primary_key == ("id",)
    assert events.columns["title"].required and not events.columns["notes"].required
    assert not events.columns["status"].required  # it has a default
    assert {(fk.column, fk.table) for fk in events.foreign_keys} == {
        ("event_type", "event_types"),
        ("place_id", "places"),
    }
    assert tables["places"].columns["aliases"].json
    assert tables["places"].columns["latitude"].type == "REAL"
    assert tables["event_actors"].primary_key == ("event_id", "actor_id", "role")


def test_every_table_is_strict() -> None:
    """Both parts of schema.sql, run in a real database: every ordinary table is STRICT."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA_PATH.read_text())
    tables = {
        name: strict
        for _schema, name, kind, _ncol, _wr, strict in conn.execute("pragma main.table_list")
        if kind == "table" and not name.startswith("sqlite_")  # not FTS5's shadow tables either
    }
    assert {"events", "claims", "imports"} <= set(tables)
    assert [name for name, strict in tables.items() if not strict] == []


def test_schema_without_marker_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="@after-load"):
        split_schema("CREATE TABLE t (x TEXT);")


def test_vocabularies_are_read_from_the_checks() -> None:
    roles = read_schema().tables["event_actors"].vocabulary("role")
    assert "supporter" in roles and roles[0] == "participant"
    assert read_schema().tables["events"].vocabulary("title") == ()


@pytest.fixture(scope="module")
def metadata() -> dict[str, dict]:
    """metadata.yml's tables and views, parsed once for the module's many
    cases rather than once a case (a third of a second each)."""
    return tables_metadata()


@pytest.mark.parametrize("table", list(read_schema().tables))
def test_metadata_describes_every_column_and_no_other(metadata: dict[str, dict], table: str) -> None:
    """metadata.yml holds what each column means; docs/reference.md is generated from it and schema.sql."""
    described = (metadata.get(table) or {}).get("columns") or {}
    columns = read_schema().tables[table].columns
    assert [c for c in columns if not str(described.get(c) or "").strip()] == [], "columns without a description"
    assert [c for c in described if c not in columns] == [], "descriptions of columns schema.sql does not have"


@pytest.mark.parametrize("table", list(read_schema().tables))
def test_a_description_that_lists_values_lists_them_all(metadata: dict[str, dict], table: str) -> None:
    described = (metadata.get(table) or {}).get("columns") or {}
    for column in read_schema().tables[table].columns:
        values = read_schema().tables[table].vocabulary(column)
        words = set(re.findall(r"[\w-]+", str(described.get(column, ""))))
        named = [v for v in values if v in words]
        if len(named) >= 2:
            assert sorted(set(values) - words) == [], f"{table}.{column}'s description misses values"


@pytest.mark.parametrize(("view", "columns"), list(view_columns().items()))
def test_metadata_describes_every_column_of_every_view(
    metadata: dict[str, dict], view: str, columns: list[str]
) -> None:
    """A view's page shows what its columns mean, as a table's does (a view may share a table's descriptions)."""
    described = (metadata.get(view) or {}).get("columns") or {}
    assert (metadata.get(view) or {}).get("description"), f"{view} has no description"
    assert [c for c in columns if not str(described.get(c) or "").strip()] == [], "columns without a description"


def test_references_are_named_by_the_foreign_keys_and_label_columns() -> None:
    """Which column names which table is read from schema.sql and metadata.yml, not written a third time."""
    assert named_by("claims", "dispute_id") == ("disputes", "id", "question")
    assert named_by("events", "event_type") == ("event_types", "code", "label")
    assert named_by("places", "parent_id") == ("places", "id", "name")
    assert named_by("actors", "parent_id") == ("actors", "id", "name")
    assert named_by("events", "actor_id") == ("actors", "id", "name")  # a nested field of an event's record
    assert named_by("events", "summary") is None
    tables = read_schema().tables
    for column, named in referring_columns().items():
        assert named.label in tables[named.table].columns, column
        assert any(fk.column == column for table in tables.values() for fk in table.foreign_keys)


def test_every_locator_column_checks_one_rule() -> None:
    """schema.sql writes the locator rule out on each column (SQLite cannot
    share a CHECK): the copies must not drift apart."""
    rules = {}
    for table in read_schema().tables.values():
        for check in table.checks:
            if "locators written N:HASH" in check.message:
                rule = " ".join(check.expression.replace(check.field, "x").split())
                rules[(table.name, check.field)] = rule.replace(" AND json_array_length(x) >= 1", "")
    assert ("event_documents", "paragraphs") in rules and ("documents", "date_paragraphs") in rules, rules.keys()
    assert len(set(rules.values())) == 1, rules
