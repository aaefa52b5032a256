"""Who carries how much (read-only): open, overdue and completed tasks per person and per candidate group of
a center, the cases each person is responsible for, and how these went over the last weeks.

Now: counts grouped in the database from the task table's own indexes, per group from the inbox's kept group
counts (`_groups`). Over time: a week's completions are counted by who completed them and per candidate group;
the open and overdue tasks at the end of each week are those created before it and not closed by then
(`completed_at` is set for cancelled tasks too), counted back from the open tasks now (`_open_over_weeks`), the
center's, per person who held them then, and per group for those nobody held. Who held a task then is its
assignee now unless the case log shows it changed hands since (`_holders`: claims, releases, assignments).
"""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, select

from engine import access, clock
from engine.db import db
from engine.models import Case, CaseEvent, GroupTaskCount, HumanTask, User
from engine.models.event import HOLDER_CHANGE
from engine.models.statuses import CaseStatus, TaskStatus

WEEKS = 8
CHARTS = ("completed", "open", "people_open", "people_overdue", "groups_open", "groups_overdue", "groups_completed")


@dataclass
class PersonLoad:
    id: int
    name: str
    open: int = 0
    overdue: int = 0
    completed: int = 0          # in the weeks shown
    responsible: int = 0        # active cases


@dataclass
class GroupLoad:
    group: str
    open: int                   # open and unclaimed
    overdue: int                # filled in with the weeks' figures


@dataclass
class Workload:
    now: datetime
    weeks: list[date]                                            # Mondays, oldest first
    people: list[PersonLoad]
    groups: list[GroupLoad]
    completed_by_week: dict = field(default_factory=dict)        # person name -> [count per week]
    open_by_week: list = field(default_factory=list)             # the center's, at each week's end (or now)
    overdue_by_week: list = field(default_factory=list)
    people_open: dict = field(default_factory=dict)              # person name -> [held open at each week's end]
    people_overdue: dict = field(default_factory=dict)
    groups_open: dict = field(default_factory=dict)              # group -> [open at each week's end]
    groups_overdue: dict = field(default_factory=dict)
    groups_completed: dict = field(default_factory=dict)         # group -> [completed per week]

    def series(self, chart: str) -> dict:
        """A chart's lines: name -> a figure per week."""
        if chart == "open":
            return {"open": self.open_by_week, "overdue": self.overdue_by_week}
        if chart == "completed":
            return self.completed_by_week
        return getattr(self, chart)

    def chart_rows(self, chart: str) -> tuple[list[str], list[list]]:
        """(header, rows) of a chart's table: what the page shows for screen readers and the CSV holds."""
        lines = self.series(chart)
        return ["week"] + list(lines), [[monday.isoformat()] + [counts[index] for counts in lines.values()]
                                        for index, monday in enumerate(self.weeks)]


def monday_of(day: date) -> date:
    """The Monday of `day`'s week: the weeks of the charts start on Mondays."""
    return day - timedelta(days=day.weekday())


def berlin_midnight(day: date) -> datetime:
    """The start of `day` in Berlin, in UTC."""
    return datetime.combine(day, time.min, clock.BERLIN).astimezone(timezone.utc)


def week_buckets(column, weeks: list[date]):
    """(bounds, index): the weeks' bounds in UTC (first Monday's start .. the day after the last week) and
    an SQL expression of the week index a moment of `column` falls in, so rows are counted per week in the
    database. The bounds are Berlin midnights (a week is not always 7 × 24 hours): a moment falls in the
    week its Berlin date does. Rows outside the bounds must be filtered out by the caller."""
    bounds = [berlin_midnight(monday) for monday in weeks] + [berlin_midnight(weeks[-1] + timedelta(weeks=1))]
    return bounds, case(*[(column < bound, index) for index, bound in enumerate(bounds[1:])])


def workload(user, now: datetime | None = None) -> Workload | None:
    """The workload of the user's center; None for a user who may not oversee it."""
    if not access.may_oversee(user):
        return None
    now = now or clock.now()
    center = user.organisation_id
    weeks = [monday_of(clock.local_date(now)) - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    week_ends = [min(berlin_midnight(monday + timedelta(weeks=1)), now) for monday in weeks]

    people = {row.id: PersonLoad(row.id, row.display_name) for row in db.session.execute(
        select(User.id, User.display_name).where(User.organisation_id == center, User.active.is_(True))
        .order_by(User.display_name))}
    for responsible, count in db.session.execute(
            select(Case.responsible_id, func.count()).where(Case.center_id == center, Case.status == CaseStatus.ACTIVE,
                                                            Case.responsible_id.is_not(None))
            .group_by(Case.responsible_id)):
        if responsible in people:
            people[responsible].responsible = count

    completed_by_week = {person.name: [0] * WEEKS for person in people.values()}
    groups_completed = defaultdict(lambda: [0] * WEEKS)
    bounds, week_of = week_buckets(HumanTask.completed_at, weeks)
    for person_id, names, index, count in db.session.execute(
            select(HumanTask.completed_by_id, HumanTask.candidate_groups, week_of, func.count())
            .where(HumanTask.center_id == center, HumanTask.state == TaskStatus.COMPLETED,
                   HumanTask.completed_at >= bounds[0], HumanTask.completed_at < bounds[-1])
            .group_by(HumanTask.completed_by_id, HumanTask.candidate_groups, week_of)):
        for name in _group_names(names):
            groups_completed[name][index] += count
        if person_id in people:
            completed_by_week[people[person_id].name][index] += count
            people[person_id].completed += count

    groups = _groups(center)
    open_by_week, overdue_by_week, open_at, overdue_at = _open_over_weeks(
        center, week_ends, {group.group: group.open for group in groups})
    load = Workload(now=now, weeks=weeks, people=list(people.values()), groups=groups,
                    completed_by_week=completed_by_week, open_by_week=open_by_week, overdue_by_week=overdue_by_week,
                    people_open={person.name: open_at[("person", person.id)] for person in people.values()},
                    people_overdue={person.name: overdue_at[("person", person.id)] for person in people.values()})
    groups_open = {name: counts for (kind, name), counts in open_at.items() if kind == "group"}
    for person in people.values():          # now: the last of the weeks' ends
        person.open, person.overdue = open_at[("person", person.id)][-1], overdue_at[("person", person.id)][-1]
    for group in groups:
        group.overdue = overdue_at[("group", group.group)][-1]
    load.groups_open = dict(sorted(groups_open.items()))
    load.groups_overdue = {name: overdue_at[("group", name)] for name in load.groups_open}
    load.groups_completed = {name: groups_completed[name] for name in sorted(set(groups_completed) | set(groups_open))}
    return load


def _group_names(names) -> list[str]:
    """A task's candidate groups, each once, without the `user:` names."""
    return [name for name in dict.fromkeys(names or ()) if not name.startswith("user:")]


def _groups(center: int) -> list[GroupLoad]:
    """Open unassigned tasks per candidate group (not a `user:` name), read without joining the group index: the
    inbox's kept group counts (engine.task_counts: those without a follow-up date) plus the few with one, grouped
    by the tasks' candidate groups (few distinct lists), which are split here. Their overdue ones are counted
    with the weeks' (`_open_over_weeks`)."""
    open_counts = Counter()
    for name, count in db.session.execute(
            select(GroupTaskCount.group_name, func.sum(GroupTaskCount.tasks))
            .where(GroupTaskCount.center_id == center, ~GroupTaskCount.group_name.startswith("user:"))
            .group_by(GroupTaskCount.group_name)):
        open_counts[name] += int(count or 0)

    def per_group(where) -> Counter:
        counts = Counter()
        for names, count in db.session.execute(
                select(HumanTask.candidate_groups, func.count())
                .where(HumanTask.center_id == center, HumanTask.state == TaskStatus.OPEN, HumanTask.assignee_id.is_(None),
                       where).group_by(HumanTask.candidate_groups)):
            for name in dict.fromkeys(names or []):
                if not name.startswith("user:"):
                    counts[name] += count
        return counts
    open_counts += per_group(HumanTask.follow_up_at.is_not(None))
    return [GroupLoad(name, count, 0) for name, count in sorted(open_counts.items()) if count > 0]


def _open_over_weeks(center: int, ends: list[datetime], waiting: dict) -> tuple[list, list, dict, dict]:
    """Open and overdue tasks at each of `ends` (ascending): the center's, and per holder (`("person", id)`) or,
    for those nobody held, per candidate group (`("group", name)`). A task is open at `end` when created by then
    and not closed by then, overdue when also due before it. `waiting`: the open unassigned tasks per group now.

    Counted from what changed since the first end, so that no statement reads every open task: the open ones
    now, less those opened after an end; plus the ones closed after an end that were open at it. Each task falls
    in buckets, the first end by which it was created (`made`), closed (`shut`) and due (`late`), so it is open at
    end i when made <= i < shut and overdue when also late <= i. Its holder at an end is its assignee now unless
    it changed hands after that end (`_holders`). An open task has no `completed_at` (engine.state sets it on
    closing only, for cancelled tasks too)."""
    last = len(ends)
    made, shut, late = _buckets(ends).values()
    is_open = (HumanTask.center_id == center, HumanTask.state == TaskStatus.OPEN)
    total = [db.session.scalar(select(func.count()).select_from(HumanTask).where(*is_open))] * last
    total_late = [0] * last
    open_at, overdue_at = defaultdict(lambda: [0] * last), defaultdict(lambda: [0] * last)
    for name, number in waiting.items():
        open_at[("group", name)] = [number] * last

    def slots(holder, names) -> list:
        return [("person", holder)] if holder is not None else [("group", name) for name in _group_names(names)]

    def count(holder, names, indexes, due, number, center_too=True):
        for index in indexes:
            for slot in slots(holder, names):
                open_at[slot][index] += number
                if due <= index:
                    overdue_at[slot][index] += number
            if center_too:
                total[index] += number
                if due <= index:
                    total_late[index] += number
    # overdue now, back to when each fell due: the assigned tasks per assignee, the others per candidate list
    for holder, due, number in db.session.execute(
            select(HumanTask.assignee_id, late, func.count())
            .where(*is_open, HumanTask.assignee_id.is_not(None)).group_by(HumanTask.assignee_id, late)):
        count(holder, (), range(last), due, number, center_too=False)      # open at every end: in `total` already
        for index in range(due, last):
            total_late[index] += number
    for names, due, number in db.session.execute(
            select(HumanTask.candidate_groups, late, func.count())
            .where(*is_open, HumanTask.assignee_id.is_(None), HumanTask.due_at < ends[-1])
            .group_by(HumanTask.candidate_groups, late)):
        for index in range(due, last):
            total_late[index] += number
            for slot in slots(None, names):
                overdue_at[slot][index] += number
    columns = (HumanTask.assignee_id, HumanTask.candidate_groups, made, late)
    for holder, names, created, due, number in db.session.execute(
            select(*columns, func.count()).where(*is_open, HumanTask.created_at > ends[0]).group_by(*columns)):
        count(holder, names, range(min(created, last)), due, -number)    # opened after these ends: not open at them
    for holder, names, created, due, closed, number in db.session.execute(
            select(*columns, shut, func.count())
            .where(HumanTask.center_id == center, HumanTask.completed_at.is_not(None),
                   HumanTask.completed_at > ends[0]).group_by(*columns, shut)):
        count(holder, names, range(created, min(closed, last)), due, number)   # closed after these ends: open at them
    for task, held in _holders(center, ends):
        for index in range(task.made, min(task.shut, last)):
            if held[index] != task.assignee_id:          # counted with its assignee now: move it to who held it
                count(task.assignee_id, task.candidate_groups, (index,), task.late, -1, center_too=False)
                count(held[index], task.candidate_groups, (index,), task.late, 1, center_too=False)
    return total, total_late, open_at, overdue_at


def _holders(center: int, ends: list[datetime]) -> list:
    """The tasks of the center that changed hands after the first of `ends` (those events are read by time), with
    who held each at each end: the one the last change by then handed it to; before its first change, nobody
    (engine.cases hands a task over by claim, release or assignment; one its process assigned when it opened
    counts as nobody's until then). A task completed straight from its groups, unclaimed, becomes its completer's
    as it closes: engine.cases logs that as a claim, so it counts for its groups while it was open."""
    changes = db.session.execute(
        select(CaseEvent.case_id, CaseEvent.at, CaseEvent.kind, CaseEvent.actor_id, CaseEvent.details)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(HOLDER_CHANGE, CaseEvent.at > ends[0], Case.center_id == center)).all()
    if not changes:
        return []
    cases = {row.case_id for row in changes}
    # the changes before, of the same cases, tell who held a task at the first end
    changes += db.session.execute(
        select(CaseEvent.case_id, CaseEvent.at, CaseEvent.kind, CaseEvent.actor_id, CaseEvent.details)
        .where(CaseEvent.case_id.in_(cases), HOLDER_CHANGE, CaseEvent.at <= ends[0])).all()
    by_name = dict(db.session.execute(select(User.username, User.id).where(User.organisation_id == center)).all())
    by_task = defaultdict(list)
    for row in sorted(changes, key=lambda row: row.at):
        to = (row.actor_id if row.kind == "task_claimed" else
              by_name.get(row.details.get("assignee")) if row.kind == "task_assigned" else None)
        by_task[row.details.get("task_id")].append((row.at, to))
    tasks = db.session.execute(
        select(HumanTask.id, HumanTask.assignee_id, HumanTask.candidate_groups,
               *[bucket.label(name) for name, bucket in _buckets(ends).items()])
        .where(HumanTask.id.in_(by_task), HumanTask.center_id == center)).all()
    held = []
    for task in tasks:
        holder, moves, at_end = None, iter(by_task[task.id]), []
        move = next(moves, None)
        for end in ends:
            while move is not None and move[0] <= end:
                holder, move = move[1], next(moves, None)
            at_end.append(holder)
        held.append((task, at_end))
    return held


def _buckets(ends: list[datetime]) -> dict:
    last = len(ends)

    def bucket(held):
        return case(*[(held(end), index) for index, end in enumerate(ends)], else_=last)
    return {"made": bucket(lambda end: HumanTask.created_at <= end),
            "shut": bucket(lambda end: HumanTask.completed_at <= end),
            "late": bucket(lambda end: HumanTask.due_at < end)}


def chart_csv(load: Workload, chart: str) -> str:
    header, rows = load.chart_rows(chart)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
