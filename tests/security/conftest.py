"""Security tests: the web fixtures, and the browser's for the CSP test."""
from tests.browser.conftest import browser, live_server, new_page  # noqa: F401  (shared fixtures)
from tests.web.conftest import client_for, ws  # noqa: F401  (shared fixtures)
