"""API fixtures: tokens made through the engine (as the account page makes them), a JSON client."""
import pytest

from engine import api_tokens
from tests.web.conftest import client_for, ws  # noqa: F401  (a logged-in browser; the small visa-like process)


class ApiClient:
    """Flask's test client sending a bearer token and JSON, as an integration would."""

    def __init__(self, app, token=None):
        self.http, self.token = app.test_client(), token

    def _headers(self, headers):
        out = dict(headers or {})
        if self.token:
            out.setdefault("Authorization", f"Bearer {self.token}")
        return out

    def _clean(self):
        from flask import g
        for name in list(vars(g)):
            g.pop(name, None)

    def get(self, url, headers=None, **kw):
        self._clean()
        return self.http.get(url, headers=self._headers(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        self._clean()
        return self.http.post(url, json=json if json is not None else {}, headers=self._headers(headers), **kw)


@pytest.fixture
def token_for(ctx, people):
    def make(username, days=30):
        _row, secret = api_tokens.create_personal(people[username], f"test {username}", days)
        return secret
    return make


@pytest.fixture
def api(ctx, token_for):
    def make(username=None, token=None):
        return ApiClient(ctx, token or (token_for(username) if username else None))
    return make
