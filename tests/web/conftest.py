"""Web fixtures: a logged-in test client, CSRF tokens read from pages, a small visa-like process."""
import re

import pytest

from engine import cases, deploy
from engine.db import db
from tests.conftest import fixture_files, replayed

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """Flask's test client plus the CSRF token of the last page, as a browser would send it."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self.token = None

    @staticmethod
    def _forget_user():
        # Requests reuse the test's app context (the `ctx` fixture), and Flask-Login and Flask-WTF
        # cache the user and the CSRF token on `g`: forget them, so each client is only what its
        # own session cookie says.
        from flask import g
        for name in list(vars(g)):
            g.pop(name, None)

    def get(self, url, **kw):
        self._forget_user()
        response = self.http.get(url, **kw)
        found = CSRF_RE.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            data.setdefault("csrf_token", self.token)
        self._forget_user()
        response = self.http.post(url, data=data, **kw)
        found = CSRF_RE.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def login(self, username, password=None):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password or f"pw-{username}"})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.get(response.headers["Location"])    # a fresh session after login: the next page has the token
        return self


@pytest.fixture
def client_for(ctx):
    def make(username=None):
        client = Client(ctx)
        if username:
            client.login(username)
        return client
    return make


@pytest.fixture
def ws(people):
    """The small 'ws_permit' process deployed, with two cases in Aachen and one in Köln; replayed where it can be
    (the cases' times are the clock's now and the process's durations from it, see `replayed`)."""
    started = replayed("ws", lambda: ws_setup(people), clock_relative=True)
    return {"cases": [started[name] for name in WS_CASES], **people}


WS_CASES = ("ravi", "maria", "olena")


def ws_setup(people) -> dict:
    """What `ws` adds to `people`: the deployment and the started cases (by WS_CASES' names)."""
    deploy.deploy(fixture_files("ws_permit.bpmn", "ws_start.form", "ws_documents.form"))
    started = {
        "ravi": cases.start_case("ws_permit", center=people["center"], employer=people["firm"], subject="Ravi Kumar",
                                 data={"worker_name": "Ravi Kumar", "country": "IN"}, actor=people["anna"],
                                 responsible=people["anna"]),
        "maria": cases.start_case("ws_permit", center=people["center"], employer=people["other_firm"],
                                  subject="Maria Santos", data={"worker_name": "Maria Santos", "country": "BR"},
                                  actor=people["anna"]),
        "olena": cases.start_case("ws_permit", center=people["other_center"], subject="Olena Kovalenko",
                                  data={"worker_name": "Olena Kovalenko", "country": "UA"}, actor=people["kai"]),
    }
    db.session.commit()
    return started
