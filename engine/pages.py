"""What the workspace's pages read: one function per page (or part), limited by `engine.access`.

Views check their input, call one of these (or an operation in `engine.cases`) and render the
result; they never query the database themselves. Nothing here writes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from engine import (access, clock, conversations, documents as case_documents, health, inbox as queries, snapshot,
                    state, worker_links)
from engine.db import db
from engine.forms import FormDefinition, FormDefinitionError
from engine.models import (Case, CaseComment, CaseEvent, CaseMilestone, FormVersion, HumanTask, Incident,
                           MailMessage, Notification, Organisation, ProcessDefinition, User)
from engine.models.statuses import MailStatus, OrganisationKind, TaskStatus

TIMELINE_LIMIT = 500
DONE_LIMIT = 50
NOTIFICATION_LIMIT = 200
OUTBOX_PAGE_SIZE = 50
MAX_OUTBOX_PAGE = 10_000
MAIL_STATUSES = tuple(MailStatus)


# --------------------------------------------------------------------------- forms

def load_form(form_version_id: int | None) -> FormDefinition | None:
    if form_version_id is None:
        return None
    try:
        return state.spec_cache.form(form_version_id)      # parsed once per version, like the specs
    except FormDefinitionError:
        return None


def field_labels(form_ids) -> dict[str, dict]:
    """key -> how the form that collects it names and shows it, from the given form versions (one query):
    {"label", "options": {token: label}, "type", "subtype", "digits", "prefix", "suffix"}."""
    ids = [i for i in form_ids if i is not None]
    if not ids:
        return {}
    out: dict[str, dict] = {}
    for row in db.session.scalars(select(FormVersion).where(FormVersion.id.in_(ids)).order_by(FormVersion.id)):
        try:
            definition = FormDefinition.from_json(row.schema)
        except FormDefinitionError:
            continue
        for key, comp in definition.fields.items():
            options = {json.dumps(opt.value, sort_keys=True, default=str): opt.label for opt in comp.options or []}
            if not comp.label:
                continue                # a field without a label stays in the technical view
            out.setdefault(key, {"label": comp.label, "options": options, "type": comp.type,
                                 "subtype": comp.subtype, "digits": comp.decimal_digits,
                                 "prefix": comp.prefix_adorner, "suffix": comp.suffix_adorner})
    return out


# --------------------------------------------------------------------------- the case page

@dataclass
class CasePage:
    """One case as `user` may see it: parts the user's `view` leaves out are empty."""
    case: Case
    definition: ProcessDefinition
    view: access.CaseView
    tasks: list[HumanTask]                  # open tasks
    done: list[HumanTask]                   # closed tasks, newest first
    milestones: list[CaseMilestone]
    deadlines: list
    last_activity: datetime
    labels: dict = field(default_factory=dict)      # field labels of the process's forms
    collected: set = field(default_factory=set)     # the keys people have handed in (start data, forms)
    data: dict = field(default_factory=dict)
    markers: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)       # the diagram's element names by id (to translate)
    unreadable: set = field(default_factory=set)    # "state", "definition": stored parts that cannot be read
    events: list[CaseEvent] = field(default_factory=list)
    comments: list[CaseComment] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    stalled: bool = False                   # active with nothing open and nothing awaited (engine.health)
    documents: case_documents.Documents | None = None     # the checklist and uploads (the center's view)
    threads: dict = field(default_factory=dict)     # party -> its conversation with the center
    worker_links: list | None = None        # the worker's personal links (None: not the user's to manage)


def case_page(user, reference: str, now: datetime | None = None, language: str = "de") -> CasePage | None:
    """The case page's content, or None if `user` may not see the case."""
    case = access.visible_case_by_reference(user, reference)
    if case is None:
        return None
    now = now or clock.now()
    view = access.case_view(user)
    definition = db.session.get(ProcessDefinition, case.definition_id)
    tasks = select(HumanTask).where(HumanTask.case_id == case.id)
    if not view.all_tasks:
        tasks = tasks.where(access.task_filter(user))
    last_event = db.session.scalar(select(CaseEvent.at).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.id.desc()).limit(1)) if view.timeline else None
    page = CasePage(
        case=case, definition=definition, view=view,
        tasks=db.session.scalars(tasks.options(joinedload(HumanTask.assignee)).where(HumanTask.state == TaskStatus.OPEN)
                                 .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)).all(),
        done=db.session.scalars(tasks.options(joinedload(HumanTask.completed_by))
                                .where(HumanTask.state != TaskStatus.OPEN)
                                .order_by(HumanTask.completed_at.desc()).limit(DONE_LIMIT)).all(),
        milestones=db.session.scalars(select(CaseMilestone).where(CaseMilestone.case_id == case.id)
                                      .order_by(CaseMilestone.reached_at)).all(),
        deadlines=queries.deadlines(user, now, weeks=0, case_id=case.id),
        last_activity=max(filter(None, [case.updated_at, last_event])))
    if not state.spec_cache.readable(case.definition_id):
        page.unreadable.add("definition")       # its milestones and document checklist are empty
    if view.case_data or view.timeline:
        page.labels = field_labels((definition.forms or {}).values())
    if view.case_data:
        page.collected = collected_keys(case.id)
    if view.case_data or view.diagram:
        xml = definition.source_file.content if definition.source_file else ""
        markers, data, readable = snapshot.diagram_and_data(case, xml)
        if not readable:
            page.unreadable.add("state")
        page.markers = markers if view.diagram else {}
        page.names = snapshot.element_names(xml) if view.diagram else {}
        page.data = data if view.case_data else {}
    if view.timeline:
        page.events = db.session.scalars(select(CaseEvent).options(joinedload(CaseEvent.actor))
                                         .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
                                         .limit(TIMELINE_LIMIT)).all()
    if view.notes:
        page.comments = db.session.scalars(select(CaseComment).options(joinedload(CaseComment.author))
                                           .where(CaseComment.case_id == case.id)
                                           .order_by(CaseComment.id.desc())).all()
    if view.incidents:
        page.incidents = open_incidents(case)
        page.stalled = health.is_stalled(case.id)
    if access.party_of(user) == "center":
        page.documents = case_documents.for_party(case, "center", language)
        page.threads = conversations.threads(case, access.conversation_parties(user))
    if access.may_manage_worker_links(user, case):
        page.worker_links = worker_links.links_of(case)
    return page


COLLECTING_EVENTS = ("case_started", "task_completed", "task_retried")


def collected_keys(case_id: int) -> set[str]:
    """The variables people have handed in: a case's start data and what its forms submitted (or, for events
    logged before whole submissions were kept, changed). A script's placeholder or a table's proposal is not
    among them until someone answers."""
    keys = set()
    for details in db.session.scalars(select(CaseEvent.details).where(CaseEvent.case_id == case_id,
                                                                      CaseEvent.kind.in_(COLLECTING_EVENTS))):
        details = details or {}
        for part in ("data", "submitted", "changes"):
            if isinstance(details.get(part), dict):
                keys.update(details[part])
    return keys


def case_diagram_source(case: Case) -> str | None:
    """The BPMN text of the version `case` runs on (the caller has checked who may see it), or None."""
    definition = db.session.get(ProcessDefinition, case.definition_id)
    if definition is None or definition.source_file is None:
        return None
    return definition.source_file.content


def open_incidents(case: Case) -> list[Incident]:
    return db.session.scalars(select(Incident).where(Incident.case_id == case.id, Incident.resolved_at.is_(None))
                              .order_by(Incident.id)).all()


@dataclass
class CaseOverview:
    case: Case
    data: dict
    incidents: list[Incident]
    external_tasks: list


def case_overview(case_id: int) -> CaseOverview | None:
    """A case with its data, open incidents and running external tasks, for the command line."""
    from engine import casedata, state
    from engine.models import ExternalTask
    case = db.session.get(Case, case_id)
    if case is None:
        return None
    externals = db.session.scalars(select(ExternalTask).where(ExternalTask.case_id == case.id,
                                                              ExternalTask.state == TaskStatus.OPEN)).all()
    return CaseOverview(case, casedata.current(state.load(case)), open_incidents(case), externals)


@dataclass
class StartChoices:
    """Who a new case of the user's center can be for and who can be responsible."""
    employers: list[Organisation]
    team: list[User]


def start_choices(user) -> StartChoices:
    """The employers the user's center serves and its active people."""
    employers = db.session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.EMPLOYER,
                                                              Organisation.center_id == user.organisation_id)
                                   .order_by(Organisation.name)).all()
    return StartChoices(employers=employers, team=colleagues(user))


def colleagues(user) -> list[User]:
    """Active people of the user's own organisation (one query), e.g. for 'assign to'."""
    return db.session.scalars(select(User).where(User.organisation_id == user.organisation_id,
                                                 User.active.is_(True)).order_by(User.display_name)).all()


def colleague(user, user_id) -> User | None:
    """An active person of the user's own organisation, by id; None for anyone else."""
    candidate = db.session.get(User, user_id)
    return candidate if access.may_be_assigned(candidate, user) else None


# --------------------------------------------------------------------------- the task page

def visible_task_and_case(user, task_id) -> tuple[HumanTask, Case] | None:
    row = access.visible_task(user, task_id)
    if row is None:
        return None
    return row, db.session.get(Case, row.case_id)


def fresh_task(row: HumanTask) -> HumanTask:
    """The task as stored now (after someone else may have changed it)."""
    db.session.refresh(row)
    return row


def completed_values(row: HumanTask) -> dict:
    """What was submitted when the task was completed (from the event log), unchanged values included.

    Events logged before the submission was recorded in full have only the values that changed."""
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == row.case_id,
                                                      CaseEvent.kind == "task_completed",
                                                      CaseEvent.task_id == row.id).limit(1))
    details = (event.details or {}) if event is not None else {}
    if isinstance(details.get("submitted"), dict):
        return details["submitted"]
    changes = details.get("changes", {})
    return {k: v.get("new") for k, v in changes.items() if isinstance(v, dict)}


# --------------------------------------------------------------------------- notifications and outbox

# The order kinds are shown in: what needs action first.
NOTIFICATION_KINDS = ("incident", "escalation", "overdue", "assigned", "reminder")


@dataclass
class NotificationGroup:
    kind: str
    notes: list[Notification]
    unread: int


@dataclass
class NotificationList:
    notes: list[Notification]
    unread: int
    groups: list[NotificationGroup] = field(default_factory=list)     # the notes by kind


def notification_list(user, unread_only: bool = False) -> NotificationList:
    query = select(Notification).where(access.notification_filter(user))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    notes = db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                               .limit(NOTIFICATION_LIMIT)).all()
    unread_by_kind = dict(db.session.execute(
        select(Notification.kind, func.count()).where(access.notification_filter(user), Notification.read_at.is_(None))
        .group_by(Notification.kind)).all())
    kinds = sorted({note.kind for note in notes} | set(unread_by_kind),
                   key=lambda kind: (NOTIFICATION_KINDS.index(kind) if kind in NOTIFICATION_KINDS else 99, kind))
    groups = [NotificationGroup(kind, [note for note in notes if note.kind == kind], unread_by_kind.get(kind, 0))
              for kind in kinds]
    return NotificationList(notes=notes, unread=sum(unread_by_kind.values()), groups=groups)


@dataclass
class OutboxPage:
    mails: list[MailMessage]
    page: int
    has_next: bool


def outbox_page(user, status: str = "", page: int = 1) -> OutboxPage:
    """One page of the mails `user` may read (`access.outbox_filter`), newest first."""
    page = max(1, min(page, MAX_OUTBOX_PAGE))
    query = select(MailMessage).where(access.outbox_filter(user))
    if status in MAIL_STATUSES:
        query = query.where(MailMessage.status == status)
    mails = db.session.scalars(query.order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
                               .offset((page - 1) * OUTBOX_PAGE_SIZE).limit(OUTBOX_PAGE_SIZE + 1)).all()
    return OutboxPage(mails=mails[:OUTBOX_PAGE_SIZE], page=page, has_next=len(mails) > OUTBOX_PAGE_SIZE)
