"""Security tests: the web fixtures, the browser's for the CSP test, and more roles than `people`."""
import pytest

from engine import users
from engine.db import db
from tests.browser.conftest import browser, live_server, new_page  # noqa: F401  (shared fixtures)
from tests.web.conftest import client_for, ws  # noqa: F401  (shared fixtures)


@pytest.fixture
def staff(people):
    """`people` plus a process owner and an admin in Aachen, and a supervisor-admin in Köln."""
    more = {
        "paul": users.ensure_user("paul", "Paul Prozess", organisation=people["center"], groups=["process_owner"],
                                  password="pw-paul"),
        "ada": users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"],
                                 password="pw-ada"),
        "kim": users.ensure_user("kim", "Kim Köln", organisation=people["other_center"],
                                 groups=["admin", "supervisor"], password="pw-kim"),
    }
    db.session.commit()
    return {**people, **more}
