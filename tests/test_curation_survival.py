"""Tests that survive curation: a curator's valid change must not turn the
suite red. Every dataset test (marked `dataset`, in whichever module) is run
again, in a pytest of its own, on a copy of sources/ with a week's article
added as a curator would add it (tests/fixtures/survival: a document, new
actors with aliases, two events, a dispute answered by two claims, a
relation), its article filed in an archive folder of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from loader.records.archive import Archive
from loader.records.sources import validate
from tests.support.dataset import ARCHIVE_EXTRA_ENV, SOURCES_ENV, dataset_archive

ROOT = Path(__file__).resolve().parent.parent
SURVIVAL = Path(__file__).parent / "fixtures" / "survival"


def curated_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of sources/ with the article's records added, and the archive folder holding the article."""
    sources = shutil.copytree(ROOT / "sources", tmp_path / "sources")
    for name in ("documents.yml", "actors.yml"):
        with (sources / name).open("a", encoding="utf-8") as file:
            file.write((SURVIVAL / name).read_text(encoding="utf-8"))
    shutil.copy(SURVIVAL / "events.yml", sources / "events" / "survival.yml")
    archive = tmp_path / "archive"
    archive.mkdir()
    (document,) = yaml.safe_load((SURVIVAL / "documents.yml").read_text(encoding="utf-8"))
    shutil.copy(SURVIVAL / "article.txt", archive / document["archive_ref"])
    return sources, archive


def test_the_added_article_is_valid_and_adds_what_it_says(tmp_path: Path) -> None:
    sources, archive = curated_copy(tmp_path)
    own = dataset_archive()
    before = validate(ROOT / "sources").counts()
    after = validate(sources, archive=Archive(own.folders + (archive,)) if own else None)
    added = {table: after.counts()[table] - before[table] for table in before}
    assert {t: n for t, n in added.items() if n} == {
        "documents": 1,
        "actors": 3,
        "record_names": 8,
        "events": 2,
        "event_actors": 5,
        "event_actor_documents": 5,
        "event_documents": 2,
        "disputes": 1,
        "claims": 2,
        "event_relations": 1,
    }


def test_every_dataset_test_passes_on_the_curated_copy(tmp_path: Path) -> None:
    sources, archive = curated_copy(tmp_path)
    modules = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").glob("test_*.py")
        if "pytest.mark.dataset" in path.read_text(encoding="utf-8")
    )
    assert "tests/test_dataset.py" in modules
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "dataset", "-q", "-p", "no:cacheprovider", *modules],
        cwd=ROOT,
        env={**os.environ, SOURCES_ENV: str(sources), ARCHIVE_EXTRA_ENV: str(archive)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
