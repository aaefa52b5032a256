"""Single-use links that let a person set their own password: the invitation of a new person and
the reset ("forgot password", or an admin's reset). The mail carries a random token; only its
SHA-256 is stored. A link works once, until it expires, and only the newest link of a person works.
"""
import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from engine import audit, clock, mail, passwords, users
from engine.db import db
from engine.errors import InvalidFields
from engine.models import User, UserToken
from engine.user_sessions import token_hash

LIFETIME = {"invitation": timedelta(days=7), "reset": timedelta(hours=2)}


def link_path(token: str) -> str:
    return f"/password/set/{token}"


def issue(user: User, purpose: str, actor=None) -> str:
    """A new link for `user` (earlier ones stop working) and its mail; returns the token. The caller
    commits, then calls `engine.mail.after_commit_send_mail()`."""
    if not user.email:
        raise InvalidFields({"email": _l("Ohne E-Mail-Adresse kann keine Einladung verschickt werden.")})
    now = clock.now()
    db.session.execute(update(UserToken).where(UserToken.user_id == user.id, UserToken.used_at.is_(None))
                       .values(used_at=now))
    token = secrets.token_urlsafe(32)
    db.session.add(UserToken(token_hash=token_hash(token), user_id=user.id, purpose=purpose,
                             created_at=now, expires_at=now + LIFETIME[purpose]))
    center = user.organisation.name if user.organisation else "Lotse"
    parts = mail.render(purpose, user.language, name=user.display_name, username=user.username,
                        path=link_path(token), hours=int(LIFETIME[purpose].total_seconds() // 3600),
                        center=center)
    mail.queue(user.email, parts["subject"], parts["body"], user.language, user_id=user.id)
    audit.record(actor, user, "invited" if purpose == "invitation" else "reset_link_sent")
    return token


def valid(token: str) -> UserToken:
    """The unused, unexpired link of an active person; InvalidFields naming why not."""
    row = db.session.scalar(select(UserToken).where(UserToken.token_hash == token_hash(token or "")))
    if row is None or row.used_at is not None or not row.user.active:
        raise InvalidFields({"token": _l("Dieser Link ist ungültig oder wurde schon benutzt. "
                                         "Fordern Sie bitte einen neuen an.")})
    if row.expires_at <= clock.now():
        raise InvalidFields({"token": _l("Dieser Link ist abgelaufen. Fordern Sie bitte einen neuen an.")})
    return row


def redeem(token: str, password: str, repeat: str) -> User:
    """Set the password through a link; the link is used up and every session of the person ends."""
    row = valid(token)
    problem = passwords.problem(password)
    if problem is None and password != repeat:
        problem = _l("Die beiden Passwörter stimmen nicht überein.")
    if problem is not None:
        raise InvalidFields({"password": problem})
    # Used up by one UPDATE that requires it unused: of two tabs sending the form, one wins.
    taken = db.session.execute(update(UserToken).where(UserToken.id == row.id, UserToken.used_at.is_(None))
                               .values(used_at=clock.now())).rowcount
    if taken != 1:
        raise InvalidFields({"token": _l("Dieser Link ist ungültig oder wurde schon benutzt. "
                                         "Fordern Sie bitte einen neuen an.")})
    users.set_password(row.user, password)
    audit.record(row.user, row.user, "password_set")
    return row.user


def request_reset(login: str) -> None:
    """'Forgot password': a reset link to the active person with this user name or e-mail address,
    if there is one. The caller answers the same either way (no account enumeration)."""
    login = (login or "").strip().lower()
    if not login:
        return
    user = db.session.scalar(select(User).where(
        User.active.is_(True), User.email.is_not(None),
        or_(func.lower(User.username) == login, func.lower(User.email) == login)).limit(1))
    if user is not None:
        issue(user, "reset", actor=None)
