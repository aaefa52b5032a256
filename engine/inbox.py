"""Read-only queries for the advisor workspace: inbox pages, tab counts, deadlines.

Everything here reads the indexed tables only (`human_task`, `human_task_group`,
`waiting_timer`, plus a few columns of `case` for the deadline list) and never loads a
workflow. Each function issues a fixed number of statements whatever the data size:

- `inbox_page`: one statement for the page (LIMIT per_page + 1), its counts and the process
  list for the filter.
- Counts are capped: each is `count(*)` over a `LIMIT 1000` subquery, so a center with
  100,000 open tasks costs the same as one with 1,000 (shown as "999+"); the tab counts are
  index-only scans (see `_in_my_groups` and the indexes in engine/models/human_task.py).

Semantics follow Camunda 7's Tasklist: "my tasks" are assigned to me; "group tasks" are
open, unassigned and have one of my groups as candidate group, within my organisation;
a task whose follow-up date lies in the future is hidden unless asked for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (Integer, and_, bindparam, exists, false, func, literal, literal_column, null, or_, select,
                        true, union_all)

from engine import access, clock
from engine.db import db
from engine.models import Case, GroupTaskCount, HumanTask, HumanTaskGroup, ProcessDefinition, User, WaitingTimer
from engine.models.statuses import CaseStatus, TaskStatus


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


@dataclass(slots=True)        # no __dict__ per row: fewer objects a page for the garbage collector
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
    candidate_groups: list | None      # who may be assigned the task (engine.access.can_be_assigned); read
    candidate_users: list | None       # for the "all" tab and a single row only, else None (decoding costs)
    center_id: int


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
    local = now.astimezone(clock.BERLIN)
    start = datetime.combine(local.date(), time(0), clock.BERLIN)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), clock.BERLIN)
    week_end = datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(0), clock.BERLIN)
    return start.astimezone(timezone.utc), tomorrow.astimezone(timezone.utc), week_end.astimezone(timezone.utc)


def _group_names(user) -> list[str]:
    """The user's names in the group index: their groups, and `user:<name>` for tasks naming them (candidateUsers)."""
    return sorted(user.group_names) + [f"user:{user.username}"]


def tab_views(user) -> list[str]:
    return ["mine", "group"] + (["all"] if access.can_see_all_tasks(user) else [])


# --------------------------------------------------------------------------- statements
#
# The statements are built once per shape (what kind of user, which tab, sort and filters) and kept:
# building and hashing a statement of this size costs more Python time than PostgreSQL needs to run
# it, and a kept statement keeps its cache key (SQLAlchemy memoizes it). They use the tables, not the
# ORM classes, so results come back as plain rows without the ORM layer.
#
# Values reach them in two ways (`_values` gives both):
# - written into the SQL when executed (`literal_execute`): 'open', the organisation, the user, the
#   groups, the due-date bound and the offset. They decide the plan (a user with 200 tasks among
#   300,000 wants another plan than the average), and with them written in, the statements of the
#   common pages have the same text on every request of a user: psycopg prepares them after five
#   runs and PostgreSQL keeps one plan instead of planning each time;
# - bound: the clock (the follow-up filter, same selectivity whatever the second), the process key
#   and the free-text patterns (user input stays out of the SQL text).

_task = HumanTask.__table__
_group = HumanTaskGroup.__table__
_group_task_count = GroupTaskCount.__table__
_user = User.__table__


# 'open' is written into the SQL, not bound: only then can a prepared statement's generic plan (and
# SQLite at all) use the partial indexes `WHERE state = 'open'`.
_OPEN = literal_column(f"'{TaskStatus.OPEN}'")


class _Shape(NamedTuple):
    """What of the user changes a statement's text (not its parameters)."""
    scope: str             # "center" (Welcome Center staff) | "employer" | "" (no organisation: sees nothing)
    has_groups: bool
    can_see_all: bool
    employer_group: bool = False     # an employer user in the group 'employer' (see `view_conditions`)


def _shape(user) -> _Shape:
    scope = access.scope(user)         # the scopes of engine.access.task_filter, in statements built once per shape
    return _Shape(scope, bool(_group_names(user)), access.can_see_all_tasks(user),
                  scope == "employer" and access.may_use_portal(user))


def _values(user, query: InboxQuery, filters: _Filters, now: datetime) -> dict:
    """The values of the inbox statement (see above which are written into the SQL)."""
    values = {"org": user.organisation_id, "user_id": user.id, "groups": _group_names(user), "now": now,
              "tomorrow": day_bounds(now)[1], "offset": (query.page - 1) * query.per_page}
    if query.process:
        values["process"] = query.process
    if query.task:
        values["task_pattern"] = f"%{_escape_like(query.task)}%"
    if query.q:
        # a complete case reference is looked up exactly, anything else as a part (see _Filters)
        if filters.reference:
            values["reference"] = query.q.upper()
        else:
            values["q_pattern"] = f"%{_escape_like(query.q)}%"
    if query.due:
        _start, tomorrow, week_end = day_bounds(now)
        values["due_before"] = {"overdue": now, "today": tomorrow, "week": week_end}[query.due]
    return values


def _in_my_groups(per_row: bool = False):
    """The task has one of the user's groups as candidate group, by the group index of its center.

    The center equality lets PostgreSQL read `ix_human_task_group_center_task` (center, task id)
    in task id order: the capped tab count becomes a merge of two index-only scans in id order
    (the open unassigned tasks and the group rows of the center) that stops at the cap. The page
    probes the same index row by row.

    `per_row` writes it as a correlated scalar subquery, which PostgreSQL cannot turn into a hash
    semi-join: for the count of a filtered list (due date, process: columns the merge's index lacks)
    that means probing row by row and stopping at the cap, instead of hashing every group row first.
    """
    return _has_group_row(_group.c.group_name.in_(bindparam("groups", expanding=True, literal_execute=True)),
                          per_row)


def _has_group_row(name_condition, per_row: bool = False):
    """The task has a row in the group index (of its center) whose name meets `name_condition`."""
    if per_row:
        probe = (select(literal_column("1")).where(_group.c.task_id == _task.c.id,
                                                   _group.c.center_id == _task.c.center_id, name_condition)
                 .limit(1).correlate(_task).scalar_subquery())
        return probe.is_not(None)
    return exists().where(_group.c.task_id == _task.c.id, _group.c.center_id == _task.c.center_id, name_condition)


def view_conditions(shape: _Shape, view: str, followup: bool = False, per_row: bool = False) -> list:
    """WHERE conditions of one inbox tab (organisation scope included); the values come from `_values`."""
    if shape.scope == "center":
        scope = _task.c.center_id == bindparam("org", literal_execute=True)
    elif shape.scope == "employer":
        scope = _task.c.employer_id == bindparam("org", literal_execute=True)
    else:
        scope = false()
    conds = [_task.c.state == _OPEN, scope]
    if view == "mine":
        conds.append(_task.c.assignee_id == bindparam("user_id", literal_execute=True))
    elif view == "group":
        conds.append(_task.c.assignee_id.is_(None))
        if shape.scope == "center":
            conds.append(_in_my_groups(per_row) if shape.has_groups else false())
        else:
            # Employer users act on employer tasks only (engine.access.is_candidate): tasks with the candidate
            # group 'employer' and one of theirs. For one in the group 'employer' (the usual case) the first
            # implies the second, and a single condition lets PostgreSQL estimate it: with two on the same
            # table it assumes them independent, expects a few dozen rows and hashes every group row.
            conds.append(_has_group_row(_group.c.group_name == literal_column(f"'{access.EMPLOYER_GROUP}'"), per_row))
            if not shape.employer_group:
                conds.append(_in_my_groups(per_row) if shape.has_groups else false())
    elif view == "all":
        if not shape.can_see_all:
            conds.append(false())
    else:
        conds.append(false())
    if not followup:
        conds.append(or_(_task.c.follow_up_at.is_(None), _task.c.follow_up_at <= bindparam("now")))
    return conds


# A complete case reference, as engine.cases writes it (WC-AC-2026-00042). Searched for, it is looked up
# exactly through the case's unique reference: as a part of a reference it would match its longer
# namesakes (…-00042 in …-000421), and its trigrams are shared by every reference of the center.
_REFERENCE = re.compile(r"WC-[A-Z0-9]{1,8}-[0-9]{4}-[0-9]{5,}", re.IGNORECASE)


class _Filters(NamedTuple):
    """Which filters are set (their values are parameters, see `_values`)."""
    process: bool = False
    task: bool = False
    q: bool = False                 # a part of a case reference or subject
    due: bool = False
    reference: bool = False         # `q` is a complete case reference

    @classmethod
    def of(cls, query: InboxQuery) -> "_Filters":
        reference = bool(_REFERENCE.fullmatch(query.q))
        return cls(bool(query.process), bool(query.task), bool(query.q) and not reference, bool(query.due),
                   reference)


def filter_conditions(filters: _Filters) -> list:
    conds = []
    if filters.process:
        conds.append(_task.c.process_key == bindparam("process"))
    if filters.task:
        conds.append(_task.c.title.ilike(bindparam("task_pattern"), escape="\\"))
    if filters.q:
        conds.append(or_(_task.c.case_reference.ilike(bindparam("q_pattern"), escape="\\"),
                         _task.c.case_subject.ilike(bindparam("q_pattern"), escape="\\")))
    if filters.reference:
        case = Case.__table__
        conds.append(_task.c.case_id == select(case.c.id).where(case.c.reference == bindparam("reference"))
                     .scalar_subquery())
    if filters.due:
        conds.append(_task.c.due_at < bindparam("due_before", literal_execute=True))
    return conds


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(sort: str, columns=_task.c):
    """ORDER BY for a sort key: each one is the order of a partial index over open tasks (see
    engine/models/human_task.py), read forwards or backwards, so a page is the first rows of an index scan.

    - due: tasks without due date last (`ix_human_task_open_center_due`);
    - -due: latest first, tasks without due date still last, as in Camunda's Tasklist — not the
      reverse of `due`, so it has its own index (`ix_human_task_open_center_due_desc`);
    - priority: highest first, then due (`ix_human_task_open_center_priority`); -priority is that list
      reversed (lowest first, then latest due, tasks without due date first within a priority): the
      same index read backwards;
    - created / -created: oldest / newest first (`ix_human_task_open_center_created`, both ways).

    An employer user's tabs read their firm's open tasks in due order (`ix_human_task_open_employer_due`);
    their other sorts sort the firm's open tasks, a firm's worth rather than a center's.

    `columns` are the task table's, or the same columns of a subquery (the page's order repeated around it).
    """
    t = columns
    due_asc, due_desc = t.due_at.asc().nulls_last(), t.due_at.desc().nulls_last()
    if sort == "due":
        return [due_asc, t.id]
    if sort == "-due":
        return [due_desc, t.id]
    if sort == "priority":
        return [t.priority.desc(), due_asc, t.id]
    if sort == "-priority":
        return [t.priority, t.due_at.desc().nulls_first(), t.id.desc()]
    if sort == "created":
        return [t.created_at, t.id]
    return [t.created_at.desc(), t.id.desc()]


def _capped_count(conds):
    inner = select(_task.c.id).where(*conds).limit(_inline(COUNT_CAP)).subquery()
    return select(func.count()).select_from(inner).scalar_subquery()


def _inline(n: int):
    """A LIMIT written into the SQL rather than bound: with `LIMIT $1` PostgreSQL cannot cost a prepared
    statement's generic plan (it guesses 10 % of the rows), so it would plan every execution anew."""
    return literal_column(str(int(n)))


def _row_select(candidates: bool = True):
    """The columns of `InboxRow`, from the task and its assignee; the candidate lists (JSON, decoded for each row)
    only if `candidates`."""
    t = _task.c
    groups, users_ = ((t.candidate_groups, t.candidate_users) if candidates
                      else (null().label("candidate_groups"), null().label("candidate_users")))
    return (select(t.id, t.title, t.case_id, t.case_reference, t.case_subject, t.process_key, t.process_name,
                   t.due_at, t.follow_up_at, t.priority, t.created_at, t.assignee_id,
                   _user.c.display_name.label("assignee_name"), t.actor, t.draft.is_not(None).label("has_draft"),
                   groups, users_, t.center_id)
            .select_from(_task.outerjoin(_user, _user.c.id == t.assignee_id)))


def inbox_row(user, task_id: str) -> InboxRow | None:
    """One task as an inbox row, if `user` may see it (a row that changed in place, e.g. claimed)."""
    row = db.session.connection().execute(_row_select().where(_task.c.id == task_id, access.task_filter(user))).first()
    return None if row is None else InboxRow(*row)


def _page_select(shape: _Shape, view: str, sort: str, followup: bool, filters: _Filters, per_page: int, first: bool):
    """The page's rows (one more than a page, to know there is a next one). The first page has no
    OFFSET, so its statement text is fixed and PostgreSQL can keep one plan for it."""
    stmt = (_row_select(candidates=view == "all")        # the "all" tab's assign form offers the candidates
            .where(*view_conditions(shape, view, followup), *filter_conditions(filters))
            .order_by(*_order(sort))
            .limit(_inline(per_page + 1)))
    return stmt if first else stmt.offset(bindparam("offset", type_=Integer, literal_execute=True))


def _group_tab_count(followup: bool):
    """A center user's group tab count: the kept counts of the sets of candidates that hold one of the user's
    groups (engine.task_counts: open, unassigned tasks without follow-up date, each set once), plus a capped
    count of the open, unassigned tasks that have a follow-up date (past ones only unless `followup`), read
    from their own index (`ix_human_task_open_unassigned_follow_up`). Not capped itself: see `inbox_page`."""
    kept = _group_task_count
    sets = (select(kept.c.candidates, kept.c.tasks)
            .where(kept.c.center_id == bindparam("org", literal_execute=True),
                   kept.c.group_name.in_(bindparam("groups", expanding=True, literal_execute=True)))
            .distinct().subquery("sets"))
    with_follow_up = [_task.c.state == _OPEN, _task.c.center_id == bindparam("org", literal_execute=True),
                      _task.c.assignee_id.is_(None), _task.c.follow_up_at.is_not(None), _in_my_groups()]
    if not followup:
        # Besides the clock (bound), the start of tomorrow is written into the SQL, though implied: with the
        # clock alone PostgreSQL's kept plan would guess that a third of all follow-up dates have passed, and
        # read them in parallel workers. Tomorrow's start lets it estimate from its statistics; the text
        # changes once a day.
        with_follow_up += [_task.c.follow_up_at < bindparam("tomorrow", literal_execute=True),
                           _task.c.follow_up_at <= bindparam("now")]
    return select(func.coalesce(func.sum(sets.c.tasks), 0)).scalar_subquery() + _capped_count(with_follow_up)


def _count_columns(shape: _Shape, view: str, followup: bool, filters: _Filters) -> list:
    """Capped counts, a column per tab, and "matches" when filtered."""
    views = ["mine", "group"] + (["all"] if shape.can_see_all else [])
    columns = [(_group_tab_count(followup) if v == "group" and shape.scope == "center" and shape.has_groups
                else _capped_count(view_conditions(shape, v, followup))).label(v) for v in views]
    if shape.scope == "center":
        # the active cases the user is responsible for: a landing page with no task of theirs still shows them
        case = Case.__table__
        responsible = (select(case.c.id).where(case.c.responsible_id == bindparam("user_id", literal_execute=True),
                                               case.c.status == literal_column(f"'{CaseStatus.ACTIVE}'"))
                       .limit(_inline(COUNT_CAP)).subquery())
        columns.append(select(func.count()).select_from(responsible).scalar_subquery().label("responsible"))
    if any(filters) and not (filters.q or filters.task):
        # free-text filters are left out: a rare name would make the count scan every open task
        columns.append(_capped_count(view_conditions(shape, view, followup, per_row=True)
                                     + filter_conditions(filters)).label("matches"))
    return columns


_ROW_COLUMNS = [f.name for f in fields(InboxRow)]


@lru_cache(maxsize=512)
def _inbox_statement(shape: _Shape, view: str, sort: str, followup: bool, filters: _Filters, per_page: int,
                     first: bool):
    """A whole inbox page in one statement (one round trip): the counts row joined to the page's rows, then
    (UNION ALL) a row per deployed process for the filter.

        part 0: the counts in every row, the page's columns NULL when the page is empty
        part 1: key, name of a process; everything else NULL

    The counts are a one-row subquery (its capped counts run once, as InitPlans), LEFT JOINed to the page
    (a subquery with its own ORDER BY and LIMIT, read from its index in order); the outer ORDER BY
    repeats the page's order over its 51 rows at most."""
    count_columns = _count_columns(shape, view, followup, filters)
    counted = select(*count_columns).subquery("counts")
    page = _page_select(shape, view, sort, followup, filters, per_page, first).subquery("page")
    assert [c.name for c in page.c] == _ROW_COLUMNS      # inbox_page reads the rows by position
    page_rows = (select(literal(0).label("part"), *counted.c, *page.c, null().label("key"), null().label("name"))
                 .select_from(counted.outerjoin(page, true())))
    newest = _newest_processes().subquery()
    processes = select(literal(1).label("part"), *(null().label(c.name) for c in counted.c),
                       *(null().label(c.name) for c in page.c), newest.c.key, newest.c.name)
    both = union_all(page_rows, processes).subquery("inbox")
    stmt = select(both).order_by(both.c.part, *_order(sort, both.c), both.c.name)
    if filters.q:
        stmt = stmt.execution_options(plan_each_time=True)      # see engine.db.plan_each_time
    return stmt


# --------------------------------------------------------------------------- inbox

def inbox_page(user, query: InboxQuery, now: datetime | None = None) -> InboxPage:
    """One page of a tab, its counts and the process list for the filter: one statement."""
    now = now or clock.now()
    shape = _shape(user)
    if query.view == "all" and not shape.can_see_all:
        query = replace(query, view="mine")
    filters = _Filters.of(query)
    stmt = _inbox_statement(shape, query.view, query.sort, query.followup, filters, query.per_page, query.page == 1)
    result = db.session.connection().execute(stmt, _values(user, query, filters, now))
    names = list(result.keys())                    # part, the counts, the page's columns, key, name
    first = names.index("id")
    end = first + len(_ROW_COLUMNS)
    tabs, rows, processes = None, [], []
    for r in result:
        if r[0] == 1:
            processes.append((r[-2], r[-1]))
            continue
        if tabs is None:
            tabs = {name: min(n, COUNT_CAP) for name, n in zip(names[1:first], r[1:first])}
        if r[first] is not None:
            rows.append(InboxRow(*r[first:end]))
    has_next = len(rows) > query.per_page
    return InboxPage(query=query, rows=rows[:query.per_page], counts=tabs, has_next=has_next, now=now,
                     processes=processes)


def _newest_processes():
    """(key, name of the newest version) of every deployed process: a small table."""
    definition = ProcessDefinition.__table__
    newest = (select(definition.c.key, func.max(definition.c.version).label("version"))
              .group_by(definition.c.key).subquery())
    return (select(definition.c.key, definition.c.name)
            .join(newest, and_(definition.c.key == newest.c.key, definition.c.version == newest.c.version)))


def process_choices() -> list[tuple[str, str]]:
    """(key, name of the newest version) of every deployed process, by name."""
    stmt = _newest_processes().order_by(ProcessDefinition.__table__.c.name)
    return [(k, n) for k, n in db.session.connection().execute(stmt)]


# --------------------------------------------------------------------------- the next task of a case

def next_task_for(user, case_id) -> HumanTask | None:
    """The open task of a case that `user` would do next ("weiter mit …" after a completion): theirs first,
    then the most urgent they may work (priority, due date). A case has a few open tasks at most."""
    rows = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == _OPEN)).all()
    return next_of(user, rows)


def next_of(user, open_rows) -> HumanTask | None:
    """Of a case's open task rows, the one `user` would do next (see `next_task_for`): priority first,
    then the earliest due date (none last), then the oldest."""
    latest = datetime.max.replace(tzinfo=timezone.utc)
    ordered = sorted(open_rows, key=lambda row: (-(row.priority or 0), row.due_at is None, row.due_at or latest,
                                                 row.created_at, row.id))
    workable = [row for row in ordered if access.can_work(user, row)]
    return next((row for row in workable if row.assignee_id == user.id), workable[0] if workable else None)


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

    timer_conds = [access.timer_filter(user)]
    task_conds = [HumanTask.state == TaskStatus.OPEN, HumanTask.due_at.is_not(None), access.task_filter(user)]
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
