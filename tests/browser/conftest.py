"""A served site and a headless Chromium for the browser tests.

Without Chromium, Playwright or axe-core the tests fail with what to run:
`make test` installs all three (`make tools`), and a browser test that
skipped would prove nothing.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path

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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Per module, not per session: while Playwright's sync API runs, its event
    # loop counts as running in this thread, so asyncio.run() in a later
    # module's in-process site would fail.
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


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
