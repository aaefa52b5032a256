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
from datetime import datetime, timedelta, timezone
from itertools import groupby

from flask_babel import force_locale, lazy_gettext as _l
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import bindparam, delete, func, select, update

from engine import access, clock, mail
from engine.db import db
from engine.errors import InvalidFields
from engine.models import CaseEvent, Group, HumanTask, Membership, Notification, NotificationSetting, User
from engine.settings import setting
from engine.group_names import group_display_name
from engine.incident_words import in_words
from engine.models.statuses import NoticeKind, TaskStatus

log = logging.getLogger(__name__)

EVENT_KIND = {NoticeKind.REMINDER: "reminder_sent", NoticeKind.OVERDUE: "overdue_notice",
              NoticeKind.ESCALATION: "escalated"}


def _before(due, text):
    return due - TimerEventDefinition.get_timedelta_from_end(TimerEventDefinition.parse_iso_duration(text), due)


def _after(due, text):
    return due + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text), due)


def schedule(task: HumanTask) -> list[tuple[str, object]]:
    """[(kind, when)] of the deadline notices this task gets, in order."""
    if task.state != TaskStatus.OPEN or task.due_at is None:
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
        plan.append((NoticeKind.REMINDER, reminder_at))
    plan.append((NoticeKind.OVERDUE, due))
    plan.append((NoticeKind.ESCALATION, _after(due, setting("ESCALATION_AFTER"))))
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


def active_members(organisation_id, group: str) -> list[User]:
    """The active people of an organisation in a group, in a fixed order: whom a notice or message reaches."""
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).join(Group, Group.id == Membership.group_id)
        .where(User.organisation_id == organisation_id, Group.name == group, User.active.is_(True))
        .order_by(User.id)))


def supervisors(task: HumanTask) -> list[User]:
    return active_members(task.center_id, "supervisor")


def recipients(task: HumanTask, kind: str) -> list[User]:
    return supervisors(task) if kind == NoticeKind.ESCALATION else candidates(task)


# --- sending ---------------------------------------------------------------------------------------

def _format(value, language):
    if value is None:
        return ""
    return clock.format_local(value, language) + (" Uhr" if language == "de" else "")


def _context(task: HumanTask, user: User, kind: str) -> dict:
    language = user.language if user.language in mail.LANGUAGES else "de"
    escalation_at = dict(schedule(task)).get(NoticeKind.ESCALATION)
    holder = task.assignee.display_name if task.assignee is not None else \
        (", ".join(group_display_name(name, language) for name in task.candidate_groups or []) or "—")
    return {"name": user.display_name, "task": task.title, "case": task.case_reference,
            "subject": task.case_subject, "process": task.process_name, "due": _format(task.due_at, language),
            "escalation_at": _format(escalation_at, language) if kind == NoticeKind.OVERDUE else "",
            "assigned": task.assignee_id == user.id, "holder": holder,
            # a firm's people open their cases in the portal, never on the center's case page
            "case_path": (f"/portal/cases/{task.case_reference}" if access.party_of(user) == "employer"
                          else f"/cases/{task.case_reference}"),
            "center": task.case.center.name.removeprefix("Welcome Center ") if task.case else ""}


def _language(user) -> str:
    return user.language if user.language in mail.LANGUAGES else "de"


def _tell(user, kind: str, text: dict, now, case_id, task_id=None) -> bool:
    """One notification in the app and, where the user has an address, the mail as they want it for this
    kind (`delivery`): now, in the daily digest, or not at all. True if a mail was queued now."""
    how = delivery(user, kind) if user.email else "never"
    note = Notification(user_id=user.id, case_id=case_id, task_id=task_id, kind=kind,
                        title=text["subject"][:255], body=text["summary"], created_at=now,
                        digest_pending=how == "daily")
    db.session.add(note)
    if how != "immediately":
        return False
    db.session.flush()                  # the mail names its notification
    mail.queue(user.email, text["subject"], text["body"], _language(user), user_id=user.id, notification_id=note.id)
    return True


def notify_group(case, group: str, subject: str, body: str, now=None) -> int:
    """A diagram's message to a group of the case's center (the lotse-notify-group connector): a notice
    in the app for each active member, and a mail where they have an address. Returns the mails queued."""
    members = active_members(case.center_id, group)
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


# --- settings per person and the daily digest ------------------------------------------------------

# The kinds of notices a person can set (the in-app notice is always written; the setting is for its mail).
NOTICE_KINDS = ("incident", "assigned", "reminder", "overdue", "escalation")
DELIVERIES = ("immediately", "daily", "never")


def delivery(user, kind: str) -> str:
    """How `user` wants the mail of a notice of `kind`: immediately (the default), daily, or never."""
    chosen = db.session.scalar(select(NotificationSetting.delivery).where(NotificationSetting.user_id == user.id,
                                                                         NotificationSetting.kind == kind))
    return chosen if chosen in DELIVERIES else "immediately"


def settings_of(user) -> dict:
    """{kind: delivery} for every kind a person can set."""
    chosen = dict(db.session.execute(select(NotificationSetting.kind, NotificationSetting.delivery)
                                     .where(NotificationSetting.user_id == user.id)).all())
    return {kind: chosen.get(kind) if chosen.get(kind) in DELIVERIES else "immediately" for kind in NOTICE_KINDS}


def save_settings(user, form) -> dict:
    """Store the user's choice per kind (form fields named by kind). Raises InvalidFields for a value that is
    not one of DELIVERIES, changing nothing."""
    chosen = {kind: (form.get(kind) or "immediately") for kind in NOTICE_KINDS}
    wrong = {kind: _l("Sofort, täglich oder nie.") for kind, value in chosen.items() if value not in DELIVERIES}
    if wrong:
        raise InvalidFields(wrong)
    db.session.execute(delete(NotificationSetting).where(NotificationSetting.user_id == user.id))
    db.session.add_all(NotificationSetting(user_id=user.id, kind=kind, delivery=value)
                       for kind, value in chosen.items() if value != "immediately")
    db.session.commit()
    return chosen


def digest_cutoff(now) -> datetime:
    """Notices before this moment go into the digest now: today's LOTSE_DIGEST_HOUR in Berlin once it has
    passed, else yesterday's. So each person gets at most one digest a day, whenever the sweep runs."""
    local = now.astimezone(clock.BERLIN)
    today = local.replace(hour=setting("DIGEST_HOUR"), minute=0, second=0, microsecond=0)
    return (today if local >= today else today - timedelta(days=1)).astimezone(timezone.utc)


def send_digests(now=None, cutoff=None) -> int:
    """One mail per person with notices waiting for their digest from until `cutoff` (default
    `digest_cutoff`), grouped by case; the notices are then no longer pending. Returns mails queued."""
    now = now or clock.now()
    cutoff = cutoff or digest_cutoff(now)
    waiting = db.session.scalars(
        select(Notification).where(Notification.digest_pending.is_(True), Notification.created_at <= cutoff)
        .order_by(Notification.user_id, Notification.case_id, Notification.created_at, Notification.id)
        .with_for_update(skip_locked=True)).all()
    mails = 0
    for user_id, notes in groupby(waiting, key=lambda note: note.user_id):
        notes = list(notes)
        user = db.session.get(User, user_id)
        for note in notes:
            note.digest_pending = False
        if user is None or not user.active or not user.email:
            continue
        cases = []
        for case_id, items in groupby(notes, key=lambda note: note.case_id):
            items = list(items)
            case = items[0].case
            cases.append({"reference": case.reference if case else "", "subject": case.subject if case else "",
                          "notes": [{"kind": n.kind, "title": n.body or n.title, "at": _format(n.created_at, _language(user))}
                                    for n in items]})
        center = user.organisation.name.removeprefix("Welcome Center ") if user.organisation else ""
        text = mail.render("digest", _language(user), name=user.display_name, cases=cases, count=len(notes),
                           center=center)
        mail.queue(user.email, text["subject"], text["body"], _language(user), user_id=user.id)
        mails += 1
    db.session.commit()
    if mails:
        mail.after_commit_send_mail()
    return mails


# --- failed steps --------------------------------------------------------------------------------

def incident_recipients(case) -> list[User]:
    """Who must hear of a failed step: the case's responsible advisor and the supervisors of its center."""
    people = active_members(case.center_id, "supervisor")
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
        language = _language(user)
        with force_locale(language):
            words = in_words(incident)
        text = mail.render("incident", language, name=user.display_name, case=case.reference,
                           subject=case.subject, step=incident.element_name or incident.element_id or "",
                           words=words, error=incident.message[:300], responsible=user.id == case.responsible_id,
                           supervisor=access.may_oversee(user),
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
    ids = db.session.scalars(select(HumanTask.id).where(HumanTask.state == TaskStatus.OPEN,
                                                        HumanTask.next_notice_at <= now)
                             .order_by(HumanTask.next_notice_at, HumanTask.id).limit(limit)).all()
    db.session.rollback()
    for task_id in ids:
        try:
            task = db.session.scalar(
                select(HumanTask).where(HumanTask.id == task_id, HumanTask.state == TaskStatus.OPEN,
                                        HumanTask.next_notice_at <= now)
                .with_for_update(skip_locked=True).execution_options(populate_existing=True))
            if task is None:
                db.session.rollback()
                continue
            already = list(task.notices_sent or [])
            plan = schedule(task)
            due = [kind for kind, at in plan if kind not in already and at <= now]
            superseded = []
            if NoticeKind.REMINDER in due and NoticeKind.OVERDUE in due:
                due.remove(NoticeKind.REMINDER)
                superseded.append(NoticeKind.REMINDER)
            sent = already + superseded + due
            later = [at for kind, at in plan if kind not in sent]
            # Compare-and-set: on SQLite (no row locks) a second sweeper loses here and sends nothing.
            won = db.session.execute(
                update(HumanTask).where(HumanTask.id == task.id, HumanTask.state == TaskStatus.OPEN,
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


def mark_all_read(user, kind: str | None = None) -> None:
    """Mark the user's unread notifications read: all of them, or those of one kind."""
    query = update(Notification).where(access.notification_filter(user), Notification.read_at.is_(None))
    if kind:
        query = query.where(Notification.kind == kind)
    db.session.execute(query.values(read_at=clock.now()))
    db.session.commit()
