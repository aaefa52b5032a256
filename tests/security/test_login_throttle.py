"""Login throttling per account name and per client address: the database counts without Redis, Redis
with it. A throttled try is refused before any password hashing, and the login page says so in words
that do not tell whether the account exists."""
import os
import threading
import uuid
from datetime import timedelta

import argon2
import pytest
from sqlalchemy import func, select

from engine import clock
from engine.db import db
from engine.models import LoginAttempt
from tests.web.conftest import Client

REDIS_URL = os.environ.get("REDIS_URL")
THROTTLED = "Zu viele Anmeldeversuche mit diesem Benutzernamen oder von dieser Adresse."


@pytest.fixture
def limits(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "LOGIN_TRIES_PER_ACCOUNT", 3)
    monkeypatch.setitem(ctx.config, "LOGIN_TRIES_PER_ADDRESS", 6)
    monkeypatch.setitem(ctx.config, "LOGIN_THROTTLE_WINDOW", 900)


@pytest.fixture
def hashing(monkeypatch):
    """How often argon2 hashed or checked a password."""
    calls = []
    for name in ("hash", "verify"):
        real = getattr(argon2.PasswordHasher, name)
        monkeypatch.setattr(argon2.PasswordHasher, name,
                            lambda self, *a, _real=real, **kw: calls.append(1) or _real(self, *a, **kw))
    return calls


def _try(ctx, username, password, address="192.0.2.1"):
    client = Client(ctx)
    client.http.environ_base["REMOTE_ADDR"] = address
    return client.post("/login", {"username": username, "password": password})


def _throttled(response):
    return response.status_code == 429 and THROTTLED in response.get_data(as_text=True)


def _account_is_throttled_after_its_limit(ctx, people, hashing):
    for n in range(3):
        assert _try(ctx, "anna", f"guess-{n}").status_code == 401
    hashed = len(hashing)
    response = _try(ctx, "anna", "pw-anna", address="198.51.100.7")     # the right password, another address
    assert _throttled(response)
    assert int(response.headers["Retry-After"]) > 0
    assert len(hashing) == hashed                                       # refused before hashing
    assert "15 Minuten" in response.get_data(as_text=True)


def _the_window_passes(ctx):
    """Another account is not affected; after the window, the account may try again."""
    assert _try(ctx, "ben", "pw-ben", address="198.51.100.7").status_code == 302
    clock.advance(timedelta(seconds=901))
    assert _try(ctx, "anna", "pw-anna").status_code == 302


def test_account_throttling_in_the_database(ctx, people, limits, hashing):
    _account_is_throttled_after_its_limit(ctx, people, hashing)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) > 0
    _the_window_passes(ctx)


def test_the_refusal_does_not_tell_whether_the_account_exists(ctx, people, limits):
    for username in ("anna", "no-such-user"):
        for n in range(3):
            assert _try(ctx, username, f"guess-{n}").status_code == 401
    pages = [_try(ctx, username, "pw-anna", address="198.51.100.9") for username in ("anna", "no-such-user")]
    assert all(_throttled(page) for page in pages)
    texts = [page.get_data(as_text=True).replace(name, "NAME") for page, name in zip(pages, ("anna", "no-such-user"))]
    strip = [t.split('name="csrf_token" value="')[0] + t.split('name="csrf_token" value="')[1].split('"', 1)[1]
             for t in texts]
    assert strip[0] == strip[1]


def test_address_throttling_across_accounts(ctx, people, limits, hashing):
    for n in range(6):
        assert _try(ctx, f"user-{n}", "guess", address="203.0.113.5").status_code == 401
    hashed = len(hashing)
    assert _throttled(_try(ctx, "ben", "pw-ben", address="203.0.113.5"))
    assert len(hashing) == hashed
    assert _try(ctx, "ben", "pw-ben", address="203.0.113.6").status_code == 302


def test_a_successful_login_forgets_the_account_s_tries(ctx, people, limits):
    for n in range(2):
        assert _try(ctx, "anna", f"guess-{n}").status_code == 401
    assert _try(ctx, "anna", "pw-anna").status_code == 302
    for n in range(2):
        assert _try(ctx, "anna", f"guess-{n}").status_code == 401
    assert _try(ctx, "anna", "pw-anna").status_code == 302


def test_the_password_page_counts_against_the_account(ctx, people, limits, client_for):
    anna = client_for("anna")
    anna.get("/password")
    for n in range(3):
        assert anna.post("/password", {"current_password": f"guess-{n}", "new_password": "a-new-passphrase",
                                       "new_password_repeat": "a-new-passphrase"}).status_code == 422
    response = anna.post("/password", {"current_password": "pw-anna", "new_password": "a-new-passphrase",
                                       "new_password_repeat": "a-new-passphrase"})
    assert _throttled(response)


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI always sets it)")
def test_account_and_address_throttling_in_redis(ctx, people, limits, hashing, monkeypatch):
    from redis import Redis
    from engine import login_throttle
    monkeypatch.setitem(ctx.config, "REDIS_URL", REDIS_URL)
    # Keys of this test only: Redis is shared with other test runs.
    monkeypatch.setattr(login_throttle, "REDIS_PREFIX", f"lotse-test:{uuid.uuid4().hex}:")
    redis = Redis.from_url(REDIS_URL)
    try:
        _account_is_throttled_after_its_limit(ctx, people, hashing)
        assert redis.keys(login_throttle.REDIS_PREFIX + "*")
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
        for n in range(3):
            assert _try(ctx, f"user-{n}", "guess").status_code == 401
        assert _throttled(_try(ctx, "ben", "pw-ben"))                   # the address's seventh try
        assert _try(ctx, "ben", "pw-ben", address="203.0.113.6").status_code == 302
    finally:
        for key in redis.keys(login_throttle.REDIS_PREFIX + "*"):
            redis.delete(key)


def test_tries_side_by_side_hash_no_more_than_the_limit(ctx, people, limits, hashing):
    """Twelve wrong tries for one account at the same moment: at most the limit reach argon2, so
    parallel tries cannot keep every web worker hashing."""
    from engine import users
    from engine.login_throttle import Throttled
    start, outcomes = threading.Barrier(12), []

    def one_try(n):
        with ctx.app_context():                 # a request of its own, in its own session
            start.wait()
            try:
                outcomes.append(users.log_in("anna", f"guess-{n}", f"192.0.2.{n}"))
            except Throttled:
                outcomes.append("throttled")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one_try, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 12
    assert outcomes.count("throttled") >= 12 - 3
    assert len(hashing) == 12 - outcomes.count("throttled") <= 3
