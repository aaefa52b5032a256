"""Notices to people: deadlines of human tasks, and failed steps.

A failed step (an incident, engine.cases) goes, in the transaction that records it, to the case's
responsible advisor and the supervisors of its center, in the app and by mail (`notify_incident`).

Deadlines of human tasks: a reminder before the due date, an overdue notice at it, an escalation after.

For an open task with a due date:

- **reminder** at `due − LOTSE_REMINDER_BEFORE` (default P1D) to the assignee, or, while
  nobody has claimed the task, to every candidate (group members of the task's center, or of
  the employer for employer tasks, and named candidate users). A follow-up date
  (`camunda:followUpDate`, "Wiedervorlage": don't look before) later than that moves the
  reminder to the follow-up date; if that is at or after the due date, there is no reminder
  (the overdue notice covers it). A task created inside the reminder window gets no reminder:
  its due date is on it from the start.
- **overdue** notice at the due date, to the same people.
- **escalation** at `due + LOTSE_ESCALATION_AFTER` (default P2D) to the supervisors (group
  `supervisor`) of the task's center.

A user task's property `notices` limits these to the kinds its diagram does not model itself (a
reminder helper task, an escalation timer): one mechanism per notice (`human_task.notice_kinds`).

Each goes out once: `human_task.notices_sent` lists what went out, `human_task.next_notice_at`
(recomputed on every insert/update of the row) is the sweeper's index. A notice is recorded
in the case's event log (`reminder_sent`, `overdue_notice`, `escalated`), as an in-app
`Notification` per recipient, and as a mail per recipient with an address (in the user's
language). After downtime the sweeper catches up: a reminder whose task is already overdue
is not sent any more (the overdue notice says more); overdue and escalation both go out.
"""
import logging
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import bindparam, func, select, update

from engine import access, clock, mail
from engine.db import db
from engine.models import CaseEvent, Group, HumanTask, Membership, Notification, User
from engine.settings import setting

log = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
KINDS = ("reminder", "overdue", "escalation")
EVENT_KIND = {"reminder": "reminder_sent", "overdue": "overdue_notice", "escalation": "escalated"}


def _before(due, text):
    return due - TimerEventDefinition.get_timedelta_from_end(TimerEventDefinition.parse_iso_duration(text), due)


def _after(due, text):
    return due + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text), due)


def schedule(task: HumanTask) -> list[tuple[str, object]]:
    """[(kind, when)] of the deadline notices this task gets, in order."""
    if task.state != "open" or task.due_at is None:
        return []
    return [(kind, at) for kind, at in _all_notices(task, task.due_at)
            if task.notice_kinds is None or kind in task.notice_kinds]


def _all_notices(task, due):
    plan = []
    reminder_at = _before(due, setting("REMINDER_BEFORE"))
    if task.follow_up_at is not None and task.follow_up_at > reminder_at:
        reminder_at = task.follow_up_at
    created = task.created_at or clock.now()
    if created < reminder_at < due:
        plan.append(("reminder", reminder_at))
    plan.append(("overdue", due))
    plan.append(("escalation", _after(due, setting("ESCALATION_AFTER"))))
    return plan


def update_next_notice(task: HumanTask) -> None:
    """Recompute `next_notice_at` from the due date and what was already sent (mapper hook)."""
    sent = set(task.notices_sent or [])
    pending = [at for kind, at in schedule(task) if kind not in sent]
    task.next_notice_at = min(pending) if pending else None


def schedule_notices(mapper, connection, target):
    """Mapper hook: every insert or update of a human task recomputes when its next notice is due."""
    update_next_notice(target)


# --- recipients ------------------------------------------------------------------------------------

def candidates(task: HumanTask) -> list[User]:
    if task.assignee_id is not None:
        user = db.session.get(User, task.assignee_id)
        return [user] if user is not None and user.active else []
    orgs = [task.center_id] + ([task.employer_id] if task.employer_id else [])
    users = db.session.scalars(select(User).where(User.organisation_id.in_(orgs), User.active.is_(True))
                               .order_by(User.id)).all()
    chosen = []
    for user in users:
        if user.organisation_id == task.employer_id and access.is_center_staff(user):
            continue
        if user.organisation_id != task.center_id and access.is_center_staff(user):
            continue
        if access.is_candidate(user, task):
            chosen.append(user)
    return chosen


def supervisors(task: HumanTask) -> list[User]:
    return db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).join(Group, Group.id == Membership.group_id)
        .where(Group.name == "supervisor", User.organisation_id == task.center_id, User.active.is_(True))
        .order_by(User.id)).all()


def recipients(task: HumanTask, kind: str) -> list[User]:
    return supervisors(task) if kind == "escalation" else candidates(task)


# --- sending ---------------------------------------------------------------------------------------

def _format(value, language):
    if value is None:
        return ""
    local = value.astimezone(BERLIN)
    return local.strftime("%d.%m.%Y, %H:%M Uhr") if language == "de" else local.strftime("%Y-%m-%d %H:%M")


def _context(task: HumanTask, user: User, kind: str) -> dict:
    language = user.language if user.language in mail.LANGUAGES else "de"
    escalation_at = dict(schedule(task)).get("escalation")
    holder = task.assignee.display_name if task.assignee is not None else \
        (", ".join(task.candidate_groups or []) or "—")
    return {"name": user.display_name, "task": task.title, "case": task.case_reference,
            "subject": task.case_subject, "process": task.process_name, "due": _format(task.due_at, language),
            "escalation_at": _format(escalation_at, language) if kind == "overdue" else "",
            "assigned": task.assignee_id == user.id, "holder": holder,
            "center": task.case.center.name.removeprefix("Welcome Center ") if task.case else ""}


def _language(user) -> str:
    return user.language if user.language in mail.LANGUAGES else "de"


def _tell(user, kind: str, text: dict, now, case_id, task_id=None) -> bool:
    """One notification in the app and, where the user has an address, the mail; True if a mail was queued."""
    note = Notification(user_id=user.id, case_id=case_id, task_id=task_id, kind=kind,
                        title=text["subject"][:255], body=text["summary"], created_at=now)
    db.session.add(note)
    if not user.email:
        return False
    db.session.flush()                  # the mail names its notification
    mail.queue(user.email, text["subject"], text["body"], _language(user), user_id=user.id, notification_id=note.id)
    return True


def notify_group(case, group: str, subject: str, body: str, now=None) -> int:
    """A diagram's message to a group of the case's center (the lotse-notify-group connector): a notice
    in the app for each active member, and a mail where they have an address. Returns the mails queued."""
    members = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).join(Group, Group.id == Membership.group_id)
        .where(Group.name == group, User.organisation_id == case.center_id, User.active.is_(True))
        .order_by(User.id)).all()
    text = {"subject": f"{case.reference}: {subject}"[:255], "summary": body[:2000], "body": body}
    return sum(_tell(user, "diagram", text, now or clock.now(), case.id) for user in members)


def notify(task: HumanTask, kind: str, now) -> list[int]:
    """Write the notice for `task`: notifications, mails, one event. Returns the recipients' ids."""
    users = recipients(task, kind)
    for user in users:
        _tell(user, kind, mail.render(kind, _language(user), **_context(task, user, kind)), now,
              task.case_id, task.id)
    db.session.add(CaseEvent(case_id=task.case_id, at=now, kind=EVENT_KIND[kind], task_id=task.id,
                             element_id=task.element_id, element_name=task.title,
                             details={"due_at": task.due_at.isoformat(),
                                      "recipients": [u.username for u in users]}))
    return [u.id for u in users]


# --- failed steps --------------------------------------------------------------------------------

def incident_recipients(case) -> list[User]:
    """Who must hear of a failed step: the case's responsible advisor and the supervisors of its center."""
    people = list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).join(Group, Group.id == Membership.group_id)
        .where(Group.name == "supervisor", User.organisation_id == case.center_id, User.active.is_(True))
        .order_by(User.id)))
    responsible = db.session.get(User, case.responsible_id) if case.responsible_id else None
    if responsible is not None and responsible.active and responsible not in people:
        people.insert(0, responsible)
    return people


def notify_incident(case, incident, now=None) -> int:
    """Tell the incident's people in the app and, where they have an address, by mail (in their language).
    Called in the transaction that records the incident; returns how many mails were queued."""
    now = now or clock.now()
    mails = 0
    for user in incident_recipients(case):
        text = mail.render("incident", _language(user), name=user.display_name, case=case.reference,
                           subject=case.subject, step=incident.element_name or incident.element_id or "",
                           error=incident.message[:300], responsible=user.id == case.responsible_id,
                           center=case.center.name.removeprefix("Welcome Center ") if case.center else "")
        mails += _tell(user, "incident", text, now, case.id, incident.task_id or None)
    return mails


# --- assignments -----------------------------------------------------------------------------------

def notify_assigned(task: HumanTask, assignee: User, actor=None, now=None) -> int:
    """Tell the person a task was handed to: in the app and, with an address, by mail. Returns mails queued."""
    language = _language(assignee)
    text = mail.render("assigned", language, name=assignee.display_name, task=task.title, case=task.case_reference,
                       subject=task.case_subject, process=task.process_name, due=_format(task.due_at, language),
                       by=getattr(actor, "display_name", "") or "",
                       center=task.case.center.name.removeprefix("Welcome Center ") if task.case else "")
    return int(_tell(assignee, "assigned", text, now or clock.now(), task.case_id, task.id))


def send_due_notices(now=None, limit=500) -> int:
    """Send every deadline notice that is due; returns how many notices (not recipients) went out."""
    now = now or clock.now()
    sent_count, mails = 0, False
    ids = db.session.scalars(select(HumanTask.id).where(HumanTask.state == "open", HumanTask.next_notice_at <= now)
                             .order_by(HumanTask.next_notice_at, HumanTask.id).limit(limit)).all()
    db.session.rollback()
    for task_id in ids:
        try:
            task = db.session.scalar(
                select(HumanTask).where(HumanTask.id == task_id, HumanTask.state == "open",
                                        HumanTask.next_notice_at <= now)
                .with_for_update(skip_locked=True).execution_options(populate_existing=True))
            if task is None:
                db.session.rollback()
                continue
            already = list(task.notices_sent or [])
            plan = schedule(task)
            due = [kind for kind, at in plan if kind not in already and at <= now]
            superseded = []
            if "reminder" in due and "overdue" in due:
                due.remove("reminder")
                superseded.append("reminder")
            sent = already + superseded + due
            later = [at for kind, at in plan if kind not in sent]
            # Compare-and-set: on SQLite (no row locks) a second sweeper loses here and sends nothing.
            won = db.session.execute(
                update(HumanTask).where(HumanTask.id == task.id, HumanTask.state == "open",
                                        HumanTask.next_notice_at == task.next_notice_at)
                .values(notices_sent=sent, next_notice_at=min(later) if later else None)
                .execution_options(synchronize_session=False)).rowcount
            if won != 1:
                db.session.rollback()
                continue
            for kind in due:
                notify(task, kind, now)
                sent_count += 1
            if superseded:
                log.info("task %s: %s superseded by the overdue notice", task.id, superseded)
            mails = mails or bool(due)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("deadline notice for task %s failed", task_id)
    if mails:
        mail.after_commit_send_mail()
    return sent_count


UNREAD_CAP = 100        # the header shows "99+" beyond


def _unread(user_id, cap, correlate=()):
    unread = (select(Notification.id).where(Notification.user_id == user_id, Notification.read_at.is_(None))
              .limit(cap).correlate(*correlate))
    return select(func.count()).select_from(unread.subquery())


_UNREAD = _unread(bindparam("user_id"), bindparam("cap"))


def unread_column(user):
    """The capped unread count as a column of a statement that selects `user` (the User entity or an alias
    of it): the session user's load reads it in the same statement."""
    return _unread(user.id, UNREAD_CAP, correlate=[user]).scalar_subquery()


def unread_count(user, cap=UNREAD_CAP) -> int:
    """Unread notifications of `user`, counted up to `cap` (the header shows "99+"): one cheap indexed read.

    The header usually has it from the session user's load (`unread_column`); this is for a user loaded
    another way. The statement is built once and runs as a Core statement.
    """
    return db.session.connection().execute(_UNREAD, {"user_id": user.id, "cap": cap}).scalar() or 0


# --- reading ---------------------------------------------------------------------------------------

def mark_read(user, notification_id) -> bool:
    """Mark one of the user's own notifications read; False if they have none with that id."""
    note = access.visible_notification(user, notification_id)
    if note is None:
        return False
    if note.read_at is None:
        note.read_at = clock.now()
        db.session.commit()
    return True


def mark_all_read(user) -> None:
    db.session.execute(update(Notification).where(access.notification_filter(user), Notification.read_at.is_(None))
                       .values(read_at=clock.now()))
    db.session.commit()
