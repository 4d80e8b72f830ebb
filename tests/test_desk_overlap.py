"""overlap: runs of ten words a project file shares with an archived article,
across line breaks, titles and web addresses excepted, new hits when asked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loader.cli import cli
from loader.desk.overlap import overlap
from loader.records.archive import paragraphs
from tests.support.git import git, new_repository

ARCHIVE = Path(__file__).parent / "fixtures" / "desk" / "archive"
SOURCES = Path(__file__).parent / "fixtures" / "desk" / "sources"
COPIED = "The two men talked for three hours in a hotel by the harbour"
# The paragraph the copied words are in, by the project's one paragraph rule.
PARAGRAPH = next(
    n
    for n, text in enumerate(paragraphs((ARCHIVE / "gazette-port-selim.txt").read_text(encoding="utf-8")), start=1)
    if COPIED in text
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(SOURCES, root / "sources")
    (root / "notes.md").write_text("Our own words about the talks.\n", encoding="utf-8")
    new_repository(root, "base")
    return root


def test_a_copied_run_folded_over_two_lines_is_found_with_its_paragraph(project: Path) -> None:
    first, second = COPIED.split(" for ")
    (project / "copy.yml").write_text(f"notes: >-\n  Said: {first}\n  for {second}, it seems.\n", encoding="utf-8")
    hits, read, articles = overlap(project, [ARCHIVE])
    assert articles == len(list(ARCHIVE.glob("*.txt"))) and read >= 1
    assert [(h.file, h.line, h.article, h.paragraph) for h in hits] == [
        ("copy.yml", 2, "gazette-port-selim.txt", PARAGRAPH)
    ]
    assert hits[0].length == 13


def test_titles_and_addresses_are_not_copies(project: Path) -> None:
    # The fixture document's title is the article's headline (four words, too
    # short to count); a longer title quoted in a note is still a citation.
    (project / "sources" / "documents.yml").write_text(
        "documents:\n  - id: d\n    title: " + COPIED + "\n",
        encoding="utf-8",
    )
    (project / "cite.md").write_text(
        f"See “{COPIED}” at https://example.org/{COPIED.replace(' ', '-')}\n", encoding="utf-8"
    )
    hits, _, _ = overlap(project, [ARCHIVE])
    assert hits == []


def test_new_hits_only_when_asked(project: Path) -> None:
    (project / "notes.md").write_text(f"Our own words about the talks.\n{COPIED}\n", encoding="utf-8")
    git(project, "commit", "-q", "-am", "old copy")
    (project / "notes.md").write_text(f"Our own words about the talks.\n{COPIED}\nmore\n{COPIED}\n", encoding="utf-8")
    assert [h.line for h in overlap(project, [ARCHIVE])[0]] == [2, 4]
    assert [h.line for h in overlap(project, [ARCHIVE], new_since="HEAD")[0]] == [4]


def test_overlap_command_exits_1_on_a_hit(project: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(cli, ["overlap", "--root", str(project), "--archive", str(ARCHIVE)])
    assert clean.exit_code == 0, clean.output
    (project / "copy.md").write_text(COPIED + "\n", encoding="utf-8")
    found = runner.invoke(cli, ["overlap", "--root", str(project), "--archive", str(ARCHIVE)])
    assert found.exit_code == 1
    assert f"copy.md:1: repeats gazette-port-selim.txt ¶ {PARAGRAPH}" in found.output
