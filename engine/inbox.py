"""Read-only queries for the advisor workspace: inbox pages, tab counts, deadlines.

Everything here reads the indexed tables only (`human_task`, `human_task_group`,
`waiting_timer`, plus a few columns of `case` for the deadline list) and never loads a
workflow. Each function issues a fixed number of statements whatever the data size:

- `inbox_page`: one statement for the page (LIMIT per_page + 1) and one for the counts.
- Counts are capped: each is `count(*)` over a `LIMIT 1000` subquery, so a center with
  100,000 open tasks costs the same as one with 1,000 (shown as "999+").

Semantics follow Camunda 7's Tasklist: "my tasks" are assigned to me; "group tasks" are
open, unassigned and have one of my groups as candidate group, within my organisation;
a task whose follow-up date lies in the future is hidden unless asked for.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, false, func, literal, or_, select, union_all

from engine import access, clock
from engine.db import db
from engine.models import Case, HumanTask, HumanTaskGroup, ProcessDefinition, User, WaitingTimer

BERLIN = ZoneInfo("Europe/Berlin")
COUNT_CAP = 1000           # counts stop here; the UI shows "999+"
PER_PAGE = 50
VIEWS = ("mine", "group", "all")            # "all": supervisors' view of the whole center
SORTS = ("due", "-due", "priority", "-priority", "created", "-created")
DUE_FILTERS = ("overdue", "today", "week")
ACTORS = ("center", "employer", "worker", "authority")


# --------------------------------------------------------------------------- the query in the URL

@dataclass(frozen=True)
class InboxQuery:
    """The inbox's filters, sort and page, as read from (and written back to) the URL."""
    view: str = "mine"
    process: str = ""
    task: str = ""
    due: str = ""
    q: str = ""
    sort: str = "due"
    page: int = 1
    followup: bool = False          # also show tasks whose follow-up date is in the future
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args) -> "InboxQuery":
        def text(name, limit=100):
            return (args.get(name) or "").strip()[:limit]
        view = text("view")
        sort = text("sort")
        due = text("due")
        try:
            page = max(1, min(int(args.get("page", 1)), 10_000))
        except (TypeError, ValueError):
            page = 1
        return cls(view=view if view in VIEWS else "mine", process=text("process", 128), task=text("task"),
                   due=due if due in DUE_FILTERS else "", q=text("q"), sort=sort if sort in SORTS else "due",
                   page=page, followup=(args.get("followup") or "") in ("1", "on", "true"))

    def args(self, **changes) -> dict:
        """URL arguments for this query with `changes` applied, defaults left out (short URLs)."""
        query = replace(self, **changes)
        out = {}
        for name, default in (("view", "mine"), ("process", ""), ("task", ""), ("due", ""), ("q", ""),
                              ("sort", "due"), ("page", 1)):
            value = getattr(query, name)
            if value != default:
                out[name] = value
        if query.followup:
            out["followup"] = 1
        return out

    @property
    def filtered(self) -> bool:
        return bool(self.process or self.task or self.due or self.q)


@dataclass
class InboxRow:
    id: str
    title: str
    case_id: int
    case_reference: str
    case_subject: str
    process_key: str
    process_name: str
    due_at: datetime | None
    follow_up_at: datetime | None
    priority: int
    created_at: datetime
    assignee_id: int | None
    assignee_name: str | None
    actor: str | None
    has_draft: bool


@dataclass
class InboxPage:
    query: InboxQuery
    rows: list[InboxRow]
    counts: dict           # view -> capped count (int); "matches" when filtered
    has_next: bool
    now: datetime
    processes: list = field(default_factory=list)    # (key, name) for the filter

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    @property
    def total(self) -> int | None:
        """The (capped) size of the current list; None when not counted (free-text search)."""
        if self.query.filtered:
            return self.counts.get("matches")
        return self.counts.get(self.query.view)

    @property
    def last_page(self) -> int | None:
        """The last page, when the (capped) count of the current list is exact."""
        total = self.total
        if total is None or total >= COUNT_CAP:
            return None
        return max(1, -(-total // self.query.per_page))


def capped(n: int | None) -> str:
    """A count for display: exact below the cap, "999+" from it."""
    n = n or 0
    return f"{COUNT_CAP - 1}+" if n >= COUNT_CAP else str(n)


# --------------------------------------------------------------------------- conditions

def day_bounds(now: datetime) -> tuple[datetime, datetime, datetime]:
    """Start of today, start of tomorrow and end of this week (Monday 00:00 next week), in UTC, Berlin days."""
    local = now.astimezone(BERLIN)
    start = datetime.combine(local.date(), time(0), BERLIN)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), BERLIN)
    week_end = datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(0), BERLIN)
    return start.astimezone(timezone.utc), tomorrow.astimezone(timezone.utc), week_end.astimezone(timezone.utc)


def _group_names(user) -> list[str]:
    return sorted(user.group_names)


def _in_my_groups(user):
    """The task has one of the user's groups as candidate group, by the group index of its center.

    The center equality lets PostgreSQL read `ix_human_task_group_center_task` (center, task id)
    in task id order: a capped count becomes a merge of two index-only scans in id order (the
    open unassigned tasks and the group rows of the center) that stops at the cap. The page
    probes the same index row by row.
    """
    names = _group_names(user)
    if not names:
        return false()
    return exists().where(HumanTaskGroup.task_id == HumanTask.id, HumanTaskGroup.center_id == HumanTask.center_id,
                          HumanTaskGroup.group_name.in_(names))


def view_conditions(user, view: str, now: datetime, followup: bool = False) -> list:
    """WHERE conditions of one inbox tab for `user` (organisation scope included)."""
    conds = [HumanTask.state == "open", access.task_filter(user)]
    if view == "mine":
        conds.append(HumanTask.assignee_id == user.id)
    elif view == "group":
        conds += [HumanTask.assignee_id.is_(None), _in_my_groups(user)]
        if not access.is_center_staff(user):
            # employer users act on employer tasks only (engine.access.is_candidate)
            conds.append(exists().where(HumanTaskGroup.task_id == HumanTask.id,
                                        HumanTaskGroup.group_name == "employer"))
    elif view == "all":
        if not can_see_all(user):
            conds.append(false())
    else:
        conds.append(false())
    if not followup:
        conds.append(or_(HumanTask.follow_up_at.is_(None), HumanTask.follow_up_at <= now))
    return conds


def can_see_all(user) -> bool:
    return access.is_center_staff(user) and user.in_group("supervisor")


def filter_conditions(query: InboxQuery, now: datetime) -> list:
    conds = []
    if query.process:
        conds.append(HumanTask.process_key == query.process)
    if query.task:
        conds.append(HumanTask.title.ilike(f"%{_escape_like(query.task)}%", escape="\\"))
    if query.q:
        pattern = f"%{_escape_like(query.q)}%"
        conds.append(or_(HumanTask.case_reference.ilike(pattern, escape="\\"),
                         HumanTask.case_subject.ilike(pattern, escape="\\")))
    if query.due:
        _start, tomorrow, week_end = day_bounds(now)
        if query.due == "overdue":
            conds.append(HumanTask.due_at < now)
        elif query.due == "today":
            conds.append(HumanTask.due_at < tomorrow)
        elif query.due == "week":
            conds.append(HumanTask.due_at < week_end)
    return conds


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(sort: str):
    """ORDER BY for a sort key; due dates NULLS LAST so an index on (…, due_at, id) serves the default."""
    due_asc, due_desc = HumanTask.due_at.asc().nulls_last(), HumanTask.due_at.desc().nulls_last()
    if sort == "due":
        return [due_asc, HumanTask.id]
    if sort == "-due":
        return [due_desc, HumanTask.id]
    if sort == "priority":
        return [HumanTask.priority.desc(), due_asc, HumanTask.id]
    if sort == "-priority":
        return [HumanTask.priority, due_asc, HumanTask.id]
    if sort == "created":
        return [HumanTask.created_at, HumanTask.id]
    return [HumanTask.created_at.desc(), HumanTask.id]


def _capped_count(conds):
    inner = select(HumanTask.id).where(*conds).limit(COUNT_CAP).subquery()
    return select(func.count()).select_from(inner).scalar_subquery()


# --------------------------------------------------------------------------- inbox

def tab_views(user) -> list[str]:
    return ["mine", "group"] + (["all"] if can_see_all(user) else [])


def counts(user, query: InboxQuery | None = None, now: datetime | None = None) -> dict:
    """Capped counts of every tab (and of the filtered list, when filters are set): one statement."""
    now = now or clock.now()
    query = query or InboxQuery()
    views = tab_views(user)
    columns = [_capped_count(view_conditions(user, v, now, query.followup)).label(v) for v in views]
    if query.filtered and not (query.q or query.task):
        # free-text filters are left out: a rare name would make the count scan every open task
        conds = view_conditions(user, query.view, now, query.followup) + filter_conditions(query, now)
        columns.append(_capped_count(conds).label("matches"))
    row = db.session.execute(select(*columns)).one()
    return dict(row._mapping)


def inbox_page(user, query: InboxQuery, now: datetime | None = None, with_processes: bool = True) -> InboxPage:
    """One page of a tab: at most three statements (page, counts, process list)."""
    now = now or clock.now()
    if query.view == "all" and not can_see_all(user):
        query = replace(query, view="mine")
    conds = view_conditions(user, query.view, now, query.followup) + filter_conditions(query, now)
    stmt = (select(HumanTask.id, HumanTask.title, HumanTask.case_id, HumanTask.case_reference,
                   HumanTask.case_subject, HumanTask.process_key, HumanTask.process_name, HumanTask.due_at,
                   HumanTask.follow_up_at, HumanTask.priority, HumanTask.created_at, HumanTask.assignee_id,
                   User.display_name, HumanTask.actor, HumanTask.draft.is_not(None))
            .outerjoin(User, User.id == HumanTask.assignee_id)
            .where(*conds).order_by(*_order(query.sort))
            .offset((query.page - 1) * query.per_page).limit(query.per_page + 1))
    rows = [InboxRow(*r) for r in db.session.execute(stmt)]
    has_next = len(rows) > query.per_page
    page = InboxPage(query=query, rows=rows[:query.per_page], counts=counts(user, query, now),
                     has_next=has_next, now=now)
    if with_processes:
        page.processes = process_choices()
    return page


def process_choices() -> list[tuple[str, str]]:
    """(key, name of the newest version) of every deployed process: a small table."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = db.session.execute(
        select(ProcessDefinition.key, ProcessDefinition.name)
        .join(newest, and_(ProcessDefinition.key == newest.c.key, ProcessDefinition.version == newest.c.version))
        .order_by(ProcessDefinition.name))
    return [(k, n) for k, n in rows]


# --------------------------------------------------------------------------- deadlines

@dataclass
class Deadline:
    kind: str                # "timer" (waiting for something) | "task" (a task's due date)
    due_at: datetime
    case_id: int
    case_reference: str
    case_subject: str
    name: str                # what is awaited: the BPMN element's name
    actor: str | None        # center | employer | worker | authority | None
    task_id: str | None = None
    assignee_name: str | None = None
    lane: str | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now


def deadlines(user, now: datetime | None = None, weeks: int = 4, case_id: int | None = None,
              actor: str = "", mine: bool = False, limit: int = 500) -> list[Deadline]:
    """Waiting timers and task due dates up to `weeks` ahead (all overdue ones too), overdue first.

    One statement: a UNION of the timer index and the open-task index, ordered by date.
    `case_id` limits it to one case (the case view shows the same list); `mine` to cases the
    user is responsible for or tasks assigned to them.
    """
    now = now or clock.now()
    horizon = now + timedelta(weeks=weeks) if weeks else None

    timer_conds = [access.case_filter(user)]
    task_conds = [HumanTask.state == "open", HumanTask.due_at.is_not(None), access.task_filter(user)]
    if access.is_center_staff(user):
        timer_conds.append(WaitingTimer.center_id == user.organisation_id)
    if horizon is not None:
        timer_conds.append(WaitingTimer.due_at < horizon)
        task_conds.append(HumanTask.due_at < horizon)
    if case_id is not None:
        timer_conds.append(WaitingTimer.case_id == case_id)
        task_conds.append(HumanTask.case_id == case_id)
    if actor in ACTORS:
        timer_conds.append(WaitingTimer.actor == actor)
        task_conds.append(HumanTask.actor == actor)
    if mine:
        timer_conds.append(Case.responsible_id == user.id)
        task_conds.append(or_(HumanTask.assignee_id == user.id,
                              HumanTask.case_id.in_(select(Case.id).where(Case.responsible_id == user.id))))

    timers = (select(literal("timer").label("kind"), WaitingTimer.due_at.label("due_at"),
                     WaitingTimer.case_id.label("case_id"), Case.reference.label("case_reference"),
                     Case.subject.label("case_subject"), WaitingTimer.name.label("name"),
                     WaitingTimer.actor.label("actor"), literal(None).label("task_id"),
                     literal(None).label("assignee_name"), literal(None).label("lane"))
              .join(Case, Case.id == WaitingTimer.case_id).where(*timer_conds))
    tasks = (select(literal("task").label("kind"), HumanTask.due_at.label("due_at"),
                    HumanTask.case_id.label("case_id"), HumanTask.case_reference.label("case_reference"),
                    HumanTask.case_subject.label("case_subject"), HumanTask.title.label("name"),
                    HumanTask.actor.label("actor"), HumanTask.id.label("task_id"),
                    User.display_name.label("assignee_name"), HumanTask.lane.label("lane"))
             .outerjoin(User, User.id == HumanTask.assignee_id).where(*task_conds))
    both = union_all(timers, tasks).subquery()
    stmt = select(both).order_by(both.c.due_at, both.c.case_reference).limit(limit)
    out = []
    for r in db.session.execute(stmt):
        m = r._mapping
        due = m["due_at"]
        if due is not None and due.tzinfo is None:       # a UNION loses the column type on some drivers
            due = due.replace(tzinfo=now.tzinfo)
        elif isinstance(due, str):
            due = datetime.fromisoformat(due).replace(tzinfo=now.tzinfo)
        out.append(Deadline(kind=m["kind"], due_at=due, case_id=m["case_id"], case_reference=m["case_reference"],
                            case_subject=m["case_subject"], name=m["name"], actor=m["actor"],
                            task_id=m["task_id"], assignee_name=m["assignee_name"], lane=m["lane"]))
    return out


def group_deadlines(items: list[Deadline], now: datetime) -> list[tuple[str, list[Deadline]]]:
    """Sections for display: overdue, today, this week, later (keys are stable codes)."""
    _start, tomorrow, week_end = day_bounds(now)
    sections = {"overdue": [], "today": [], "week": [], "later": []}
    for item in items:
        if item.due_at < now:
            sections["overdue"].append(item)
        elif item.due_at < tomorrow:
            sections["today"].append(item)
        elif item.due_at < week_end:
            sections["week"].append(item)
        else:
            sections["later"].append(item)
    return [(k, v) for k, v in sections.items() if v]
