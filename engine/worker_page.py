"""What the worker's pages read (through their personal link; `engine.access` limits it): their journey
page and one of their tasks. Read-only.

Texts of the process in the worker's language live with the process, as properties of the BPMN element:
`name_<language>` (e.g. `name_ar`) for a step's title and `documentation_<language>` for its instructions
(`element_texts`). The process owner edits them with the diagram.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, or_
from sqlalchemy.orm import joinedload

from engine import access, snapshot, state
from engine.pages import load_form
from engine.db import db
from engine.models import Case, CaseMilestone, HumanTask

WORKER_ACTOR = "worker"         # the BPMN property `actor` of steps the worker does (with or without the link)


@dataclass
class WorkerPage:
    case: Case
    advisor: str                    # the responsible advisor's name ("" if none yet)
    center: object                  # the Welcome Center (name, e-mail, phone)
    next_step: HumanTask | None     # the worker's step due first
    tasks: list[HumanTask]          # open steps the worker completes here (candidate group `worker`)
    steps: list[HumanTask]          # other open steps that are the worker's to do (actor `worker`)
    done: list[HumanTask]           # the worker's completed tasks
    milestones: list[CaseMilestone] = field(default_factory=list)


def _cases(link) -> list[int]:
    return list(db.session.scalars(select(Case.id).where(access.worker_case_filter(link))))


def worker_page(actor: access.WorkerActor, now: datetime) -> WorkerPage:
    link = actor.link
    case = db.session.scalar(select(Case).options(joinedload(Case.responsible), joinedload(Case.center))
                             .where(Case.id == link.case_id))
    case_ids = _cases(link)
    open_rows = db.session.scalars(
        select(HumanTask).where(HumanTask.case_id.in_(case_ids), HumanTask.state == "open",
                                or_(HumanTask.actor == WORKER_ACTOR, access.worker_task_filter(link)))
        .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)).all()
    tasks = [row for row in open_rows if access.worker_may_work(link, row)]
    done = db.session.scalars(select(HumanTask).where(access.worker_task_filter(link), HumanTask.state == "completed")
                              .order_by(HumanTask.completed_at.desc()).limit(20)).all()
    milestones = db.session.scalars(select(CaseMilestone).where(CaseMilestone.case_id.in_(case_ids))
                                    .order_by(CaseMilestone.reached_at)).all()
    return WorkerPage(case=case, advisor=case.responsible.display_name if case.responsible else "",
                      center=case.center, next_step=open_rows[0] if open_rows else None, tasks=tasks,
                      steps=[row for row in open_rows if row not in tasks], done=list(done), milestones=list(milestones))


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


def element_texts(definition_id: int, element_id: str) -> dict:
    """The BPMN properties of an element of a process version (its called processes included): the
    per-language texts `name_<lang>`, `documentation_<lang>`, and the info topic `info`."""
    spec, subprocess_specs = state.spec_cache.get(definition_id)
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                return dict(state.properties(task_spec))
    return {}


def task_texts(row: HumanTask) -> dict:
    """`element_texts` of a task row's element (its case pins the version)."""
    definition_id = db.session.scalar(select(Case.definition_id).where(Case.id == row.case_id))
    return element_texts(definition_id, row.element_id) if definition_id is not None else {}
