"""What supervisors oversee (read-only): the stuck cases of their center, each with why it is listed, and
one case's failed steps with the data they saw. Their bulk actions call `engine.cases`, one case each.

A case is *stuck* for one or more reasons, each read from an indexed derived table, never a workflow:
- `overdue`: an open task of the center past its due date (the center's own work);
- `waiting`: the same for a task whose `actor` is an outside party (authority, employer, worker): the
  center is waiting on them, and the list names who;
- `unclaimed`: an open group task nobody has taken for LOTSE_UNCLAIMED_DAYS;
- `error`: an unresolved incident (a failed step, or a stalled case);
- `idle`: an active case without any change for its process's `idle_days` (LOTSE_IDLE_DAYS if unset).
Each reason query is capped at REASON_CAP rows, so a page costs the same few statements whatever the size
of the center.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from engine import access, cases, clock, snapshot, state
from engine.incident_words import in_words
from engine.db import db
from engine.errors import InvalidFields, LotseError, NotFound, UnreadableDefinition
from engine.models import Case, HumanTask, Incident, Organisation, ProcessDefinition, User
from engine.models.statuses import CaseStatus, TaskStatus
from engine.settings import setting

REASON_CAP = 500
LIST_CAP = 100          # cases shown, oldest reason first; the counts per reason say how many there are
OUTSIDE_PARTIES = ("authority", "employer", "worker")
REASONS = ("error", "overdue", "waiting", "unclaimed", "idle")
ACTIONS = ("reassign", "responsible", "retry", "cancel")


@dataclass
class Reason:
    kind: str                   # one of REASONS
    since: datetime             # due date, creation, or last change
    task_id: str | None = None
    title: str | None = None    # the task or failed step
    party: str | None = None    # `waiting`: authority | employer | worker
    assignee: str | None = None
    element_id: str | None = None
    party_name: str | None = None   # `waiting`: which one (the firm; the step's `authority` property)


@dataclass
class StuckCase:
    id: int
    reference: str
    subject: str
    process_name: str
    responsible: str | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def oldest(self) -> datetime:
        return min(reason.since for reason in self.reasons)

    @property
    def kinds(self) -> set[str]:
        return {reason.kind for reason in self.reasons}


@dataclass
class StuckList:
    cases: list[StuckCase]      # at most LIST_CAP
    total: int                  # cases listed under the filter (each reason read up to REASON_CAP)
    counts: dict                # reason -> cases listed for it
    kind: str                   # the filter ("" for all)
    team: list                  # (id, display name): people a task or case can be handed to
    now: datetime
    idle_default: int
    unclaimed_days: int


def _idle_condition(now: datetime, default: int):
    """Active cases unchanged for longer than their process allows (a few definitions: one OR per distinct N)."""
    by_days: dict[int, list[int]] = {}
    for definition_id, idle_days in db.session.execute(select(ProcessDefinition.id, ProcessDefinition.idle_days)):
        by_days.setdefault(idle_days or default, []).append(definition_id)
    return or_(*(and_(Case.definition_id.in_(ids), Case.updated_at < now - timedelta(days=days))
                 for days, ids in sorted(by_days.items()))) if by_days else None


def _authority(definition_id: int, element_id: str | None) -> str | None:
    """The authority a step waits on, as its diagram names it (property `authority`: BA, ABH, …)."""
    try:
        spec, subprocesses = state.spec_cache.get(definition_id)
    except UnreadableDefinition:       # the case page says so; the list shows the case without the name
        return None
    for process in (spec, *subprocesses.values()):
        task_spec = process.task_specs.get(element_id)
        if task_spec is not None:
            return state.properties(task_spec).get("authority")
    return None


def stuck_cases(user, kind: str = "", now: datetime | None = None) -> StuckList | None:
    """The stuck cases of the user's center, oldest reason first; None for a user who may not oversee."""
    if not access.may_oversee(user):
        return None
    now = now or clock.now()
    center = user.organisation_id
    idle_default, unclaimed_days = setting("IDLE_DAYS"), setting("UNCLAIMED_DAYS")
    found: dict[int, list[Reason]] = {}

    open_task = (HumanTask.center_id == center, HumanTask.state == TaskStatus.OPEN)
    for row in db.session.execute(
            select(HumanTask.case_id, HumanTask.id, HumanTask.title, HumanTask.due_at, HumanTask.actor,
                   HumanTask.element_id, User.display_name).outerjoin(User, User.id == HumanTask.assignee_id)
            .where(*open_task, HumanTask.due_at < now).order_by(HumanTask.due_at).limit(REASON_CAP)):
        outside = row.actor in OUTSIDE_PARTIES
        found.setdefault(row.case_id, []).append(Reason(
            "waiting" if outside else "overdue", row.due_at, row.id, row.title,
            party=row.actor if outside else None, assignee=row.display_name, element_id=row.element_id))
    for row in db.session.execute(
            select(HumanTask.case_id, HumanTask.id, HumanTask.title, HumanTask.created_at)
            .where(*open_task, HumanTask.assignee_id.is_(None),
                   HumanTask.created_at < now - timedelta(days=unclaimed_days))
            .order_by(HumanTask.created_at).limit(REASON_CAP)):
        found.setdefault(row.case_id, []).append(Reason("unclaimed", row.created_at, row.id, row.title))
    for row in db.session.execute(
            select(Incident.case_id, Incident.element_name, Incident.element_id, Incident.created_at)
            .join(Case, Case.id == Incident.case_id)
            .where(Case.center_id == center, Case.status == CaseStatus.ACTIVE, Case.has_incident.is_(True),
                   Incident.resolved_at.is_(None)).order_by(Incident.created_at).limit(REASON_CAP)):
        found.setdefault(row.case_id, []).append(
            Reason("error", row.created_at, title=row.element_name or row.element_id or None))
    idle = _idle_condition(now, idle_default)
    if idle is not None:
        for case_id, updated_at in db.session.execute(
                select(Case.id, Case.updated_at).where(Case.center_id == center, Case.status == CaseStatus.ACTIVE, idle)
                .order_by(Case.updated_at).limit(REASON_CAP)):
            found.setdefault(case_id, []).append(Reason("idle", updated_at))

    listed = []
    if found:
        for row in db.session.execute(
                select(Case.id, Case.reference, Case.subject, ProcessDefinition.name, User.display_name,
                       Organisation.name.label("employer"), Case.definition_id)
                .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
                .outerjoin(User, User.id == Case.responsible_id)
                .outerjoin(Organisation, Organisation.id == Case.employer_id)
                .where(Case.id.in_(list(found)), access.case_filter(user), Case.status == CaseStatus.ACTIVE)):
            for reason in found[row.id]:
                if reason.party == "employer":
                    reason.party_name = row.employer
                elif reason.party == "authority":
                    reason.party_name = _authority(row.definition_id, reason.element_id)
            listed.append(StuckCase(row.id, row.reference, row.subject, row.name, row.display_name,
                                    sorted(found[row.id], key=lambda r: (REASONS.index(r.kind), r.since))))
    counts = {name: sum(1 for case in listed if name in case.kinds) for name in REASONS}
    if kind in REASONS:
        listed = [case for case in listed if kind in case.kinds]
    listed.sort(key=lambda case: (case.oldest, case.id))
    total, listed = len(listed), listed[:LIST_CAP]
    team = db.session.execute(select(User.id, User.display_name)
                              .where(User.organisation_id == center, User.active.is_(True))
                              .order_by(User.display_name)).all()
    return StuckList(listed, total, counts, kind if kind in REASONS else "", [tuple(t) for t in team], now,
                     idle_default, unclaimed_days)


# --------------------------------------------------------------------------- bulk actions

@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)             # references or task titles
    failed: list[tuple[str, str]] = field(default_factory=list)   # (which, why)


def bulk_action(user, action: str, *, case_ids=(), task_ids=(), person_id=None, reason: str = "") -> BulkResult:
    """Apply one action to the selected cases (or tasks), each in its own transaction and case log entry:
    `reassign` (tasks, to `person_id`), `responsible` (cases, to `person_id`), `retry`, `cancel` (with
    `reason`). Raises InvalidFields for a request that names no action, selection, person or reason;
    what fails for one case is reported and the others go on."""
    errors = {}
    if action not in ACTIONS:
        errors["action"] = _l("Bitte wählen Sie eine Aktion.")
    selection = list(task_ids) if action == "reassign" else list(case_ids)
    if action in ACTIONS and not selection:
        errors["selection"] = (_l("Bitte wählen Sie mindestens eine Aufgabe.") if action == "reassign"
                               else _l("Bitte wählen Sie mindestens einen Fall."))
    person = None
    if action in ("reassign", "responsible"):
        person = db.session.get(User, person_id) if person_id else None
        if not access.may_be_assigned(person, user):
            errors["person"] = _l("Bitte wählen Sie eine Person Ihres Centers.")
    reason = (reason or "").strip()[:500]
    if action == "cancel" and not reason:
        errors["reason"] = _l("Bitte geben Sie einen Grund für den Abbruch an.")
    if errors:
        raise InvalidFields(errors)
    result = BulkResult()
    for item in selection:
        label = str(item)
        try:
            if action == "reassign":
                row = cases.assign_task(item, person, user)
                result.done.append(f"{row.case_reference}: {row.title}")
                continue
            case = access.visible_case(user, item)
            if case is None:
                raise NotFound(f"case {item} does not exist")
            label = case.reference
            if action == "responsible":
                cases.change_responsible(case.id, person, user)
            elif action == "retry":
                if cases.retry_task(case.id, actor=user).has_incident:
                    raise LotseError("the step failed again; correct its data on the case's incident page")
            else:
                cases.cancel_case(case.id, user, reason)
            result.done.append(label)
        except LotseError as exc:
            result.failed.append((label, str(exc)))
    return result


# --------------------------------------------------------------------------- one case's failed steps

@dataclass
class IncidentCase:
    case: Case
    incidents: list[Incident]
    explanations: dict          # incident id -> words
    data: dict                  # the case's data as the failed step saw it (its current variables)
    fields: list                # (key, text shown in the form)
    team: list


def incident_case(user, reference: str) -> IncidentCase | None:
    """A case of the user's center with its open incidents and current data; None if not theirs to oversee."""
    if not access.may_oversee(user):
        return None
    case = access.visible_case_by_reference(user, reference)
    if case is None:
        return None
    incidents = db.session.scalars(select(Incident).where(Incident.case_id == case.id,
                                                          Incident.resolved_at.is_(None))
                                   .order_by(Incident.id)).all()
    definition = db.session.get(ProcessDefinition, case.definition_id)
    xml = definition.source_file.content if definition.source_file else ""
    _markers, data, _readable = snapshot.diagram_and_data(case, xml)
    team = db.session.execute(select(User.id, User.display_name)
                              .where(User.organisation_id == case.center_id, User.active.is_(True))
                              .order_by(User.display_name)).all()
    return IncidentCase(case, incidents, {i.id: in_words(i) for i in incidents}, data,
                        [(key, as_text(value)) for key, value in sorted(data.items())], [tuple(t) for t in team])


def as_text(value) -> str:
    """A value as the correction form shows it: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _parsed(text: str):
    """A form field's text as a value: JSON where it is JSON (numbers, true/false, null, lists), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def corrections(current: dict, form) -> dict:
    """The variables a correction form changes: fields `value:<key>` whose text differs from what the form
    showed, plus a new variable (`new_key`, `new_value`). Raises InvalidFields naming the field."""
    changed = {}
    for key, value in current.items():
        name = f"value:{key}"
        if name in form and form[name] != as_text(value):
            changed[key] = _parsed(form[name])
    new_key, new_value = (form.get("new_key") or "").strip(), form.get("new_value") or ""
    if new_key:
        if not _KEY.fullmatch(new_key):
            raise InvalidFields({"new_key": _l("Ein Name aus Buchstaben, Ziffern und _, mit einem Buchstaben "
                                               "am Anfang (höchstens 64 Zeichen).")})
        changed[new_key] = _parsed(new_value)
    elif new_value:
        raise InvalidFields({"new_key": _l("Bitte geben Sie den Namen des neuen Werts an.")})
    return changed


def retry_with_corrections(user, reference: str, form) -> Case:
    """Correct the case's data from the form and run its failed steps again (`cases.retry_task`). The
    outcome is the case: `has_incident` says whether the step failed again."""
    page = incident_case(user, reference)
    if page is None:
        raise NotFound(f"case {reference} does not exist")
    return cases.retry_task(page.case.id, data=corrections(page.data, form), actor=user)


def cancel_with_reason(user, reference: str, reason: str) -> Case:
    case = access.visible_case_by_reference(user, reference) if access.may_oversee(user) else None
    if case is None:
        raise NotFound(f"case {reference} does not exist")
    reason = (reason or "").strip()[:500]
    if not reason:
        raise InvalidFields({"reason": _l("Bitte geben Sie einen Grund für den Abbruch an.")})
    return cases.cancel_case(case.id, user, reason)
