"""Fixtures shared across the test modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A private copy of the valid fixture sources, free to be broken by a test."""
    target = tmp_path / "sources"
    shutil.copytree(FIXTURES / "valid", target)
    return target


def published_sources(target: Path) -> Path:
    """The valid fixture plus tests/fixtures/publish: places and actors known by
    several names, a disputed event, and an event at every date precision."""
    shutil.copytree(FIXTURES / "valid", target)
    for path in (FIXTURES / "publish").glob("*.yml"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="module")
def published_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built from published_sources, shared by one test module; tests must not change it.

    It is named events.db because metadata.yml describes the database "events"."""
    from loader.build import build

    directory = tmp_path_factory.mktemp("published")
    db = directory / "events.db"
    build(published_sources(directory / "sources"), db)
    return db
