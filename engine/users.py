"""Users, groups and organisations: creating them and checking passwords (argon2)."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, with_expression

from engine import login_throttle, notifications, user_sessions
from engine.db import db
from engine.group_names import GROUP_LABELS_DE
from engine.models import Group, Organisation, User, UserSession
from engine.settings import setting


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    """The argon2id hasher at the deployment's cost (ARGON2_* settings; a hash keeps its own cost for checking)."""
    return _hasher_with(setting("ARGON2_TIME_COST"), setting("ARGON2_MEMORY_COST"), setting("ARGON2_PARALLELISM"))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher().hash(password)      # same cost either way: no user enumeration by timing
        return None
    return user if check_password(user, password) else None


def log_in(username: str, password: str, address: str) -> tuple[User, str] | None:
    """Check a login try and start a session: (user, the session's token for the cookie), or None when
    the name or password is wrong. Raises `login_throttle.Throttled`, before hashing, on one try too many."""
    attempt = login_throttle.begin(username, address)
    user = authenticate(username, password)
    if user is None:
        return None
    login_throttle.succeeded(attempt)
    token = user_sessions.start(user.id)
    db.session.commit()
    return user, token


def change_password(user: User, current: str, new: str, address: str) -> str | None:
    """The user's own password change: a token for a new session of this browser, every other session
    ended; None if `current` is wrong (a throttled try, like a login)."""
    attempt = login_throttle.begin(user.username, address)
    if not check_password(user, current):
        return None
    login_throttle.succeeded(attempt)
    set_password(user, new)
    token = user_sessions.start(user.id)
    db.session.commit()
    return token


def set_password(user: User, password: str) -> None:
    """A new password; every login session of the user ends (a stolen cookie with it). The caller commits."""
    user.password_hash = hash_password(password)
    user_sessions.end_all(user.id)


def deactivate(user: User) -> None:
    """The user can no longer log in, and every login session of theirs ends now. The caller commits."""
    user.active = False
    user_sessions.end_all(user.id)


def get_group(name: str) -> Group:
    group = db.session.scalar(select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name, label=GROUP_LABELS_DE.get(name, name))
        db.session.add(group)
        db.session.flush()
    return group


def get_organisation(kind: str, name: str, code=None, center=None, region=None) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.kind == kind, Organisation.name == name))
    if org is None:
        org = Organisation(kind=kind, name=name, code=code, center_id=getattr(center, "id", center), region=region)
        db.session.add(org)
        db.session.flush()
    return org


def ensure_user(username, display_name, *, organisation, groups=(), password=None, email=None, language="de"):
    """Create the user if missing (idempotent: used by the demo loader and tests)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name, email=email, language=language,
                    organisation_id=organisation.id, password_hash=hash_password(password) if password else None)
        db.session.add(user)
        db.session.flush()
    for name in groups:
        group = get_group(name)
        if group not in user.groups:
            user.groups.append(group)
    db.session.flush()
    return user


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


# The session's user with organisation, groups and unread notifications, and the login session that
# vouches for it, in one statement (every page needs all of them); built once, so SQLAlchemy keeps
# its cache key. Of the organisation only what every page asks (the header, engine.access): its profile
# (address, areas, …) would be read once a group of the user's, on every page; the admin pages that show
# it read it whole (engine.admin).
SESSION_ORGANISATION = (Organisation.kind, Organisation.name, Organisation.code, Organisation.center_id)
_SESSION_USER = (select(User, UserSession.id, UserSession.last_seen_at)
                 .join(UserSession, UserSession.user_id == User.id)
                 .options(joinedload(User.organisation).load_only(*SESSION_ORGANISATION), joinedload(User.groups),
                          with_expression(User.unread_notifications, notifications.unread_column(User)))
                 .where(User.id == bindparam("user_id"), User.active.is_(True), *user_sessions.LIVE))


def session_user(user_id: int, token: str) -> User | None:
    """The active user whose live login session has `token`, or None; notes that the session was used."""
    row = db.session.execute(_SESSION_USER, {"user_id": user_id, **user_sessions.live_parameters(token)}
                             ).unique().one_or_none()
    if row is None:
        return None
    user, session_id, last_seen_at = row
    user_sessions.seen(session_id, last_seen_at)
    return user


def set_language(user: User, language: str) -> None:
    """Remember the user's interface language for their next login too. Commits."""
    if user.language != language:
        user.language = language
        db.session.commit()
