"""The rules about what a document can be cited for (loader/records/evidence.py),
each refused at its FILE:LINE on the fixture sources and their archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.errors import InvalidSources
from loader.records.archive import Archive
from loader.records.sources import validate

ARCHIVE = Archive((Path(__file__).parent / "fixtures" / "archive",))


def refused(sources: Path, old: str, new: str, name: str = "events/paris.yml") -> list[tuple[int, str, str]]:
    path = sources / name
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    with pytest.raises(InvalidSources) as raised:
        validate(sources, archive=ARCHIVE)
    return [(p.line, p.field, p.message) for p in raised.value.problems]


def test_the_outlet_of_the_claims_own_document_is_not_its_claimant(sources: Path) -> None:
    actors = sources / "actors.yml"
    actors.write_text(
        actors.read_text()
        + "  - {id: the-cradle, name: Cradle, aliases: [{name: The Cradle, lang: en}], kind: media_outlet}\n"
    )
    found = refused(sources, "        claimant_id: sana\n", "        claimant_id: the-cradle\n")
    assert [(line, field) for line, field, _ in found] == [(24, "claimant_id")]
    assert "the outlet is the document" in found[0][2]


def test_a_preview_supports_no_outcome_and_names_actors_as_expected(sources: Path) -> None:
    found = refused(
        sources,
        "supports: [occurrence, actors], paragraphs:",
        "supports: [occurrence, actors, outcome], basis: preview, paragraphs:",
    )
    assert [(line, field) for line, field, _ in found] == [(15, "basis"), (16, "basis"), (19, "supports")]
    assert "cannot support outcome" in found[2][2]
    assert "write basis: preview" in found[0][2]


def test_a_citations_inferred_facts_are_among_what_it_supports(sources: Path) -> None:
    found = refused(
        sources,
        "supports: [occurrence, actors], paragraphs:",
        "supports: [occurrence, actors], inferred: [date], paragraphs:",
    )
    assert [(line, field) for line, field, _ in found] == [(19, "inferred")]


def test_prose_that_admits_an_inference_or_outside_knowledge_needs_its_field(sources: Path) -> None:
    found = refused(
        sources,
        "    status: disputed\n",
        "    status: disputed\n    notes: The day is an inference; the city is general knowledge.\n",
    )
    assert [(line, field) for line, field, _ in found] == [(13, "notes"), (13, "notes")]
    assert "inference" in found[0][2] and "outside_knowledge" in found[1][2]
    path = sources / "events" / "paris.yml"
    path.write_text(
        path.read_text().replace(
            "    notes: The day",
            "    inferred: [date]\n    date_inference: Counted from a weekday.\n"
            "    outside_knowledge: Where the city lies.\n    notes: The day",
        )
    )
    validate(sources, archive=ARCHIVE)


def test_a_claim_dates_no_more_precisely_than_its_paragraphs_or_its_document_allow(sources: Path) -> None:
    # The New Arab's copy prints no date: a day its paragraphs do not write cannot be claimed from it.
    found = refused(
        sources,
        "statement: Earlier encounters between the two sides had already taken place.",
        "statement: Earlier encounters had taken place by 3 May 2025.",
    )
    assert [(line, field) for line, field, _ in found] == [(32, "statement")]
    assert "'3 May 2025'" in found[0][2] and "no date of its own" in found[0][2]


def test_a_date_the_cited_paragraph_writes_or_a_printed_document_fixes_may_be_claimed(sources: Path) -> None:
    path = sources / "events" / "paris.yml"
    text = path.read_text()
    # Cited paragraph 5 of the New Arab's copy writes "July"; The Cradle prints its date.
    text = text.replace('paragraphs: ["4:263fc0b7"]', 'paragraphs: ["4:263fc0b7", "5:17ba9f04"]')
    text = text.replace("had already taken place.", "had already taken place, as in July.")
    text = text.replace("for the first time.", "for the first time on 19 August 2025.")
    path.write_text(text)
    validate(sources, archive=ARCHIVE)
