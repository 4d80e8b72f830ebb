"""A served site and a headless Chromium for the browser tests.

Without Chromium, Playwright or axe-core the tests fail with what to run:
`make test` installs all three (`make tools`), and a browser test that
skipped would prove nothing.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.site_helpers import AXE, CHROMIUM, launch, serving

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"


def _unavailable(reason: str) -> None:
    pytest.fail(f"{reason}: `make test` (or `make tools`, as root) installs it", pytrace=False)


@pytest.fixture(scope="session")
def site(published_db: Path) -> Iterator[str]:
    """The base URL of `python -m loader serve` over the published fixture,
    started once for the session (each parallel worker's): pages only read it."""
    with serving(published_db.parent / "sources", published_db) as base:
        yield base


class Chromium:
    """Playwright and a Chromium launched, kept for the browser tests a worker
    runs one after another: starting both cost some two CPU-seconds, once for
    each test file before. While Playwright's sync API runs, its event loop
    counts as running in this thread, and asyncio.run(), which tests outside
    this folder call, would fail: so pytest_runtest_teardown stops it after
    the last browser test of such a run, and the next browser test starts it
    again (tests/conftest.py hands out the browser test files together)."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def browser(self) -> Any:
        if self._browser is None:
            if not CHROMIUM.exists():
                _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
            try:
                from playwright.sync_api import sync_playwright
            except ImportError:
                _unavailable("the playwright package is not installed")
            self._playwright = sync_playwright().start()
            self._browser = launch(self._playwright)
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
            self._browser = self._playwright = None


RUNNING = pytest.StashKey[Chromium]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RUNNING] = Chromium()


def is_browser_test(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("browser") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """Stop Chromium once the test and its fixtures are torn down, unless the
    next test is a browser test too (pytest-xdist holds a worker's last test
    back until it knows the next)."""
    try:
        return (yield)
    finally:
        if not is_browser_test(nextitem):
            item.config.stash[RUNNING].stop()


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Any:
    return request.config.stash[RUNNING].browser()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on its test, for the page fixture to see whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh page that records every request it makes, screenshotted at the
    end if its test failed: what the failure looked like. Only then, as a
    whole-page screenshot of every passing test cost more than many a test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="session")
def axe() -> Path:
    """axe-core's script, which the accessibility tests inject into each page."""
    if not AXE.exists():
        _unavailable(f"{AXE} is missing (npm install --prefix .axe axe-core@4)")
    return AXE
