"""The provenance rules of loader/records/provenance.py, and the duplicate warnings, run
through the loader's real validate() and CLI on copies of the valid fixture."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loader.records.sources import InvalidSources, validate

ROOT = Path(__file__).resolve().parent.parent
VALID = Path(__file__).parent / "fixtures" / "valid"

MEETING = """\
events:
  - id: 2025-08-test-meeting
    title: A test meeting
    summary: Two ministers meet.
    event_type: meeting
    start_date: 2025-08-18
    end_date: 2025-08-20
    date_precision: week
    place_id: {place}
    notes: A test record.
    actors:
{actors}
    documents:
{documents}
"""
TWO_CITATIONS = """\
      - {document_id: cradle-paris-confirmation, supports: [occurrence, date, place, actors], paragraphs: ["2:d93a2d5b"]}
      - {document_id: newarab-paris-meeting, paragraphs: ["2:9ae4d6bf"], supports: [occurrence, actors]}"""
TWO_ACTORS = """\
      - {actor_id: asaad-al-shaibani, role: participant, document_id: cradle-paris-confirmation, paragraphs: ["2:d93a2d5b"]}
      - {actor_id: ron-dermer, role: participant, paragraphs: ["2:9ae4d6bf"], document_id: newarab-paris-meeting}"""


def sources(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "sources"
    shutil.copytree(VALID, directory)
    (directory / "events" / "test.yml").write_text(text, encoding="utf-8")
    return directory


def meeting(place: str = "damascus", actors: str = TWO_ACTORS, documents: str = TWO_CITATIONS) -> str:
    return MEETING.format(place=place, actors=actors, documents=documents)


def refusals(directory: Path) -> list[tuple[str, int, str, str, str]]:
    with pytest.raises(InvalidSources) as raised:
        validate(directory)
    return [(Path(p.path).name, p.line, p.record, p.field, p.message) for p in raised.value.problems]


def test_a_meeting_with_every_fact_cited_is_valid(tmp_path):
    dataset = validate(sources(tmp_path, meeting()))
    assert dataset.db.execute(
        "select document_id from event_actor_documents where event_id = '2025-08-test-meeting' order by actor_id"
    ).fetchall() == [("cradle-paris-confirmation",), ("newarab-paris-meeting",)]


def test_a_date_no_document_supports_is_refused_at_its_line(tmp_path):
    documents = TWO_CITATIONS.replace("[occurrence, date, place, actors]", "[occurrence, place, actors]")
    found = refusals(sources(tmp_path, meeting(documents=documents)))
    assert len(found) == 1
    path, line, record, field, message = found[0]
    assert (path, line, record, field) == ("test.yml", 6, "2025-08-test-meeting", "start_date")
    assert "no document supports the date ('2025-08-18')" in message


def test_a_place_no_document_supports_is_refused(tmp_path):
    documents = TWO_CITATIONS.replace("[occurrence, date, place, actors]", "[occurrence, date, actors]")
    found = refusals(sources(tmp_path, meeting(documents=documents)))
    assert [(f[1], f[3]) for f in found] == [(9, "place_id")]
    assert "'damascus'" in found[0][4]


def test_an_actor_role_without_its_document_is_refused_at_its_line(tmp_path):
    actors = TWO_ACTORS.replace(", document_id: newarab-paris-meeting", "")
    found = refusals(sources(tmp_path, meeting(actors=actors)))
    assert [(f[1], f[2], f[3]) for f in found] == [(13, "2025-08-test-meeting actors[1]", "document_id")]
    assert "ron-dermer as participant" in found[0][4]


def test_an_actor_document_the_event_does_not_cite_or_that_names_no_actors_is_refused(tmp_path):
    documents = TWO_CITATIONS.replace("[occurrence, actors]", "[occurrence]")
    found = refusals(sources(tmp_path, meeting(documents=documents)))
    assert [(f[1], f[3]) for f in found] == [(13, "document_id")]
    assert "must list actors in supports" in found[0][4]
    one = TWO_CITATIONS.splitlines()[0].replace("[occurrence, date, place, actors]", "[occurrence, date, place]")
    found = refusals(sources(tmp_path / "again", meeting(documents=one)))
    assert {f[4] for f in found} >= {"'newarab-paris-meeting' is not among this event's documents; cite it there"}


BOTH_BACK_DERMER = """\
      - {actor_id: asaad-al-shaibani, role: participant, document_id: cradle-paris-confirmation, paragraphs: ["2:d93a2d5b"]}
      - actor_id: ron-dermer
        role: participant
        documents:
          - {document_id: newarab-paris-meeting, paragraphs: ["2:9ae4d6bf"]}
          - {document_id: cradle-paris-confirmation, basis: preview, paragraphs: ["2:d93a2d5b"]}"""


def test_a_role_backed_by_several_documents_keeps_each_with_its_basis_and_paragraphs(tmp_path):
    dataset = validate(sources(tmp_path, meeting(actors=BOTH_BACK_DERMER)))
    assert dataset.db.execute(
        "select document_id, basis, paragraphs from event_actor_documents"
        " where event_id = '2025-08-test-meeting' and actor_id = 'ron-dermer' order by document_id"
    ).fetchall() == [
        ("cradle-paris-confirmation", "preview", '["2:d93a2d5b"]'),
        ("newarab-paris-meeting", "report", '["2:9ae4d6bf"]'),
    ]
    assert dataset.db.execute(
        "select count(*) from event_actors where event_id = '2025-08-test-meeting' and actor_id = 'ron-dermer'"
    ).fetchone() == (1,)


def test_each_of_a_roles_documents_is_checked_at_its_own_line(tmp_path):
    one = TWO_CITATIONS.splitlines()[1]  # cites newarab-paris-meeting only
    found = refusals(sources(tmp_path, meeting(actors=BOTH_BACK_DERMER, documents=one)))
    cited = [f for f in found if f[3] == "document_id"]
    assert [f[1:3] for f in cited] == [
        (12, "2025-08-test-meeting actors[0]"),
        (17, "2025-08-test-meeting actors[1] documents[1]"),
    ]
    assert all("'cradle-paris-confirmation' is not among this event's documents" in f[4] for f in cited)


def test_a_role_gives_one_document_in_its_entry_or_several_in_documents_not_both(tmp_path):
    actors = BOTH_BACK_DERMER.replace(
        "        role: participant\n", "        role: participant\n        basis: report\n"
    )
    found = refusals(sources(tmp_path, meeting(actors=actors)))
    assert [f[1:4] for f in found] == [(15, "2025-08-test-meeting actors[1]", "basis")]
    assert "not both: move basis into documents" in found[0][4]


def test_a_citation_must_say_what_it_supports(tmp_path):
    documents = TWO_CITATIONS.replace(", supports: [occurrence, actors]", "")
    found = refusals(sources(tmp_path, meeting(documents=documents)))
    assert (16, "supports") in [(f[1], f[3]) for f in found]


def test_a_sole_citation_supports_what_the_event_records(tmp_path):
    actors = "      - {actor_id: asaad-al-shaibani, role: participant}"
    documents = '      - {document_id: cradle-paris-confirmation, paragraphs: ["2:d93a2d5b"]}'
    dataset = validate(sources(tmp_path, meeting(actors=actors, documents=documents)))
    (supports,) = dataset.db.execute(
        "select supports from event_documents where event_id = '2025-08-test-meeting'"
    ).fetchone()
    assert json.loads(supports) == ["occurrence", "date", "place", "actors"]
    assert dataset.db.execute(
        "select document_id from event_actor_documents where event_id = '2025-08-test-meeting'"
    ).fetchall() == [("cradle-paris-confirmation",)]


DISPUTED = (
    meeting()
    + """\
    disputes:
      - id: test-question
        question: Did they agree?
    claims:
      - id: test-yes
        document_id: cradle-paris-confirmation
        paragraphs: ["4:f378d47a"]
        statement: They agreed.
        stance: asserts
        dispute_id: test-question
        position: {yes}
      - id: test-no
        document_id: {no_document}
        paragraphs: ["4:263fc0b7"]
        statement: They did not agree.
        stance: denies
        dispute_id: test-question
        position: "No"
"""
)


def disputed(tmp_path: Path, yes: str = '"Yes"', no_document: str = "newarab-paris-meeting") -> Path:
    return sources(tmp_path, DISPUTED.replace("{yes}", yes).replace("{no_document}", no_document))


def test_a_dispute_with_two_positions_from_two_voices_is_valid(tmp_path):
    dataset = validate(disputed(tmp_path))
    assert dataset.db.execute("select count(*) from claims where dispute_id = 'test-question'").fetchone() == (2,)


def test_a_dispute_needs_two_positions(tmp_path):
    found = refusals(disputed(tmp_path, yes='"No"'))
    assert [(f[2], f[3]) for f in found] == [("test-question", "question")]
    assert "at least two positions; it has 1" in found[0][4]


def test_a_dispute_needs_two_voices(tmp_path):
    found = refusals(disputed(tmp_path, no_document="cradle-paris-confirmation"))
    assert [(f[2], f[3]) for f in found] == [("test-question", "question")]
    assert "one voice" in found[0][4]


def test_a_position_goes_with_a_dispute(tmp_path):
    text = DISPUTED.replace("{yes}", '"Yes"').replace("{no_document}", "newarab-paris-meeting")
    text = text.replace('        dispute_id: test-question\n        position: "No"\n', '        position: "No"\n')
    found = refusals(sources(tmp_path, text))
    assert ("test-no", "position") in [(f[2], f[3]) for f in found]


def test_the_same_statement_twice_is_refused(tmp_path):
    text = (
        meeting()
        + """\
    claims:
      - {id: first, document_id: cradle-paris-confirmation, statement: "They met.", stance: asserts, paragraphs: ["4:f378d47a"]}
      - {id: second, document_id: cradle-paris-confirmation, statement: "They  met", stance: confirms, paragraphs: ["4:f378d47a"]}
"""
    )
    found = refusals(sources(tmp_path, text))
    assert [(f[1], f[2], f[3]) for f in found] == [(19, "second", "statement")]
    assert "already claim 'first'" in found[0][4]


def run_validate(directory: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loader", "validate", "--sources", str(directory), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_a_likely_duplicate_event_is_a_warning_not_an_error(tmp_path):
    """The fixture's 19 August Paris meeting has Shaibani and Dermer too."""
    result = run_validate(sources(tmp_path, meeting(place="paris")))
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert "paris.yml:2: 2025-08-19-paris-shaibani-dermer: id: events 2025-08-19-paris-shaibani-dermer and " in warning
    assert "2025-08-test-meeting may be one (at paris," in warning and "distinct_from" in warning


def test_distinct_from_and_different_places_stop_the_warning(tmp_path):
    text = meeting(place="paris").replace(
        "    notes: A test record.\n",
        "    notes: A test record.\n    distinct_from: [2025-08-19-paris-shaibani-dermer]\n",
    )
    assert "warning" not in run_validate(sources(tmp_path, text)).stderr
    assert "warning" not in run_validate(sources(tmp_path / "elsewhere", meeting(place="damascus"))).stderr


def test_one_shared_actor_is_no_duplicate(tmp_path):
    one = TWO_ACTORS.splitlines()[0]
    text = meeting(place="paris", actors=one, documents=TWO_CITATIONS.splitlines()[0])
    result = run_validate(sources(tmp_path, text))
    assert result.returncode == 0 and "warning" not in result.stderr
