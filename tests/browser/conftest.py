"""Browser tests: Debian's Chromium driven by Playwright against a live server in a thread.

Never downloads a browser: `executable_path` points at /usr/bin/chromium (CI installs it with
apt-get). The server is werkzeug's, on 127.0.0.1 and a free port, serving the test app, so
the browser sees exactly the database the test set up. Set LOTSE_SCREENSHOTS=<dir> to keep
screenshots of the pages the tests visit.
"""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web.conftest import client_for, ws  # noqa: F401  (shared fixtures)

CHROMIUM = os.environ.get("LOTSE_CHROMIUM", "/usr/bin/chromium")
# Chromium keeps the last --disable-features only: Playwright's own list (chromiumSwitches.ts of the pinned
# version), which its behaviour relies on, then the omnibox's drop-down, which in this Chromium is a page of its
# own (chrome://omnibox-popup.top-chrome) that every new window loads in a renderer process of its own, for an
# address bar no test uses. tests/browser/test_chromium.py checks that Playwright's list is kept.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin", "OptimizationHints",
    "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch", "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion")
OMNIBOX_POPUP = ("WebUIOmniboxPopup", "WebUIOmniboxFullPopup", "WebUIOmniboxAimPopup")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + OMNIBOX_POPUP)]


def _require_chromium():
    # Never skipped: the browser tests are the advisor's real paths. .ci/run installs Debian's chromium.
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)", pytrace=False)


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(app):
    with LiveServer(app) as server:
        yield server


_chromium = {"users": 0}     # one Playwright and Chromium for every folder that imports these fixtures


@pytest.fixture(scope="session")
def browser():
    # Another conftest importing this fixture gets a fixture of its own, and Playwright's sync API
    # allows one instance per thread: they share it, and the last to finish stops it.
    if not _chromium["users"]:
        _require_chromium()
        from playwright.sync_api import sync_playwright
        _chromium["playwright"] = sync_playwright().start()
        _chromium["browser"] = _chromium["playwright"].chromium.launch(executable_path=CHROMIUM, args=ARGS)
    _chromium["users"] += 1
    yield _chromium["browser"]
    _chromium["users"] -= 1
    if not _chromium["users"]:
        _chromium["browser"].close()
        _chromium["playwright"].stop()


@pytest.fixture
def new_page(browser, live_server, app):
    """A page in a browser context of its own; with a username, logged in as that user (see `login_cookies`) and
    opened at `at` (the inbox)."""
    contexts = []

    def make(username=None, password=None, locale="de-DE", at="/"):
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        if username:
            context.add_cookies(login_cookies(app, live_server.url, username, password or f"pw-{username}"))
        page = context.new_page()
        if username and at:        # at=None: the test opens its first page itself
            page.goto(at)
        return page

    yield make
    for context in contexts:
        context.close()


def login_cookies(app, url, username, password):
    """The cookies of a login through the login form (the same view and CSRF check as in the browser), sent
    by Flask's test client: the journeys start logged in without drawing the login page each time. The login
    page itself is drawn in the role walk (every demo login) and in the journeys that test it."""
    client = app.test_client()
    with app.app_context():     # a context of its own: the requests would otherwise share the test's (its `g`)
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        answer = client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": token.group(1) if token else ""})
    assert answer.status_code == 302, f"{username} could not log in: HTTP {answer.status_code}"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return [{"name": cookie.key, "value": cookie.value, "url": url, "httpOnly": True, "sameSite": "Lax"}]


def screenshot(page, name, full_page=True):
    """A screenshot named `name` in LOTSE_SCREENSHOTS; none when it is unset (a full page costs Chromium a
    page load's CPU)."""
    folder = os.environ.get("LOTSE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


@pytest.fixture
def shot():
    return screenshot
