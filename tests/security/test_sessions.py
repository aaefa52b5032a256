"""Login sessions are revocable: a cookie copied before logout, deactivation or a password change opens
nothing afterwards, and sessions end after the idle and absolute timeouts of the settings."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import clock, users
from engine.db import db
from engine.models import UserSession
from tests.web.conftest import Client

pytestmark = pytest.mark.usefixtures("people")


def _replay(ctx, client):
    """A second browser holding a copy of the client's session cookie."""
    thief = Client(ctx)
    thief.http.set_cookie("session", client.http.get_cookie("session").value)
    return thief


def _opens_the_inbox(client):
    response = client.get("/")
    if response.status_code == 200:
        assert "Abmelden" in response.get_data(as_text=True)
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


def test_a_cookie_copied_before_logout_is_refused_after_it(ctx, client_for):
    anna = client_for("anna")
    thief = _replay(ctx, anna)
    assert _opens_the_inbox(thief)
    anna.post("/logout")
    assert not _opens_the_inbox(anna)
    assert not _opens_the_inbox(thief)


def test_logout_ends_only_its_own_session(ctx, client_for):
    office, laptop = client_for("anna"), client_for("anna")
    office.post("/logout")
    assert _opens_the_inbox(laptop)


def test_deactivation_ends_every_session_at_once(ctx, client_for, people):
    anna = client_for("anna")
    thief = _replay(ctx, anna)
    users.deactivate(people["anna"])
    db.session.commit()
    assert not _opens_the_inbox(anna)
    assert not _opens_the_inbox(thief)
    assert client_for().post("/login", {"username": "anna", "password": "pw-anna"}).status_code == 401


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(ctx, client_for):
    anna, laptop = client_for("anna"), client_for("anna")
    thief = _replay(ctx, anna)
    anna.get("/password")
    response = anna.post("/password", {"current_password": "pw-anna", "new_password": "a-new-passphrase",
                                       "new_password_repeat": "a-new-passphrase"})
    assert response.status_code == 302
    assert _opens_the_inbox(anna)
    assert not _opens_the_inbox(laptop)
    assert not _opens_the_inbox(thief)
    assert client_for().post("/login", {"username": "anna", "password": "pw-anna"}).status_code == 401
    client_for().login("anna", "a-new-passphrase")


def test_a_password_change_needs_the_current_password(ctx, client_for):
    anna = client_for("anna")
    anna.get("/password")
    response = anna.post("/password", {"current_password": "wrong", "new_password": "a-new-passphrase",
                                       "new_password_repeat": "a-new-passphrase"})
    assert response.status_code == 422
    assert "Das bisherige Passwort ist falsch." in response.get_data(as_text=True)
    assert _opens_the_inbox(anna)
    client_for("anna")                          # the old password still works


def test_setting_a_password_ends_every_session(ctx, client_for, people):
    """What `lotse password USER` does."""
    anna = client_for("anna")
    users.set_password(people["anna"], "set-by-the-admin")
    db.session.commit()
    assert not _opens_the_inbox(anna)


def test_idle_timeout(ctx, client_for, monkeypatch):
    monkeypatch.setitem(ctx.config, "SESSION_IDLE_TIMEOUT", 3600)
    anna = client_for("anna")
    for _ in range(4):                          # active for over three hours: never idle for an hour
        clock.advance(timedelta(minutes=50))
        assert _opens_the_inbox(anna)
    clock.advance(timedelta(minutes=61))
    assert not _opens_the_inbox(anna)


def test_absolute_timeout(ctx, client_for, monkeypatch):
    monkeypatch.setitem(ctx.config, "SESSION_IDLE_TIMEOUT", 3600)
    monkeypatch.setitem(ctx.config, "SESSION_MAX_AGE", 4 * 3600)
    anna = client_for("anna")
    for _ in range(4):
        clock.advance(timedelta(minutes=50))
        assert _opens_the_inbox(anna)
    clock.advance(timedelta(minutes=50))        # 4 h 10 min after login, 50 min after the last request
    assert not _opens_the_inbox(anna)
    client_for("anna")                          # logging in again starts a new session


def test_only_a_hash_of_the_token_is_stored(ctx, client_for):
    anna = client_for("anna")
    with anna.http.session_transaction() as cookie:
        token = cookie["session_token"]
    stored = db.session.scalars(select(UserSession.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(token) >= 40
