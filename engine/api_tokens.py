"""Credentials of the JSON API: personal tokens and service accounts (the `api_token` table).

- A person creates, names and revokes their own tokens (the page "API-Zugänge" of their account); a
  token acts as that person, with exactly their permissions (engine.access), and ends with its expiry
  date, its revocation, or the person's deactivation.
- An admin creates service accounts for external-task workers of their center: a named token limited
  to named topics (`access.ServiceActor`); it sees no case or task and only fetches and finishes the
  external tasks of its topics at its center.

The secret is shown once, when created; only its SHA-256 is stored (it is 256 random bits, so a
plain hash is enough). Requests are counted per token in this process (`throttle`): over
API_REQUESTS_PER_MINUTE the API answers 429.
"""
import re
import secrets
import threading
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from engine import access, audit, clock
from engine.db import db
from engine.errors import InvalidFields, LotseError, NotFound
from engine.models import ApiToken, Group, Membership, Organisation, User
from engine.settings import setting
from engine.user_sessions import token_hash

PREFIX = "lotse_"
MAX_DAYS = 366
TOPIC = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")


class Throttled(LotseError):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many requests with this token; try again in {retry_after} s")


def _new_secret() -> tuple[str, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, secret[:len(PREFIX) + 6]


def _name(name) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidFields({"name": _l("Bitte geben Sie einen Namen mit 1 bis 100 Zeichen an.")})
    return name


def _expiry(days, *, required: bool) -> datetime | None:
    if days in (None, "") and not required:
        return None
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise InvalidFields({"days": _l("Bitte geben Sie eine Gültigkeit von 1 bis %(max)s Tagen an.", max=MAX_DAYS)})
    return clock.now() + timedelta(days=days)


# --- personal tokens ------------------------------------------------------------------------------

def personal_tokens(user) -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.kind == "personal", ApiToken.user_id == user.id)
                              .order_by(ApiToken.id.desc())).all()


def create_personal(user, name, days) -> tuple[ApiToken, str]:
    """A new token of `user`, valid for `days` days; returns it with its secret (shown once). Commits."""
    secret, prefix = _new_secret()
    row = ApiToken(token_hash=token_hash(secret), prefix=prefix, kind="personal", name=_name(name), user_id=user.id,
                   topics=[], created_by_id=user.id, created_at=clock.now(), expires_at=_expiry(days, required=True))
    db.session.add(row)
    db.session.commit()
    return row, secret


def revoke_personal(user, token_id) -> ApiToken:
    """Revoke one of the user's own tokens (another's is NotFound). Commits."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.kind == "personal",
                                                   ApiToken.user_id == user.id))
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        db.session.commit()
    return row


# --- service accounts -----------------------------------------------------------------------------

def _topics(topics) -> list[str]:
    if isinstance(topics, str):
        topics = re.split(r"[,\s]+", topics)
    names = sorted({t.strip() for t in topics or [] if t and t.strip()})
    bad = [t for t in names if not TOPIC.match(t)]
    if not names or bad:
        raise InvalidFields({"topics": _l("Bitte nennen Sie ein oder mehrere Themen (Buchstaben, Ziffern, _ . : -), "
                                          "durch Komma getrennt.") if not bad else
                             _l("Kein gültiger Themenname: %(names)s", names=", ".join(bad))})
    return names


def service_accounts(admin) -> list[ApiToken]:
    center_id = access.administered_center_id(admin)
    return db.session.scalars(select(ApiToken).where(ApiToken.kind == "service", ApiToken.center_id == center_id)
                              .order_by(ApiToken.id.desc())).all() if center_id else []


def create_service_account(admin, name, topics, days=None) -> tuple[ApiToken, str]:
    """A service account of the admin's center for workers of `topics`; returns it with its secret. Commits."""
    center_id = access.administered_center_id(admin)
    if center_id is None:
        raise NotFound("only admins of a center create service accounts")
    secret, prefix = _new_secret()
    row = ApiToken(token_hash=token_hash(secret), prefix=prefix, kind="service", name=_name(name),
                   center_id=center_id, topics=_topics(topics), created_by_id=admin.id, created_at=clock.now(),
                   expires_at=_expiry(days, required=False))
    db.session.add(row)
    audit.record(admin, admin.organisation, "service_account_created", {"name": {"old": None, "new": row.name},
                                                                         "topics": {"old": None, "new": row.topics}})
    db.session.commit()
    return row, secret


def revoke_service_account(admin, token_id) -> ApiToken:
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.kind == "service",
                                                   ApiToken.center_id == access.administered_center_id(admin)))
    if row is None:
        raise NotFound(f"service account {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        audit.record(admin, admin.organisation, "service_account_revoked", {"name": {"old": row.name, "new": None}})
        db.session.commit()
    return row


# --- requests -------------------------------------------------------------------------------------

# The token with its person, their organisation's kind and one row per group of theirs, in one statement (every API
# request runs it), read as plain rows: the actor is built from them (access.TokenUser), not loaded as ORM
# objects. Built once, so SQLAlchemy keeps its cache key.
_LOAD = (select(ApiToken.id, ApiToken.kind, ApiToken.name, ApiToken.center_id, ApiToken.topics, ApiToken.expires_at,
                ApiToken.revoked_at, User.id.label("user_id"), User.username, User.display_name, User.email,
                User.language, User.active, User.organisation_id, Organisation.kind.label("organisation_kind"),
                Group.name.label("group_name"))
         .select_from(ApiToken)
         .outerjoin(User, User.id == ApiToken.user_id)
         .outerjoin(Organisation, Organisation.id == User.organisation_id)
         .outerjoin(Membership, Membership.user_id == User.id)
         .outerjoin(Group, Group.id == Membership.group_id)
         .where(ApiToken.token_hash == bindparam("token_hash")))


def authenticate(secret: str | None):
    """(actor, token hash: the throttle's key) for a bearer secret: the actor is an `access.TokenUser` (personal token
    of an active person) or an `access.ServiceActor`; None for an unknown, expired or revoked token."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    hashed = token_hash(secret)
    rows = db.session.connection().execute(_LOAD, {"token_hash": hashed}).all()
    if not rows:
        return None
    row = rows[0]
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= clock.now()):
        return None
    if row.kind == "service":
        return access.ServiceActor(token_id=row.id, name=row.name, organisation_id=row.center_id,
                                   topics=frozenset(row.topics or ())), hashed
    if row.user_id is None or not row.active:
        return None
    return access.TokenUser(id=row.user_id, username=row.username, display_name=row.display_name, email=row.email,
                            language=row.language, active=row.active, organisation_id=row.organisation_id,
                            organisation_kind=row.organisation_kind,
                            group_names=frozenset(r.group_name for r in rows if r.group_name is not None)), hashed


_counts: dict = {}
_lock = threading.Lock()


def throttle(key) -> None:
    """Count a request of token `key` in this minute; Throttled beyond API_REQUESTS_PER_MINUTE."""
    now = clock.now().timestamp()
    limit, minute = setting("API_REQUESTS_PER_MINUTE"), int(now // 60)
    with _lock:
        if len(_counts) > 10_000:
            _counts.clear()
        count = _counts.get((key, minute), 0) + 1
        _counts[(key, minute)] = count
        _counts.pop((key, minute - 1), None)
    if count > limit:
        raise Throttled(60 - int(now) % 60 or 1)
