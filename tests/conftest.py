"""Fixtures shared across the test modules."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.shared_fixtures import made_once

FIXTURES = Path(__file__).parent / "fixtures"

# Hypothesis: CI replays the same examples on every run, so a red build is
# reproducible; elsewhere each run explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# The marker, and make test's run of the tests it marks: pytest -m serial.
SERIAL = "serial"


def names_serial(path: Path) -> bool:
    """Whether a test file says "serial" anywhere, as one with a test marked serial does."""
    return SERIAL in path.read_text(encoding="utf-8").lower()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In make test's serial run, only the files that name the marker are
    imported: importing every test module, with pytest's rewriting of its
    asserts, took 8 s of that run (measured), for the few files that hold
    its tests. pytest_collection_modifyitems makes sure no test marked serial
    is in a file that does not say so."""
    if config.getoption("markexpr") != SERIAL or not collection_path.name.startswith("test_"):
        return None
    return True if collection_path.suffix == ".py" and not names_serial(collection_path) else None


@pytest.hookimpl(tryfirst=True)  # before -m deselects any
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first, each file's others after them: pytest-xdist
    (make test, with --no-loadscope-reorder) hands out the files in the order
    their tests come, so a long file met last would keep one worker busy after
    the others had finished. Among either, the browser tests first, so that a
    worker meets them one after another and keeps one Chromium for them
    (tests/browser/conftest.py). And a test marked serial must be in a file that
    says so, or the serial run would never run it (pytest_ignore_collect)."""
    unnamed = {str(item.path) for item in items if item.get_closest_marker(SERIAL) and not names_serial(item.path)}
    if unnamed:
        raise pytest.UsageError(
            f"marked serial in a file that does not say so (write pytest.mark.serial there): {sorted(unnamed)}"
        )
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, item.get_closest_marker("browser") is None))


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


@pytest.fixture(scope="session")
def published_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A database built from published_sources (which sit beside it, in
    sources/), built once for the whole run (tests/support/shared_fixtures.py)
    and shared by every test module; tests must not change either (a test that
    needs a changed one changes a copy).

    It is named events.db because metadata.yml describes the database "events"."""
    from loader.build.database import build

    def make(directory: Path) -> Path:
        db = directory / "events.db"
        build(published_sources(directory / "sources"), db)
        return db

    return made_once(tmp_path_factory, worker_id, "published", make)


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A database of the valid fixture plus tests/fixtures/hostile: records
    whose every free-text field is HTML or JavaScript meant to run in the page
    that shows it. Its sources sit beside it, in sources/; shared, read-only,
    as published_db."""
    from loader.build.database import build

    def make(directory: Path) -> Path:
        sources = directory / "sources"
        shutil.copytree(FIXTURES / "valid", sources)
        shutil.copy(FIXTURES / "hostile" / "hostile.yml", sources)
        db = directory / "events.db"
        build(sources, db)
        return db

    return made_once(tmp_path_factory, worker_id, "hostile", make)


@pytest.fixture(scope="session")
def dataset_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The curated dataset (tests/support/dataset.py: sources/, or the copy
    a curation-survival run names) built once for the run, for the tests of
    the built dataset that only read it. Named events.db as published_db."""
    from loader.build.database import build
    from tests.support.dataset import dataset_sources

    def make(directory: Path) -> Path:
        build(dataset_sources(), directory / "events.db")
        return directory / "events.db"

    return made_once(tmp_path_factory, worker_id, "dataset", make)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The project's wheel, built once for the run (tests/support/wheel.py)."""
    from tests.support.wheel import build_wheel

    return made_once(tmp_path_factory, worker_id, "wheel", build_wheel)


@pytest.fixture(scope="session")
def imported_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The published fixture with 600 generated ACLED events imported beside
    it (tests/support/generated.py): enough events for the stored facet and
    click counts to matter. Built once for the run and shared, read-only, by
    the modules of those counts, as published_db."""
    from tests.support.generated import generated_db

    return made_once(tmp_path_factory, worker_id, "imported", lambda directory: generated_db(directory, 600))


@pytest.fixture(scope="session")
def capped_hostile_site(hostile_db: Path) -> Iterator[tuple[str, list[int]]]:
    """`serve` over hostile_db with every process capped (limited_site in
    tests/support/site_helpers.py): its base URL and its workers' pids. One
    for the session, shared by the modules that check the per-request memory
    bound (test_memory_bound, test_public_site): the bound is on what one
    request adds to a worker above its size just before it, and within_memory
    takes that size afresh for every request and fails a request whose
    worker has not given its memory back, so no request's memory is counted
    in the next one's. Starting and warming it cost as much as a dozen of
    those requests."""
    from tests.support.site_helpers import limited_site

    with limited_site(hostile_db) as site:
        yield site
