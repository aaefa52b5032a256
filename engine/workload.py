"""Who carries how much (read-only): open, overdue and completed tasks per person and per candidate group of
a center, the cases each person is responsible for, and how the center's open and overdue tasks and each
person's completions went over the last weeks.

Now: counts grouped in the database from the task table's own indexes (open tasks by center; the group
index), per group from the inbox's kept group counts (`_groups`). Over time: a week's completions are counted by who completed them; the center's open and overdue
tasks at the end of each week are those created before it and not closed by then (`completed_at` is set
for cancelled tasks too), counted back from the open tasks now (`_open_over_weeks`). Who held a task in a past week is not recorded, so
open and overdue over time are the center's, not a person's.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, select

from engine import access, clock
from engine.db import db
from engine.models import Case, GroupTaskCount, HumanTask, User
from engine.models.statuses import CaseStatus, TaskStatus

WEEKS = 8
CHARTS = ("completed", "open")


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
    overdue: int


@dataclass
class Workload:
    now: datetime
    weeks: list[date]                                            # Mondays, oldest first
    people: list[PersonLoad]
    groups: list[GroupLoad]
    completed_by_week: dict = field(default_factory=dict)        # person name -> [count per week]
    open_by_week: list = field(default_factory=list)             # the center's, at each week's end (or now)
    overdue_by_week: list = field(default_factory=list)

    def chart_rows(self, chart: str) -> tuple[list[str], list[list]]:
        """(header, rows) of a chart's table: what the page shows for screen readers and the CSV holds."""
        header = ["week"] + ([name for name in self.completed_by_week] if chart == "completed"
                             else ["open", "overdue"])
        rows = []
        for index, monday in enumerate(self.weeks):
            values = ([counts[index] for counts in self.completed_by_week.values()] if chart == "completed"
                      else [self.open_by_week[index], self.overdue_by_week[index]])
            rows.append([monday.isoformat()] + values)
        return header, rows


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
    open_task = (HumanTask.center_id == center, HumanTask.state == TaskStatus.OPEN)
    overdue = func.sum(case((HumanTask.due_at < now, 1), else_=0))
    for assignee, count, late in db.session.execute(
            select(HumanTask.assignee_id, func.count(), overdue)
            .where(*open_task, HumanTask.assignee_id.is_not(None)).group_by(HumanTask.assignee_id)):
        if assignee in people:
            people[assignee].open, people[assignee].overdue = count, int(late or 0)
    for responsible, count in db.session.execute(
            select(Case.responsible_id, func.count()).where(Case.center_id == center, Case.status == CaseStatus.ACTIVE,
                                                            Case.responsible_id.is_not(None))
            .group_by(Case.responsible_id)):
        if responsible in people:
            people[responsible].responsible = count

    completed_by_week = {person.name: [0] * WEEKS for person in people.values()}
    bounds, week_of = week_buckets(HumanTask.completed_at, weeks)
    for person_id, index, count in db.session.execute(
            select(HumanTask.completed_by_id, week_of, func.count())
            .where(HumanTask.center_id == center, HumanTask.state == TaskStatus.COMPLETED,
                   HumanTask.completed_at >= bounds[0], HumanTask.completed_at < bounds[-1],
                   HumanTask.completed_by_id.is_not(None))
            .group_by(HumanTask.completed_by_id, week_of)):
        if person_id in people:
            completed_by_week[people[person_id].name][index] += count
            people[person_id].completed += count

    groups = _groups(center, now)
    open_by_week, overdue_by_week = _open_over_weeks(center, week_ends)
    return Workload(now=now, weeks=weeks, people=list(people.values()), groups=groups,
                    completed_by_week=completed_by_week, open_by_week=open_by_week,
                    overdue_by_week=overdue_by_week)


def _groups(center: int, now: datetime) -> list[GroupLoad]:
    """Open and overdue unassigned tasks per candidate group (not a `user:` name), read without joining the group
    index: the open ones are the inbox's kept group counts (engine.task_counts: those without a follow-up date)
    plus the few with one; the overdue ones are the open, unassigned tasks by due date. Both of these are
    grouped by the tasks' candidate groups (few distinct lists), which are split here."""
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
    overdue = per_group(HumanTask.due_at < now)
    return [GroupLoad(name, count, overdue[name]) for name, count in sorted(open_counts.items()) if count > 0]


def _open_over_weeks(center: int, ends: list[datetime]) -> tuple[list[int], list[int]]:
    """The center's open and overdue tasks at each of `ends` (ascending): a task is open at `end` when created by
    then and not closed by then, overdue when also due before it.

    Counted from what changed since the first end, so that no statement reads every open task: the open ones
    now, less those opened after an end; plus the ones closed after an end that were open at it. Each task falls
    in buckets, the first end by which it was created (`made`), closed (`shut`) and due (`late`), so it is open at
    end i when made <= i < shut and overdue when also late <= i. An open task has no `completed_at`
    (engine.state sets it on closing only)."""
    last = len(ends)

    def bucket(held):
        return case(*[(held(end), index) for index, end in enumerate(ends)], else_=last)
    made = bucket(lambda end: HumanTask.created_at <= end)
    shut = bucket(lambda end: HumanTask.completed_at <= end)
    late = bucket(lambda end: HumanTask.due_at < end)
    is_open = (HumanTask.center_id == center, HumanTask.state == TaskStatus.OPEN)
    open_now = db.session.scalar(select(func.count()).select_from(HumanTask).where(*is_open))
    open_by_week, overdue_by_week = [open_now] * last, [0] * last
    for due, count in db.session.execute(select(late, func.count()).where(*is_open, HumanTask.due_at < ends[-1])
                                         .group_by(late)):
        for index in range(due, last):
            overdue_by_week[index] += count
    for created, due, count in db.session.execute(
            select(made, late, func.count()).where(*is_open, HumanTask.created_at > ends[0]).group_by(made, late)):
        for index in range(min(created, last)):             # opened after these ends: not open at them
            open_by_week[index] -= count
            if due <= index:
                overdue_by_week[index] -= count
    for created, closed, due, count in db.session.execute(
            select(made, shut, late, func.count())
            .where(HumanTask.center_id == center, HumanTask.completed_at.is_not(None),
                   HumanTask.completed_at > ends[0]).group_by(made, shut, late)):
        for index in range(created, min(closed, last)):     # closed after these ends: open at them
            open_by_week[index] += count
            if due <= index:
                overdue_by_week[index] += count
    return open_by_week, overdue_by_week


def chart_csv(load: Workload, chart: str) -> str:
    header, rows = load.chart_rows(chart)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
