"""What the JSON API reads (web/api/), limited by engine.access as the pages are. Lists and pages the
API shares with the workspace (the inbox, the case list, the case page) come from engine/inbox.py,
engine/case_list.py and engine/pages.py; what only the API reads is here."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engine import access, case_list, external_tasks as external, inbox, milestones, pages, snapshot
from engine.db import db
from engine.deploy import latest_definitions
from engine.errors import Forbidden, NotFound
from engine.models import Case, CaseEvent, HumanTask, Incident, ProcessDefinition


def _people_only(actor):
    if not access.may_use_people_api(actor):
        raise Forbidden("a service account only works external tasks")


def definitions(user) -> list[ProcessDefinition]:
    """The newest version of each deployed process."""
    _people_only(user)
    if not access.may_read_definitions(user):
        raise Forbidden("process definitions are for staff and process owners")
    return latest_definitions()


def definition_versions(user, key: str) -> tuple[ProcessDefinition, list[ProcessDefinition]]:
    """(newest version, every version newest first) of process `key`."""
    _people_only(user)
    if not access.may_read_definitions(user):
        raise Forbidden("process definitions are for staff and process owners")
    versions = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                                  .order_by(ProcessDefinition.version.desc())).all()
    if not versions:
        raise NotFound(f"no process {key!r} is deployed")
    return versions[0], versions


def case_list_page(user, query):
    """The page "Fälle" for `query` (the center's cases for staff; nothing for others)."""
    _people_only(user)
    return case_list.case_page(user, query)


def task_list_page(user, query):
    """The inbox for `query` (tab, filters, sort, page)."""
    _people_only(user)
    return inbox.inbox_page(user, query)


@dataclass
class CaseDetail:
    page: pages.CasePage
    journey: milestones.Journey


def case_detail(user, reference: str, language: str = "en") -> CaseDetail:
    """The case as its page shows it to `user`, with its milestones; NotFound if not theirs to see."""
    _people_only(user)
    page = pages.case_page(user, reference)
    if page is None:
        raise NotFound(f"case {reference} does not exist")
    return CaseDetail(page, milestones.journey(page.case, language))


def visible_case(user, reference: str):
    _people_only(user)
    case = access.visible_case_by_reference(user, reference)
    if case is None:
        raise NotFound(f"case {reference} does not exist")
    return case


def case_events(user, reference: str, after: int = 0, limit: int = 100) -> list[CaseEvent]:
    """The case's event log, oldest first, from event id `after` on (for staff; others: NotFound)."""
    case = visible_case(user, reference)
    if not access.case_view(user).timeline:
        raise NotFound(f"case {reference} has no event log for you")
    return db.session.scalars(select(CaseEvent).options(joinedload(CaseEvent.actor))
                              .where(CaseEvent.case_id == case.id, CaseEvent.id > after)
                              .order_by(CaseEvent.id).limit(limit)).all()


def incidents(user, after: int = 0, limit: int = 100) -> list[tuple[Incident, str]]:
    """Open incidents the user may see and retry, oldest first: (incident, case reference)."""
    _people_only(user)
    return db.session.execute(select(Incident, Case.reference).join(Case, Case.id == Incident.case_id)
                              .where(Incident.resolved_at.is_(None), Incident.id > after,
                                     access.incident_filter(user))
                              .order_by(Incident.id).limit(limit)).all()


def visible_incident(user, incident_id) -> Incident:
    _people_only(user)
    incident = db.session.scalar(select(Incident).where(Incident.id == incident_id, access.incident_filter(user)))
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


@dataclass
class TaskDetail:
    row: HumanTask
    form: dict | None
    data: dict
    can_work: bool
    can_claim: bool


def visible_task(user, task_id) -> HumanTask:
    _people_only(user)
    row = access.visible_task(user, task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row


def task_detail(user, task_id) -> TaskDetail:
    """A task with its form definition and the data it sees (this loads the case's workflow)."""
    found = pages.visible_task_and_case(user, task_id) if access.may_use_people_api(user) else None
    if found is None:
        raise NotFound(f"task {task_id} does not exist")
    row, case = found
    form = pages.load_form(row.form_version_id)
    return TaskDetail(row, form.raw if form is not None else None, snapshot.task_data(case, row.id) if row.is_open else pages.completed_values(row),
                      access.can_work(user, row), access.can_claim(user, row))


# --- external tasks (Camunda's reads): service accounts their topics at their center, staff their center's -------

def _external_reach(actor):
    if not access.may_use_external_tasks(actor):
        raise Forbidden("this token may not work external tasks")
    return access.external_task_filter(actor)


def external_tasks(actor, query: external.Query, first: int = 0, limit: int | None = None) -> list:
    """(task, case reference, business key) of the open external tasks `query` selects that `actor` reaches."""
    return external.find(query, _external_reach(actor), first, limit)


def external_task_count(actor, query: external.Query) -> int:
    return external.count(query, _external_reach(actor))


def external_task(actor, task_id: str) -> tuple:
    """One open external task the actor reaches; NotFound for one ended, of another center or topic, or none."""
    found = external.find(external.Query(ids=(str(task_id),)), access.external_task_filter(actor))
    if not found:
        raise NotFound(f"external task {task_id} does not exist")
    return found[0]
