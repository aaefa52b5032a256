"""The switches the browser tests start Chromium with keep what Playwright itself switches off."""
import base64
import json
import re

from tests.browser.conftest import CHROMIUM, OMNIBOX_POPUP


def disabled_features(browser) -> set:
    """The features a running Chromium has switched off, as chrome://version reports them (its command-line
    variations, a base64 JSON object): the effect of the switches, whatever their order."""
    page = browser.new_page()
    try:
        page.goto("chrome://version")
        encoded = re.search(r"eyJ[A-Za-z0-9+/=]+", page.content()).group(0)
    finally:
        page.close()
    variations = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    return set(filter(None, variations.get("disable-features", "").split(",")))


def test_the_tests_chromium_keeps_playwrights_disabled_features_and_has_no_omnibox_popup(browser):
    # Chromium keeps the last --disable-features only: ours must repeat every feature Playwright switches off.
    plain = browser.browser_type.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
    try:
        playwrights = disabled_features(plain)
    finally:
        plain.close()
    ours = disabled_features(browser)
    assert playwrights - set(OMNIBOX_POPUP), "chrome://version lists no disabled feature"
    assert playwrights <= ours, f"Playwright's switches lost: {sorted(playwrights - ours)}"
    assert set(OMNIBOX_POPUP) <= ours
