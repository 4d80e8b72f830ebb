"""The browser the tests drive (tests/support/site_helpers.py's launch): one
--disable-features switch carrying Playwright's list and the tests' own, so
that neither is lost, and no address-bar page preloaded beside a page."""

from __future__ import annotations

import pytest

from tests.support.site_helpers import DISABLED_FEATURES, feature_switches

pytestmark = pytest.mark.browser


def test_one_feature_switch_carries_playwrights_list_and_the_tests(browser) -> None:
    (switch,) = feature_switches(browser)
    features = switch.removeprefix("--disable-features=").split(",")
    assert set(DISABLED_FEATURES) < set(features)
    # Playwright's own list, whichever its names: some besides the tests'.
    assert len(features) > len(DISABLED_FEATURES)


def test_a_page_has_no_address_bar_page_beside_it(page) -> None:
    page.goto("data:text/html,<title>alone</title>")
    targets = page.context.browser.new_browser_cdp_session().send("Target.getTargets")["targetInfos"]
    assert [target["type"] for target in targets] == ["page"]
