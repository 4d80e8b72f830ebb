"""Locators: the paragraph rule, and validate checking every citation's
paragraphs against a tiny archive of the fixtures' own made-up articles."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader.cli import cli
from loader.errors import InvalidSources, LoaderError
from loader.records.archive import ARCHIVE_ENV, Archive, find_archive, locator_hash, locators, paragraphs
from loader.records.sources import validate

ARCHIVE = Path(__file__).parent / "fixtures" / "archive"
FIXTURE_ARCHIVE = Archive((ARCHIVE,))


def test_a_paragraph_is_a_non_blank_line_with_its_whitespace_collapsed() -> None:
    text = "Title\r\n\r\nOne  line\there.\r\nNext line.\n \t \n\n\u00a0\nLast\rblock  \n"
    assert paragraphs(text) == ["Title", "One line here.", "Next line.", "Last", "block"]
    assert paragraphs("\n\n  \n") == []


def test_a_recaptured_copy_with_the_same_text_keeps_every_locator() -> None:
    original = "First paragraph of the article.\n\nSecond one.\n"
    recaptured = "\r\n\r\n  First  paragraph of the\tarticle.\r\n\r\n\r\n\u00a0\r\nSecond one.  "
    assert locators(original) == locators(recaptured)
    assert locators(original) == [
        f"1:{hashlib.sha256(b'First paragraph of the article.').hexdigest()[:8]}",
        f"2:{locator_hash('Second one.')}",
    ]
    assert locators(original.replace("Second", "A second")) != locators(original)


def test_the_paragraphs_command_prints_each_locator_and_first_words() -> None:
    result = CliRunner().invoke(cli, ["paragraphs", str(ARCHIVE / "fixture-004.txt"), "--words", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"1:{locator_hash('Officials meet in Paris')}  Officials meet in …"
    assert [line.split()[0] for line in lines] == locators((ARCHIVE / "fixture-004.txt").read_text())


def test_the_fixture_sources_locate_every_citation_in_their_archive(sources: Path) -> None:
    dataset = validate(sources, archive=Archive((ARCHIVE,)))
    assert dataset.unchecked() is None
    (located,) = dataset.db.execute(
        "select paragraphs from claims where id = 'sana-first-official-announcement'"
    ).fetchone()
    assert located == '["4:f378d47a"]'


def problems(sources: Path, archive: Archive | None = FIXTURE_ARCHIVE) -> list[tuple[str, int, str, str]]:
    with pytest.raises(InvalidSources) as raised:
        validate(sources, archive=archive)
    return [(Path(p.path).name, p.line, p.field, p.message) for p in raised.value.problems]


def test_a_missing_paragraph_a_changed_hash_and_a_bad_locator_are_each_refused_at_their_line(sources: Path) -> None:
    paris = sources / "events" / "paris.yml"
    text = paris.read_text()
    text = text.replace('paragraphs: ["3:0ca8d0d5"]}', 'paragraphs: ["9:0ca8d0d5"]}')  # no paragraph 9
    text = text.replace('paragraphs: ["4:f378d47a"]', 'paragraphs: ["4:f378d47b"]')  # another text
    text = text.replace('paragraphs: ["2:9ae4d6bf"]}', 'paragraphs: ["2:9AE4D6BF"]}')  # not N:HASH
    paris.write_text(text)
    found = problems(sources)
    assert [(f, line, field) for f, line, field, _ in found] == [
        ("paris.yml", 14, "paragraphs"),
        ("paris.yml", 15, "paragraphs"),
        ("paris.yml", 23, "paragraphs"),
    ]
    assert "has no paragraph 9; it has 4" in found[0][3]
    assert "'2:9AE4D6BF' is not a locator" in found[1][3]
    assert "hashes to f378d47a" in found[2][3]


def test_a_copy_whose_bytes_changed_or_that_is_missing_is_refused(sources: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(ARCHIVE, archive)
    (archive / "fixture-003.txt").write_text((archive / "fixture-003.txt").read_text() + "\n")  # same paragraphs
    (archive / "fixture-004.txt").unlink()
    found = problems(sources, Archive((archive,)))
    assert [(f, line, field) for f, line, field, _ in found] == [
        ("documents.yml", 7, "archive_sha256"),
        ("documents.yml", 12, "archive_ref"),
    ]
    assert "re-check every locator" in found[0][3]  # its paragraphs, hence its locators, still hold
    assert "'fixture-004.txt' is not in the archive" in found[1][3]


def test_a_curated_citation_without_locators_says_what_to_add(sources: Path) -> None:
    paris = sources / "events" / "paris.yml"
    paris.write_text(paris.read_text().replace(', paragraphs: ["2:9ae4d6bf", "3:deafda2e"]', ""))
    documents = sources / "documents.yml"
    documents.write_text(documents.read_text().replace('    date_paragraphs: ["1:a6a5d45c"]\n', ""))
    found = problems(sources, None)
    assert [(f, line, field) for f, line, field, _ in found] == [
        ("documents.yml", 2, "date_paragraphs"),
        ("paris.yml", 19, "paragraphs"),
    ]
    assert "is required: list the paragraphs of the document that say what it is cited for" in found[1][3]


def test_without_an_archive_validate_says_in_one_line_that_locators_were_not_checked(sources: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--sources", str(sources)], env={ARCHIVE_ENV: ""})
    assert result.exit_code == 0, result.output
    summary, unchecked = result.output.splitlines()
    assert "is valid" in summary and unchecked.startswith("locators were not checked")
    checked = CliRunner().invoke(cli, ["validate", "--sources", str(sources)], env={ARCHIVE_ENV: str(ARCHIVE)})
    assert checked.exit_code == 0 and checked.output.count("\n") == 1, checked.output


def test_the_archive_comes_from_the_option_the_setting_or_the_projects_own_folders(tmp_path: Path) -> None:
    assert find_archive([ARCHIVE], environ={}) == Archive((ARCHIVE,))
    assert find_archive(environ={ARCHIVE_ENV: f"{ARCHIVE}:{tmp_path}"}) == Archive((ARCHIVE, tmp_path))
    assert find_archive(own_sources=False, environ={}) is None
    with pytest.raises(LoaderError, match="no such archive folder"):
        find_archive(environ={ARCHIVE_ENV: str(tmp_path / "nope")})


def test_an_archive_ref_never_reaches_outside_the_archive() -> None:
    archive = Archive((ARCHIVE,))
    assert archive.copy("fixture-003.txt") is not None
    assert archive.copy("../archive/fixture-003.txt") is None
    assert archive.copy("..") is None
