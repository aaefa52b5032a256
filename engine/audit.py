"""The audit log of administrative changes: who, when, what, old and new value.

Every operation of engine/organisations.py, engine/people.py and engine/invitations.py, and every
deploy (engine/deploy.py), writes its entry in the same transaction as the change, so a change
without its entry is never stored.
"""
from sqlalchemy import select

from engine.db import db
from engine.models import AuditEntry, Case, Deployment, Organisation, ProcessDefinition
from engine.models.statuses import OrganisationKind

PAGE_SIZE = 50


def center_of(obj) -> int | None:
    """The center whose audit log shows a change to `obj` (a center, a firm, a person, a case, a deployment:
    its deployer's center; a process version belongs to no center)."""
    if isinstance(obj, Deployment):
        return center_of(obj.created_by) if obj.created_by is not None else None
    if isinstance(obj, Case):
        return obj.center_id
    if isinstance(obj, ProcessDefinition):
        return None
    if isinstance(obj, Organisation):
        return obj.id if obj.kind == OrganisationKind.CENTER else obj.center_id
    org = obj.organisation
    if org is None:
        return None
    return org.id if org.kind == OrganisationKind.CENTER else org.center_id


def _kind(obj) -> str:
    if isinstance(obj, Deployment):
        return "deployment"
    if isinstance(obj, Case):
        return "case"
    if isinstance(obj, ProcessDefinition):
        return "process"
    if isinstance(obj, Organisation):
        return "center" if obj.kind == OrganisationKind.CENTER else "firm"
    return "user"


def _label(obj) -> str:
    if isinstance(obj, Deployment):
        return f"Deployment {obj.id}"
    if isinstance(obj, Case):
        return obj.reference
    if isinstance(obj, ProcessDefinition):
        return f"{obj.key} v{obj.version}"
    if isinstance(obj, Organisation):
        return obj.name
    return f"{obj.display_name} ({obj.username})"


def record(actor, obj, action: str, changes: dict | None = None) -> AuditEntry:
    """Add an entry about `obj` (flushed, so it has an id); the caller commits with the change."""
    db.session.flush()
    entry = AuditEntry(actor_id=getattr(actor, "id", None), center_id=center_of(obj), object_kind=_kind(obj),
                       object_id=obj.id, object_label=_label(obj)[:200], action=action, changes=changes or {})
    db.session.add(entry)
    return entry


def record_deployment(actor, result) -> AuditEntry:
    """The entry of a deploy (a `engine.deploy.DeployResult`): the versions it created and its change note."""
    created = [f"{row.key} v{row.version}" for row in result.created]
    created += [f"form {row.key} v{row.version}" for row in result.forms]
    created += [f"decision {row.key} v{row.version}" for row in result.decisions]
    changes = {"versions": {"old": None, "new": ", ".join(created) or "—"}}
    if result.deployment.note:
        changes["note"] = {"old": None, "new": result.deployment.note}
    return record(actor, result.deployment, "deploy", changes)


def apply(obj, values: dict) -> dict:
    """Set the attributes of `obj` from `values`; returns what changed as {field: {old, new}}."""
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = {"old": old, "new": new}
            setattr(obj, field, new)
    return changes


def entries(center_id: int | None, page: int = 1):
    """One page of a center's entries, newest first; (entries, has_next)."""
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.center_id == center_id)
                              .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
