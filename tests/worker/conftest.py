"""Worker fixtures: two workers' cases of the small `wk_steps` process, each with a personal link."""
import re

import pytest

from engine import cases, worker_links
from engine.db import db
from tests.web.conftest import Client, client_for  # noqa: F401  (the fixture, for these tests too)

LINK_RE = re.compile(r"/w/([A-Za-z0-9_-]+)\?lang=(\w+)")


@pytest.fixture
def workers(people, deploy_fixture):
    deploy_fixture("wk_steps.bpmn", "wk_address.form")
    ravi = cases.start_case("wk_steps", center=people["center"], subject="Ravi Kumar", actor=people["anna"],
                            responsible=people["anna"])
    olena = cases.start_case("wk_steps", center=people["center"], subject="Olena Kovalenko", actor=people["anna"],
                             responsible=people["ben"])
    db.session.commit()
    ravi_link, ravi_token = worker_links.issue(ravi, people["anna"], {"language": "ar"})
    olena_link, olena_token = worker_links.issue(olena, people["anna"], {"language": "uk"})
    db.session.commit()
    return {**people, "ravi": ravi, "olena": olena, "ravi_token": ravi_token, "olena_token": olena_token,
            "ravi_link": ravi_link, "olena_link": olena_link}


def open_as_worker(client, token, **fields):
    """What a worker's browser does: the link's page, then its button (and second factor, if given)."""
    client.get(f"/w/{token}")
    response = client.post(f"/w/{token}", fields)
    if response.status_code == 302:
        client.get(response.headers["Location"])     # the session is new: its page brings the CSRF token
    return response
