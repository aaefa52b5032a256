"""Cases that need a person although no task asks for one (read-only queries).

A case is *stalled* when it is active but has no open task and waits for no timer and no
message: nothing will ever move it on. The engine records an incident when a change leaves a
case so (`cases._record_stall`); these queries find such cases from the derived tables alone,
including cases that stalled before that check existed.
"""
from sqlalchemy import and_, exists, select

from engine.db import db
from engine.models import Case, HumanTask, MessageSubscription, WaitingTimer
from engine.models.statuses import CaseStatus, TaskStatus


def stalled_clause():
    """WHERE clause over `Case`: active, with no open task, no waiting timer and no message subscription."""
    return and_(Case.status == CaseStatus.ACTIVE,
                ~exists().where(HumanTask.case_id == Case.id, HumanTask.state == TaskStatus.OPEN),
                ~exists().where(WaitingTimer.case_id == Case.id),
                ~exists().where(MessageSubscription.case_id == Case.id))


def stalled_cases(center_id=None, limit=100) -> list[Case]:
    """Stalled cases, oldest change first (of one center, if given)."""
    query = select(Case).where(stalled_clause())
    if center_id is not None:
        query = query.where(Case.center_id == center_id)
    return db.session.scalars(query.order_by(Case.updated_at, Case.id).limit(limit)).all()


def is_stalled(case_id) -> bool:
    return db.session.scalar(select(exists().where(Case.id == case_id, stalled_clause())))
