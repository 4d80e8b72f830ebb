"""diff: a curator's change in words, and what it leaves false elsewhere.

A made-up store (tests/fixtures/desk/sources) is committed to a private git
repository, changed as a curator would, and compared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader.cli import cli
from loader.desk.diff import checks, diff
from loader.desk.records import from_directory
from tests.support.git import new_repository

FIXTURE = Path(__file__).parent / "fixtures" / "desk" / "sources"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    shutil.copytree(FIXTURE, sources)
    new_repository(tmp_path, "base")
    return sources


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


MEETING = "2031-03-04-port-selim-haddad-meets-levin"


def redate_and_rename(sources: Path) -> None:
    edit(
        sources / "events" / "talks.yml",
        f"  - id: {MEETING}\n",
        f"  - id: 2031-03-03-port-selim-haddad-meets-levin\n    aliases: [{MEETING}]\n",
    )
    edit(
        sources / "events" / "talks.yml",
        "start_date: 2031-03-04\n    end_date: 2031-03-04",
        "start_date: 2031-03-03\n    end_date: 2031-03-03",
    )


def test_an_unchanged_store_has_nothing_to_say(store: Path) -> None:
    assert not diff(store, "HEAD")


def test_a_renamed_and_re_dated_event_and_the_prose_it_makes_false(store: Path) -> None:
    redate_and_rename(store)
    report = diff(store, "HEAD")
    words = [f.words for f in report.changes]
    assert f"events {MEETING} renamed 2031-03-03-port-selim-haddad-meets-levin" in words
    assert "event 2031-03-03-port-selim-haddad-meets-levin re-dated: 2031-03-04 -> 2031-03-03" in words
    stale = [f for f in report.warnings if f.kind == "stale"]
    # The other event's notes give the old date beside the place, and the old id.
    assert any("says '4 March 2031'" in f.words and f.key == "2031-03-talks-resume" for f in stale), stale
    assert any(f"names {MEETING}, now 2031-03-03" in f.words for f in stale), stale
    # The meeting's own notes date it from the document, not by the old day: nothing to say.
    assert not any(f.key.startswith("2031-03-03") for f in stale)


def test_disputes_answered_and_settled_and_citations_added(store: Path) -> None:
    talks = store / "events" / "talks.yml"
    edit(talks, "        status: open\n", "        status: settled\n        notes: Both sides say so.\n")
    edit(
        talks,
        "        position: Qadira asked\n",
        "        position: Qadira asked\n      - id: norland-asked\n        document_id: gazette-2031-03-05-port-selim-talks\n"
        "        claimant_id: ezra-levin\n        statement: Norland asked.\n        stance: disputes\n"
        "        dispute_id: talks-resume-who-asked\n        position: Norland asked\n",
    )
    edit(
        talks,
        "      - {document_id: gazette-2031-03-05-port-selim-talks, supports: [occurrence, actors]}\n",
        "      - {document_id: gazette-2031-03-05-port-selim-talks, supports: [occurrence, actors]}\n"
        "      - {document_id: courier-2031-03-06, supports: [occurrence]}\n",
    )
    words = [f.words for f in diff(store, "HEAD").changes]
    assert "dispute talks-resume-who-asked settled (was open)" in words
    assert "dispute talks-resume-who-asked answered by claim norland-asked: Norland asked" in words
    assert "event 2031-03-talks-resume now cites courier-2031-03-06 for occurrence" in words
    assert any(w.startswith("claims norland-asked added (on 2031-03-talks-resume)") for w in words)


def test_a_second_document_for_an_actor_role_is_a_citation_added(store: Path) -> None:
    edit(
        store / "events" / "talks.yml",
        "      - {actor_id: qadira, role: participant, document_id: gazette-2031-03-05-port-selim-talks}\n",
        "      - actor_id: qadira\n        role: participant\n        documents:\n"
        "          - {document_id: gazette-2031-03-05-port-selim-talks}\n"
        "          - {document_id: courier-2031-03-06, basis: preview}\n",
    )
    words = [f.words for f in diff(store, "HEAD").changes]
    assert "event 2031-03-talks-resume: qadira as participant now also cites courier-2031-03-06" in words
    assert not any("gazette-2031-03-05-port-selim-talks" in w for w in words), words


def test_a_new_alias_clash_and_a_duplicate_without_a_place(store: Path) -> None:
    old = "{name: עזרא לוין, lang: he}]"
    edit(store / "actors.yml", old, old[:-1] + ", {name: Karim, lang: en}]")
    events = store / "events" / "talks.yml"
    events.write_text(
        events.read_text(encoding="utf-8")
        + """  - id: 2031-03-qadira-norland-talks-restart
    title: Talks restart
    event_type: talks-resumed
    start_date: 2031-03-10
    end_date: 2031-03-20
    date_precision: week
    actors:
      - {actor_id: qadira, role: participant}
      - {actor_id: norland, role: participant}
""",
        encoding="utf-8",
    )
    report = diff(store, "HEAD")
    kinds = {(f.kind, f.key) for f in report.warnings}
    assert ("alias-clash", "ezra-levin") in kinds
    assert any(f.kind == "duplicate" and "neither with a place" in f.words for f in report.warnings)
    # Only what this change brought: Karim's "Haddad" was a word of the foundation's name before.
    assert not any(f.kind == "alias-clash" and f.key == "karim-al-haddad" for f in report.warnings)
    assert any(f.key == "karim-al-haddad" for f in checks(from_directory(store)))
    everything = diff(store, "HEAD", all_warnings=True)
    assert any(f.key == "karim-al-haddad" for f in everything.warnings)


def test_a_clash_the_curator_acknowledged_is_no_warning(store: Path) -> None:
    clashes = [f for f in checks(from_directory(store)) if f.kind == "alias-clash"]
    # Both "al-Haddad" and "Haddad" are a word of the foundation's name.
    assert [(f.key, f.field) for f in clashes] == [("karim-al-haddad", "aliases")] * 2
    assert all("is a word of a name of haddad-foundation" in f.words for f in clashes)
    edit(
        store / "actors.yml",
        "    name: Haddad Foundation\n    aliases: []\n",
        "    name: Haddad Foundation\n    aliases: []\n    shares_names_with: [karim-al-haddad]\n",
    )
    assert not [f for f in checks(from_directory(store)) if f.kind == "alias-clash"]
    # And diff does not report the acknowledgement as a clash of its own.
    assert not [f for f in diff(store, "HEAD").warnings if f.kind == "alias-clash"]


def test_a_removed_record_without_a_withdrawal_is_said_so(store: Path) -> None:
    edit(
        store / "actors.yml",
        "  - id: haddad-foundation\n    name: Haddad Foundation\n    aliases: []\n    kind: organization\n",
        "",
    )
    words = [f.words for f in diff(store, "HEAD").changes]
    assert "actors haddad-foundation removed without a withdrawal" in words


def test_diff_command_prints_changes_then_warnings(store: Path) -> None:
    redate_and_rename(store)
    result = CliRunner().invoke(cli, ["diff", "HEAD", "--sources", str(store)])
    assert result.exit_code == 0, result.output
    assert "re-dated: 2031-03-04 -> 2031-03-03" in result.output
    assert "warning: " in result.output
