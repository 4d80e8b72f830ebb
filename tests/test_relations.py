"""Event relations (sources/relations.yml): each rule refused at its FILE:LINE
on a copy of the valid fixture with tests/fixtures/relations added, and the
rows the valid ones make."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loader.errors import InvalidSources
from loader.records.archive import Archive
from loader.records.relations import cycles
from loader.records.sources import validate
from tests.support.dataset import dataset_sources

FIXTURES = Path(__file__).parent / "fixtures"
ARCHIVE = Archive((FIXTURES / "archive",))
PARIS = "2025-08-19-paris-shaibani-dermer"
STRIKES = "2025-07-strikes-on-damascus"


@pytest.fixture
def related(sources: Path) -> Path:
    shutil.copy(FIXTURES / "relations" / "relations.yml", sources / "relations.yml")
    return sources


def refused(sources: Path, old: str, new: str) -> list[tuple[int, str, str]]:
    path = sources / "relations.yml"
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    with pytest.raises(InvalidSources) as raised:
        validate(sources, archive=ARCHIVE)
    assert {p.path for p in raised.value.problems} == {"relations.yml"} or all(
        p.path.endswith("relations.yml") for p in raised.value.problems
    )
    return [(p.line, p.field, p.message) for p in raised.value.problems]


def test_valid_relations_load_as_rows(related: Path) -> None:
    dataset = validate(related, archive=ARCHIVE)
    rows = list(dataset.db.query("SELECT * FROM event_relations ORDER BY type"))
    assert [(r["from_event_id"], r["type"], r["to_event_id"], r["inferred"], r["number"]) for r in rows] == [
        (STRIKES, "part_of", PARIS, 1, 1),
        (PARIS, "responds_to", STRIKES, 0, None),
    ]
    assert rows[1]["paragraphs"] == '["5:17ba9f04"]'


def test_an_unknown_event_is_refused_with_the_id_it_likely_means(related: Path) -> None:
    found = refused(related, f"    to: {STRIKES}\n", "    to: 2025-07-strikes-on-damascsu\n")
    assert [(line, field) for line, field, _ in found] == [(6, "to")]
    assert f"did you mean '{STRIKES}'" in found[0][2]


def test_an_event_related_to_itself_is_refused(related: Path) -> None:
    found = refused(related, f"    to: {STRIKES}\n", f"    to: {PARIS}\n")
    assert [(line, field) for line, field, _ in found] == [(6, "to")]
    assert "cannot be related to itself" in found[0][2]


def test_a_cycle_of_part_of_is_refused_at_the_relation_that_starts_it(related: Path) -> None:
    path = related / "relations.yml"
    path.write_text(
        path.read_text()
        + f"  - {{from: {PARIS}, type: part_of, to: {STRIKES}, inferred: true, note: A slip written the wrong way round.}}\n"
    )
    with pytest.raises(InvalidSources) as raised:
        validate(related, archive=ARCHIVE)
    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (12, "to")
    assert f"part_of goes round in a circle: '{STRIKES}' → '{PARIS}' → '{STRIKES}'" in problem.message


def test_cycles_are_found_once_each_from_their_smallest_id() -> None:
    links = [("c", "a"), ("a", "b"), ("b", "c"), ("d", "a"), ("e", "f"), ("f", "e"), ("g", "h")]
    assert cycles(links) == [["a", "b", "c"], ["e", "f"]]
    assert cycles([("r2", "r1"), ("r3", "r2")]) == []


def test_an_unknown_type_is_refused_with_the_nearest(related: Path) -> None:
    found = refused(related, "    type: responds_to\n", "    type: responds\n")
    assert [(line, field) for line, field, _ in found] == [(5, "type")]
    assert "did you mean 'responds_to'" in found[0][2]


def test_a_citation_lists_its_paragraphs_and_each_is_checked_against_the_archive(related: Path) -> None:
    found = refused(related, '    paragraphs: ["5:17ba9f04"]\n', "")
    assert [(line, field) for line, field, _ in found] == [(4, "paragraphs")]
    assert "is required" in found[0][2]
    shutil.copy(FIXTURES / "relations" / "relations.yml", related / "relations.yml")
    found = refused(related, '["5:17ba9f04"]', '["5:17ba9f05"]')
    assert [(line, field) for line, field, _ in found] == [(8, "paragraphs")]
    assert "it is not the text this locator was taken from" in found[0][2]


def test_a_relation_is_cited_or_inferred_with_a_reason(related: Path) -> None:
    found = refused(related, "    inferred: true\n", "")
    assert [(line, field) for line, field, _ in found] == [(10, "document_id")]
    shutil.copy(FIXTURES / "relations" / "relations.yml", related / "relations.yml")
    found = refused(related, "    note: The curators take", "    # The curators take")
    assert [(line, field) for line, field, _ in found] == [(10, "note")]
    shutil.copy(FIXTURES / "relations" / "relations.yml", related / "relations.yml")
    found = refused(related, "    inferred: true\n", "    inferred: yes\n")
    assert [(line, field) for line, field, _ in found] == [(14, "inferred")]
    assert "expected true or false" in found[0][2]


def test_only_part_of_has_a_number(related: Path) -> None:
    found = refused(related, "    type: responds_to\n", "    type: responds_to\n    number: 2\n")
    assert [(line, field) for line, field, _ in found] == [(6, "number")]
    assert "only a part_of relation" in found[0][2]


@pytest.mark.dataset
def test_every_relation_in_the_sources_is_cited_or_marked_inferred_with_a_reason() -> None:
    """An invariant of the real sources: a relation rests on paragraphs of a
    document or says why the curators infer it, and no event is part of a
    process that is in turn part of it."""
    dataset = validate(dataset_sources())
    rows = list(dataset.db.query("SELECT * FROM event_relations"))
    unsupported = [
        r
        for r in rows
        if not (
            (r["document_id"] and json.loads(r["paragraphs"] or "[]")) or (r["inferred"] and (r["note"] or "").strip())
        )
    ]
    assert unsupported == []
    for type_ in ("part_of", "follows"):
        assert cycles([(r["from_event_id"], r["to_event_id"]) for r in rows if r["type"] == type_]) == []
