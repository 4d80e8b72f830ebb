"""validate's warnings: diff's checks over the whole store, printed with the
file and line of their record, never failing the run.

The valid fixture is committed to a private git repository, so that the
edits made afterwards are what validate compares with its last commit."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader.cli import cli
from loader.desk.diff import alias_clashes, date_clashes, pinned_warnings
from loader.desk.records import from_directory
from loader.problems import display_path
from loader.records.archive import find_archive, locators
from loader.records.sources import DEFAULT_SOURCES, validate
from tests.test_provenance import run_validate

VALID = Path(__file__).parent / "fixtures" / "valid"
ARCHIVE = Path(__file__).parent / "fixtures" / "archive"
STRIKES = "2025-07-strikes-on-damascus"


def git(directory: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def committed_store(tmp_path: Path) -> Path:
    """The valid fixture, with a note that dates the strikes, as its last commit."""
    sources = tmp_path / "sources"
    shutil.copytree(VALID, sources)
    edit(
        sources / "events" / "paris.yml",
        "    status: disputed\n",
        "    status: disputed\n    notes: Weeks after the strikes on Damascus of July 2025.\n",
    )
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return sources


def test_the_valid_fixture_has_no_warning(tmp_path: Path) -> None:
    sources = committed_store(tmp_path)
    assert pinned_warnings(sources, validate(sources).records) == []


def test_stale_prose_and_an_alias_clash_are_warned_of_with_their_lines_and_exit_0(tmp_path: Path) -> None:
    sources = committed_store(tmp_path)
    edit(
        sources / "events" / "paris.yml",
        "    start_date: 2025-07-01\n    end_date: 2025-07-31\n",
        "    start_date: 2025-06-01\n    end_date: 2025-06-30\n",
    )
    edit(sources / "actors.yml", "[{name: Barrack, lang: en}]", "[{name: Barrack, lang: en}, {name: Dermer, lang: en}]")
    result = run_validate(sources)
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3, warnings
    stale = next(w for w in warnings if "no longer a date of" in w)
    assert "paris.yml:13: 2025-08-19-paris-shaibani-dermer: notes: " in stale
    assert f"says 'July 2025', no longer a date of {STRIKES}" in stale
    # Both records that now answer to "Dermer" are named, each at its own line.
    clashes = [w for w in warnings if "alias 'Dermer'" in w]
    assert any("actors.yml:22: tom-barrack: aliases: " in w and "also a name of ron-dermer" in w for w in clashes)
    assert any("actors.yml:16: ron-dermer: aliases: " in w and "also a name of tom-barrack" in w for w in clashes)


def test_outside_git_only_the_checks_that_need_no_commit_run(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(VALID, sources)
    edit(sources / "actors.yml", "[{name: Barrack, lang: en}]", "[{name: Barrack, lang: en}, {name: Dermer, lang: en}]")
    warnings = pinned_warnings(sources, validate(sources).records)
    assert {(w.record, w.field) for w in warnings} == {("tom-barrack", "aliases"), ("ron-dermer", "aliases")}


def test_documents_giving_different_days_are_a_date_clash_until_a_dispute_asks_which(tmp_path: Path) -> None:
    """The Cradle's "on Tuesday" is 19 August; a made-up courier printed on
    Thursday 21 August says the two sides met "on Wednesday": the 20th. The
    curator widens the meeting to both days but records no question of the day."""
    sources = committed_store(tmp_path)
    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("fixture-003.txt", "fixture-004.txt"):
        shutil.copy(ARCHIVE / name, archive)
    courier = archive / "fixture-courier.txt"
    courier.write_text("date 2025-08-21 The Courier\n\nThe two sides met in Paris on Wednesday, a diplomat said.\n")
    first, second = locators(courier.read_text())
    edit(
        sources / "documents.yml",
        "  - id: newarab-paris-meeting\n",
        f"  - id: courier-paris-meeting\n    title: Two sides met in Paris\n    outlet: The Courier\n"
        f"    published_date: 2025-08-21\n    archive_ref: fixture-courier.txt\n"
        f"    archive_sha256: {hashlib.sha256(courier.read_bytes()).hexdigest()}\n"
        f'    date_paragraphs: ["{first}"]\n'
        "  - id: newarab-paris-meeting\n",
    )
    events = sources / "events" / "paris.yml"
    edit(
        events,
        "    end_date: 2025-08-19\n    date_precision: day\n",
        "    end_date: 2025-08-20\n    date_precision: days\n",
    )
    edit(
        events,
        "      - {document_id: newarab-paris-meeting, supports: [occurrence, actors]",
        f'      - {{document_id: courier-paris-meeting, supports: [occurrence, date], paragraphs: ["{second}"]}}\n'
        "      - {document_id: newarab-paris-meeting, supports: [occurrence, actors]",
    )
    result = run_validate(sources, "--archive", str(archive))
    assert result.returncode == 0, result.stderr
    clash = [line for line in result.stderr.splitlines() if "give different days" in line]
    assert len(clash) == 1, result.stderr
    assert clash[0].startswith("warning: ") and clash[0].endswith(
        "paris.yml:8: 2025-08-19-paris-shaibani-dermer: start_date: event 2025-08-19-paris-shaibani-dermer: "
        "its documents give different days (19 August 2025, a Tuesday: cradle-paris-confirmation; 20 August 2025, "
        "a Wednesday: courier-paris-meeting); record the disagreement as a dispute on the event asking which day, "
        "answered by each document's claim"
    )
    # diff says it too, as a warning the change brought; without the archive there is no text to compare.
    shown = CliRunner().invoke(cli, ["diff", "HEAD", "--sources", str(sources), "--archive", str(archive)])
    assert (
        "warning: date-clash: events/paris.yml: event 2025-08-19-paris-shaibani-dermer: its documents" in shown.output
    )
    assert "date-clash" not in CliRunner().invoke(cli, ["diff", "HEAD", "--sources", str(sources)]).output
    # The event's dispute about whether the talks were the first leaves the day unasked; one asking it settles it.
    edit(
        events,
        "        question: Were these the first direct talks between the two sides?\n",
        "        question: Were these the first direct talks between the two sides?\n"
        "      - id: paris-meeting-day\n        question: On which day did the two sides meet in Paris?\n",
    )
    assert "give different days" not in run_validate(sources, "--archive", str(archive)).stderr


def test_the_curated_sources_record_every_clash_of_days_as_a_dispute() -> None:
    """An invariant of sources/: where the archived articles cited on an event
    name different days for it, a dispute asks which day."""
    archive = find_archive(())
    if archive is None:
        pytest.skip("the project's archive is not beside this checkout")
    assert date_clashes(from_directory(DEFAULT_SOURCES), archive) == []


DERMER = "[{name: Barrack, lang: en}, {name: Dermer, lang: en}]"


def test_a_clash_listed_in_shares_names_with_is_not_warned_of_either_way(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(VALID, sources)
    edit(sources / "actors.yml", "[{name: Barrack, lang: en}]", f"{DERMER}\n    shares_names_with: [ron-dermer]")
    assert pinned_warnings(sources, validate(sources).records) == []
    # Another record's clash is still warned of.
    agency = "[{name: Syrian Arab News Agency, lang: en}"
    edit(sources / "actors.yml", agency, agency + ", {name: Shibani, lang: en}")
    warnings = {w.record: w for w in pinned_warnings(sources, validate(sources).records)}
    assert set(warnings) == {"sana", "asaad-al-shaibani"}
    assert "alias 'Shibani' is also a name of asaad-al-shaibani" in warnings["sana"].message
    assert "list the record in shares_names_with" in warnings["sana"].message


def test_a_shares_names_with_that_no_clash_needs_any_more_is_warned_of_at_its_line(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(VALID, sources)
    edit(
        sources / "actors.yml",
        "[{name: Barrack, lang: en}]",
        "[{name: Barrack, lang: en}]\n    shares_names_with: [ron-dermer]",
    )
    (warning,) = pinned_warnings(sources, validate(sources).records)
    assert (warning.path, warning.line, warning.record, warning.field) == (
        display_path(sources / "actors.yml"),
        23,
        "tom-barrack",
        "shares_names_with",
    )
    assert "lists ron-dermer, but no alias of either is a name of the other" in warning.message


def test_an_unknown_id_in_shares_names_with_or_distinct_from_is_refused_at_its_line(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(VALID, sources)
    edit(sources / "actors.yml", "[{name: Barrack, lang: en}]", f"{DERMER}\n    shares_names_with: [ron-dremer]")
    edit(
        sources / "events" / "paris.yml",
        "    status: disputed\n",
        "    status: disputed\n    distinct_from: [no-such-event]\n",
    )
    result = run_validate(sources)
    assert result.returncode != 0
    assert (
        "actors.yml:23: tom-barrack: shares_names_with: 'ron-dremer' is not a known actors id (did you mean 'ron-dermer'?)"
        in result.stderr
    )
    assert "paris.yml:" in result.stderr and "distinct_from: 'no-such-event' is not a known events id" in result.stderr


def test_the_curated_sources_acknowledge_only_names_they_share() -> None:
    """An invariant of sources/: each record a shares_names_with lists still
    answers to a name of the record that lists it."""
    stale = [f for f in alias_clashes(from_directory(DEFAULT_SOURCES)) if f.field == "shares_names_with"]
    assert stale == []
