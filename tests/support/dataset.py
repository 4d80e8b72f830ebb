"""The sources the dataset tests run over, and the archive they check them against.

The dataset tests (marked `dataset`) state invariants of the curated
records, so they must hold on any valid curation, not on today's records
alone: tests/test_curation_survival.py runs them on a copy of sources/ with
an article's worth of records added, naming the copy in SOURCES_ENV and the
folder holding its new article in ARCHIVE_EXTRA_ENV.
"""

from __future__ import annotations

import os
from pathlib import Path

from loader.records.archive import Archive, find_archive

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES_ENV = "EVENT_STORE_TEST_SOURCES"
ARCHIVE_EXTRA_ENV = "EVENT_STORE_TEST_ARCHIVE"


def dataset_sources() -> Path:
    """The project's sources/, or the copy SOURCES_ENV names."""
    return Path(os.environ.get(SOURCES_ENV) or ROOT / "sources")


def dataset_archive() -> Archive | None:
    """The project's own archive beside the checkout (whatever a developer's
    setting names), with the folders ARCHIVE_EXTRA_ENV adds; None without
    the project's archive, and then the tests that need it are skipped."""
    own = find_archive(environ={})
    if own is None:
        return None
    extra = tuple(Path(p) for p in os.environ.get(ARCHIVE_EXTRA_ENV, "").split(os.pathsep) if p)
    return Archive(own.folders + extra)
