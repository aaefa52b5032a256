"""People: create, edit, deactivate, reactivate, reset a password; their roles and candidate groups.

Nobody is ever deleted: cases and their logs keep the names of the people who acted on them, so a
person who leaves is deactivated. Every operation checks its input completely first (InvalidFields
names each wrong field), writes an audit entry, and leaves the commit to the caller.
"""
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from engine import audit, cases, invitations, user_sessions, users
from engine.db import db
from engine.errors import Conflict, InvalidFields, NotFound
from engine.models import Case, Group, HumanTask, Organisation, User
from engine.models.statuses import CaseStatus, OrganisationKind, TaskStatus

# The built-in roles; any other group is a candidate group that diagrams name (camunda:candidateGroups).
STAFF_ROLES = ("advisor", "supervisor", "process_owner", "admin")
EMPLOYER_ROLES = ("employer",)
ROLES = STAFF_ROLES + EMPLOYER_ROLES
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
GROUP_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PAGE_SIZE = 50


def candidate_groups() -> list[str]:
    """The groups besides the built-in roles (created by an admin or by deploying a diagram)."""
    return [name for name in db.session.scalars(select(Group.name).order_by(Group.name)) if name not in ROLES]


def _text(data, field) -> str:
    value = data.get(field)
    return "" if value is None else str(value).strip()


def person_values(data: dict, organisations: dict[int, Organisation], person: User | None = None) -> dict:
    """Checked values from form data. `organisations`: id -> organisation the caller may put people in."""
    errors = {}
    values = {"display_name": _text(data, "display_name"), "email": _text(data, "email").lower() or None,
              "language": _text(data, "language") or "de"}
    if person is None:
        values["username"] = _text(data, "username").lower()
        if not USERNAME.match(values["username"]):
            errors["username"] = _l("Der Benutzername besteht aus 2 bis 64 Kleinbuchstaben, Ziffern, . _ oder -.")
        elif db.session.scalar(select(User.id).where(func.lower(User.username) == values["username"])):
            errors["username"] = _l("Den Benutzernamen %(name)s gibt es schon.", name=values["username"])
    if not values["display_name"]:
        errors["display_name"] = _l("Bitte geben Sie einen Namen an.")
    elif len(values["display_name"]) > 200:
        errors["display_name"] = _l("Höchstens %(count)s Zeichen.", count=200)
    if values["email"]:
        if not EMAIL.match(values["email"]) or len(values["email"]) > 254:
            errors["email"] = _l("„%(value)s“ ist keine E-Mail-Adresse.", value=values["email"])
        else:
            other = db.session.scalar(select(User.id).where(func.lower(User.email) == values["email"]))
            if other is not None and other != getattr(person, "id", None):
                errors["email"] = _l("Die E-Mail-Adresse %(email)s hat schon eine andere Person.",
                                     email=values["email"])
    if values["language"] not in ("de", "en"):
        errors["language"] = _l("Bitte wählen Sie Deutsch oder Englisch.")
    org_id = _text(data, "organisation_id")
    organisation = organisations.get(int(org_id)) if org_id.isdigit() else None
    if organisation is None:
        errors["organisation_id"] = _l("Bitte wählen Sie das Welcome Center oder eine Firma, die es betreut.")
    else:
        values["organisation_id"] = organisation.id
    groups = data.get("groups") or []
    groups = [g.strip() for g in (groups.split(";") if isinstance(groups, str) else groups) if g.strip()]
    new_group = _text(data, "new_group").lower()
    if new_group:
        if GROUP_NAME.match(new_group):
            groups.append(new_group)
        else:
            errors["new_group"] = _l("Ein Gruppenname besteht aus Kleinbuchstaben, Ziffern, _ oder - "
                                     "(wie im Diagramm, z. B. recognition_team).")
    known = set(ROLES) | set(candidate_groups())
    unknown = [g for g in groups if g not in known and g != new_group]
    if unknown:
        errors["groups"] = _l("Unbekannte Rolle oder Gruppe: %(names)s", names=", ".join(unknown))
    elif organisation is not None:
        staff = organisation.kind == OrganisationKind.CENTER
        wrong = [g for g in groups if (g in STAFF_ROLES) != staff and g in ROLES]
        if wrong:
            errors["groups"] = _l("Diese Rollen passen nicht zur Organisation: %(names)s", names=", ".join(wrong))
    values["groups"] = sorted(set(groups))
    if errors:
        raise InvalidFields(errors)
    return values


def _set_groups(person: User, names: list[str]) -> dict:
    old = sorted(person.group_names)
    if old == names:
        return {}
    person.groups = [users.get_group(name) for name in names]
    return {"groups": {"old": old, "new": names}}


def create_person(data: dict, organisations: dict[int, Organisation], actor=None, invite=True) -> User:
    """A new person without a password; with `invite` and an e-mail address, an invitation mail."""
    values = person_values(data, organisations)
    groups = values.pop("groups")
    person = User(**values, password_hash=None, active=True)
    db.session.add(person)
    db.session.flush()
    _set_groups(person, groups)
    audit.record(actor, person, "created", {**{k: {"old": None, "new": v} for k, v in values.items() if v},
                                            "groups": {"old": [], "new": groups}})
    if invite and person.email:
        invitations.issue(person, "invitation", actor)
    return person


def update_person(person: User, data: dict, organisations: dict[int, Organisation], actor=None) -> dict:
    values = person_values(data, organisations, person)
    changes = _set_groups(person, values.pop("groups"))
    changes.update(audit.apply(person, values))
    if changes:
        audit.record(actor, person, "updated", changes)
    return changes


def responsible_cases(person: User) -> list[Case]:
    """The person's active cases, to be given to someone else."""
    return db.session.scalars(select(Case).where(Case.responsible_id == person.id, Case.status == CaseStatus.ACTIVE)
                              .order_by(Case.reference)).all()


def deactivate(person: User, actor=None) -> list[Case]:
    """No more logins, every session ended now, and the person's claimed open tasks back to their
    groups (each with an event in its case log). Commits. Returns their active cases for reassignment."""
    if actor is not None and actor.id == person.id:
        raise InvalidFields({"user": _l("Sie können sich nicht selbst deaktivieren.")})
    if person.active:
        users.deactivate(person)
        audit.record(actor, person, "deactivated", {"active": {"old": True, "new": False}})
    db.session.commit()          # the sessions end before the tasks move, whatever happens to those
    claimed = db.session.scalars(select(HumanTask.id).where(HumanTask.assignee_id == person.id,
                                                            HumanTask.state == TaskStatus.OPEN)).all()
    for task_id in claimed:       # one transaction per case, as every case change
        try:
            cases.release_task(task_id, actor, reason="deactivated")
        except (Conflict, NotFound):  # completed or gone meanwhile: nothing to hand back
            pass
    return responsible_cases(person)


def reactivate(person: User, actor=None) -> None:
    if not person.active:
        person.active = True
        audit.record(actor, person, "reactivated", {"active": {"old": False, "new": True}})


def reset_password(person: User, actor=None) -> str:
    """The old password stops working, every session ends, and the person gets a reset link."""
    person.password_hash = None
    user_sessions.end_all(person.id)
    return invitations.issue(person, "reset", actor)


def people_query(organisation_ids, search: str = ""):
    query = select(User).where(User.organisation_id.in_(organisation_ids))
    search = (search or "").strip().lower()
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(User.display_name).like(pattern, escape="\\")
                            | func.lower(User.username).like(pattern, escape="\\")
                            | func.lower(User.email).like(pattern, escape="\\"))
    return query.order_by(User.active.desc(), func.lower(User.display_name), User.id)


def named_groups(definition) -> set[str]:
    """The candidate groups that a deployed definition's user tasks name literally (not by expression)."""
    from engine.state import restore_specs
    spec, subprocess_specs = restore_specs(definition.spec_json)
    names = set()
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            value = (getattr(task_spec, "extensions", None) or {}).get("candidateGroups") or []
            if isinstance(value, str):
                value = [] if value.startswith("${") else value.split(",")
            names.update(name.strip() for name in value if name.strip() and not name.strip().startswith("${"))
    return names


def groups_without_members(names, center_id: int) -> list[str]:
    """Those of `names` that no active person of the center (or of a firm it serves) belongs to. The group
    `worker` has no members by design: workers act through their personal link (engine.worker_links)."""
    from engine.access import WORKER_GROUP
    from engine.models import Membership
    names = set(names) - {WORKER_GROUP}
    firms = select(Organisation.id).where(Organisation.center_id == center_id)
    staffed = set(db.session.scalars(
        select(Group.name).join(Membership, Membership.group_id == Group.id).join(User, User.id == Membership.user_id)
        .where(Group.name.in_(list(names)), User.active.is_(True),
               (User.organisation_id == center_id) | User.organisation_id.in_(firms))))
    return sorted(set(names) - staffed)
