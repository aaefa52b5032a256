"""What the employer portal's pages read: one function per page, limited by `engine.access`.

An employer user sees their own firm's cases only, and of each only what the process marks for the
employer: the subject (the worker's name), the milestones and who acts now (`engine.milestones`), the
firm's own tasks (`access.task_filter`), the documents shared with the firm (`engine.documents`) and
the firm's conversation with the Welcome Center (`engine.conversations`). Never notes, case data,
the timeline, incidents or the center's tasks: nothing here reads them.

The firm's own journeys are its cases of a firm's process (key `employer_…`, the bundled content's
convention); every other case of the firm is about a worker it hires and gets a card of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine import access, conversations, documents, milestones
from engine.db import db
from engine.models import Case, CaseDocument, CaseMessage, HumanTask, ProcessDefinition
from engine.models.statuses import CaseStatus, TaskStatus

FIRM_PROCESS_PREFIX = "employer_"
TASK_LIMIT = 50
CASE_LIMIT = 200


@dataclass
class Card:
    case: Case
    process_name: str
    journey: milestones.Journey


@dataclass
class Home:
    own: list[Card]            # the firm's own journeys
    workers: list[Card]        # one per worker the firm hires
    tasks: list[HumanTask]     # the firm's open tasks, due first


def _cards(user, language: str) -> list[tuple[str, Card]]:
    """(process key, card) of each case of the user's firm but the cancelled, active first, newest first."""
    rows = db.session.execute(
        select(Case, ProcessDefinition.key, ProcessDefinition.name)
        .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
        .where(access.case_filter(user), Case.status != CaseStatus.CANCELLED)
        .order_by(Case.status, Case.started_at.desc(), Case.id.desc()).limit(CASE_LIMIT)).all()
    found = milestones.journeys([case for case, _key, _name in rows], language)
    return [(key, Card(case, name, journey)) for (case, key, name), journey in zip(rows, found)]


def open_tasks(user, case_id: int | None = None) -> list[HumanTask]:
    query = select(HumanTask).where(access.task_filter(user), HumanTask.state == TaskStatus.OPEN)
    if case_id is not None:
        query = query.where(HumanTask.case_id == case_id)
    return db.session.scalars(query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
                              .limit(TASK_LIMIT)).all()


def home(user, language: str = "de") -> Home:
    cards = _cards(user, language)
    return Home(own=[c for key, c in cards if key.startswith(FIRM_PROCESS_PREFIX)],
                workers=[c for key, c in cards if not key.startswith(FIRM_PROCESS_PREFIX)],
                tasks=open_tasks(user))


@dataclass
class CasePage:
    case: Case
    process_name: str
    journey: milestones.Journey
    tasks: list[HumanTask]              # the firm's open tasks of this case
    done: list[HumanTask]               # the firm's closed tasks of this case
    documents: documents.Documents
    messages: list[CaseMessage]
    may_upload: bool


def case_page(user, reference: str, language: str = "de") -> CasePage | None:
    """A case of the user's firm as the portal shows it, or None (another firm's, or none)."""
    case = visible_case(user, reference)
    if case is None:
        return None
    definition = db.session.get(ProcessDefinition, case.definition_id)
    done = db.session.scalars(select(HumanTask).where(access.task_filter(user), HumanTask.case_id == case.id,
                                                      HumanTask.state != TaskStatus.OPEN)
                              .order_by(HumanTask.completed_at.desc()).limit(TASK_LIMIT)).all()
    return CasePage(case=case, process_name=definition.name, journey=milestones.journey(case, language),
                    tasks=open_tasks(user, case.id), done=done,
                    documents=documents.for_party(case, "employer", language),
                    messages=conversations.thread(case, "employer"), may_upload=access.may_upload(user, case))


def visible_case(user, reference: str) -> Case | None:
    """A case of the user's firm (for the portal's actions), or None."""
    return access.visible_case_by_reference(user, reference) if access.may_use_portal(user) else None


def visible_document(user, document_id) -> CaseDocument | None:
    return access.visible_document(user, document_id)
