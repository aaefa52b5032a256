"""Users, groups and organisations: creating them and checking passwords (argon2)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from engine.db import db
from engine.models import Group, Organisation, User

_hasher = PasswordHasher()

GROUP_LABELS = {
    "advisor": "Beratung (Welcome Center)",
    "supervisor": "Leitung (Welcome Center)",
    "process_owner": "Prozessverantwortliche",
    "employer": "Arbeitgeber / Kümmerer:in",
    "worker": "Internationale Fachkraft",
    "admin": "Administration",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)      # same cost either way: no user enumeration by timing
        return None
    return user if check_password(user, password) else None


def get_group(name: str) -> Group:
    group = db.session.scalar(select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name, label=GROUP_LABELS.get(name, name))
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
