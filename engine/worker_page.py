"""What the worker's pages read (through their personal link; `engine.access` limits it): their journey
page and one of their tasks. Read-only, except `upload` and `write` (the worker's own documents and
messages, through `engine.documents` and `engine.conversations`).

Next to each step, the information library's pages on its topics (`engine.info_library`).
Where the journey stands comes from `engine.milestones` (milestones and open steps, labels per language
from the diagram), the documents checklist from `engine.documents`, the conversation with the center
from `engine.conversations`, each for the party "worker". Texts of the process in the worker's language
live with the process, as properties of the BPMN element (`name:<lang>`, `documentation:<lang>`,
`milestone_label:<lang>`); `has_text` tells the page whether the worker's language had one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engine import access, conversations, documents, info_library, milestones, snapshot
from engine.db import db
from engine.errors import InvalidData, NotFound
from engine.models import Case, HumanTask
from engine.models.statuses import TaskStatus
from engine.pages import load_form

PARTY = access.WORKER_GROUP


@dataclass
class WorkerStep:
    """An open step that is the worker's (by `actor` or candidate group), with its element's properties."""
    step: milestones.Step
    props: dict
    workable: bool                  # a task the worker completes here (candidate group `worker`)
    info: info_library.StepInfo | None = None   # the library's pages on the step's topics (`info:<topic>`)

    @property
    def title(self) -> str:
        return self.step.title

    @property
    def due_at(self):
        return self.step.due_at


@dataclass
class WorkerMilestone:
    label: str
    status: str                     # done | current | next
    reached_at: datetime | None
    translated: bool                # the diagram has the label in the language asked for


@dataclass
class WorkerPage:
    case: Case
    advisor: str                    # the responsible advisor's name ("" if none yet)
    center: object                  # the Welcome Center (name, e-mail, phone)
    steps: list[WorkerStep]         # the worker's open steps, due first first
    milestones: list[WorkerMilestone]
    done: list[HumanTask]           # tasks the worker completed (here, or an advisor for them)
    documents: documents.Documents
    messages: list = field(default_factory=list)

    @property
    def next_step(self) -> WorkerStep | None:
        return self.steps[0] if self.steps else None


def _cases(link) -> list[Case]:
    return list(db.session.scalars(select(Case).options(joinedload(Case.responsible), joinedload(Case.center))
                                   .where(access.worker_case_filter(link)).order_by(Case.id)))


def worker_page(actor: access.WorkerActor, language: str) -> WorkerPage:
    link = actor.link
    found = _cases(link)
    case = next(c for c in found if c.id == link.case_id)
    steps, stones = [], []
    for journey in milestones.journeys(found, language):
        the_plan = milestones.plan(journey.case.definition_id)
        for step in journey.steps_of(PARTY):
            steps.append(WorkerStep(step, the_plan.props_of.get(step.element_id, {}),
                                    workable=step.kind == "task" and step.task_id is not None))
        for status, items in (("done", journey.done), ("current", [journey.current]), ("next", [journey.next])):
            for item in filter(None, items):
                planned = the_plan.milestone(item.key)
                stones.append(WorkerMilestone(item.label, status, item.reached_at, translated=language == "de" or bool(
                    planned and planned.props.get(f"milestone_label:{language}"))))
    workable = set(db.session.scalars(select(HumanTask.id).where(access.worker_task_filter(link),
                                                                 HumanTask.state == TaskStatus.OPEN)))
    for item in steps:
        item.workable = item.step.task_id in workable
        item.info = info_library.for_topics(info_library.topics_of(item.props), language)
    steps.sort(key=lambda s: (s.due_at is None, s.due_at or datetime.max))
    done = db.session.scalars(select(HumanTask).where(access.worker_task_filter(link), HumanTask.state == TaskStatus.COMPLETED)
                              .order_by(HumanTask.completed_at.desc()).limit(20)).all()
    return WorkerPage(case=case, advisor=case.responsible.display_name if case.responsible else "",
                      center=case.center, steps=steps, milestones=stones, done=list(done),
                      documents=documents.for_party(case, PARTY, language),
                      messages=conversations.thread(case, PARTY))


def upload(actor: access.WorkerActor, *, filename: str, data: bytes, key: str | None) -> None:
    """The worker's upload to their case (for a checklist item of theirs, or none); commits.
    Raises `documents.UploadRefused` naming what is wrong, NotFound for a key that is not theirs."""
    case = db.session.get(Case, actor.link.case_id)
    if not case.is_active:
        raise InvalidData("the case is closed")
    if key and key not in {item.requirement.key for item in documents.for_party(case, PARTY).checklist}:
        raise NotFound(f"no document {key!r} for the worker")
    documents.upload(case, filename=filename, data=data, party=PARTY, actor=None, key=key or None)


def write(actor: access.WorkerActor, body: str) -> None:
    """A message from the worker to the center (its advisor hears of it); commits. InvalidData if empty."""
    case = db.session.get(Case, actor.link.case_id)
    conversations.post(case, PARTY, body, author=None, author_name=case.subject)


@dataclass
class WorkerTask:
    row: HumanTask
    case: Case
    definition: object | None       # the pinned form version (engine.forms.FormDefinition) or None
    data: dict                      # what the task sees (empty once it is closed)


def worker_task(actor: access.WorkerActor, task_id) -> WorkerTask | None:
    """One of the worker's tasks (candidate group `worker` in one of the link's cases), or None: 404."""
    row = access.visible_task(actor, task_id)
    if row is None:
        return None
    case = db.session.get(Case, row.case_id)
    data = snapshot.task_data(case, row.id) if row.is_open else {}
    return WorkerTask(row=row, case=case, definition=load_form(row.form_version_id), data=data)


def task_texts(row: HumanTask) -> dict:
    """The BPMN properties of a task row's element (its case pins the version): its texts per language."""
    definition_id = db.session.scalar(select(Case.definition_id).where(Case.id == row.case_id))
    return milestones.plan(definition_id).props_of.get(row.element_id, {}) if definition_id is not None else {}
