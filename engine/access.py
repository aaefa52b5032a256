"""Who may see and act on what. Every view and the API ask here; a `None` means 404.

- Welcome Center staff see the cases of their own center; employer users only the cases
  of their own firm. Nobody sees another organisation's objects, whatever the URL.
- A user may work a task if it is assigned to them, or if it is unassigned and they are a
  candidate (by group or by name) in the organisation the task belongs to.
- Supervisors may (re)assign any open task of their center.
"""
from sqlalchemy import false, select

from engine.db import db
from engine.models import Case, HumanTask


def is_center_staff(user) -> bool:
    return user.organisation is not None and user.organisation.kind == "center"


def case_filter(user):
    """A WHERE clause limiting `Case` rows to what `user` may see."""
    if user.organisation_id is None:
        return false()
    if is_center_staff(user):
        return Case.center_id == user.organisation_id
    return Case.employer_id == user.organisation_id


def task_filter(user):
    if user.organisation_id is None:
        return false()
    if is_center_staff(user):
        return HumanTask.center_id == user.organisation_id
    return HumanTask.employer_id == user.organisation_id


def visible_case(user, case_id) -> Case | None:
    return db.session.scalar(select(Case).where(Case.id == case_id, case_filter(user)))


def visible_case_by_reference(user, reference) -> Case | None:
    return db.session.scalar(select(Case).where(Case.reference == reference, case_filter(user)))


def visible_task(user, task_id) -> HumanTask | None:
    return db.session.scalar(select(HumanTask).where(HumanTask.id == str(task_id), task_filter(user)))


def is_candidate(user, task: HumanTask) -> bool:
    if user.username in (task.candidate_users or []):
        return True
    groups = set(task.candidate_groups or [])
    if not groups.intersection(user.group_names):
        return False
    # Employer users act on employer tasks only; center staff on the rest.
    return is_center_staff(user) or "employer" in groups


def can_claim(user, task: HumanTask) -> bool:
    return task.is_open and task.assignee_id is None and is_candidate(user, task)


def can_work(user, task: HumanTask) -> bool:
    if not task.is_open:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.id
    return is_candidate(user, task)


def can_assign(user, task: HumanTask) -> bool:
    return task.is_open and is_center_staff(user) and user.in_group("supervisor") \
        and task.center_id == user.organisation_id

