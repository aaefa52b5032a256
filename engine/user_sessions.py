"""Login sessions, kept in the database so that they can be ended.

Logout ends one; a new password or deactivation ends all of a user's (engine/users.py). A session
also ends SESSION_IDLE_TIMEOUT seconds after its last request and SESSION_MAX_AGE seconds after login.
The browser's cookie carries a random token (inside Flask's signed session); the table keeps only
its SHA-256. `engine.users.session_user` checks the token in the same statement that loads the user.
"""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, update

from engine import clock
from engine.db import db
from engine.models import UserSession
from engine.settings import setting

# last_seen_at is written at most this often, so the idle timeout is exact to about this much
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cutoffs(now: datetime) -> tuple[datetime, datetime]:
    """(last request, login) times before which a session has expired."""
    return (now - timedelta(seconds=setting("SESSION_IDLE_TIMEOUT")),
            now - timedelta(seconds=setting("SESSION_MAX_AGE")))


# The WHERE clause a statement adds to keep only a live session (bound with `live_parameters`).
LIVE = (UserSession.token_hash == bindparam("token_hash"),
        UserSession.last_seen_at > bindparam("idle_since"),
        UserSession.created_at > bindparam("started_since"))


def live_parameters(token: str) -> dict:
    idle_since, started_since = _cutoffs(clock.now())
    return {"token_hash": token_hash(token), "idle_since": idle_since, "started_since": started_since}


def start(user_id: int) -> str:
    """A new session for the user; returns the token for the cookie. The user's expired sessions are
    removed on the way. The caller commits."""
    idle_since, started_since = _cutoffs(clock.now())
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user_id,
        or_(UserSession.last_seen_at <= idle_since, UserSession.created_at <= started_since)))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=token_hash(token), user_id=user_id))
    return token


def end(token: str | None) -> None:
    """End one session (logout)."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
        db.session.commit()


def end_all(user_id: int) -> None:
    """End every session of the user, wherever it is used. The caller commits."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def seen(session_id: int, last_seen_at: datetime) -> None:
    """Note a request for the idle timeout, at most every TOUCH_EVERY. In a transaction of its own:
    a page that only reads runs without one (engine.db.read_without_transaction)."""
    now = clock.now()
    if now - last_seen_at < TOUCH_EVERY:
        return
    with db.engine.begin() as connection:
        connection.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
