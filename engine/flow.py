"""How cases flow through a center (read-only): cases started and completed per week; median and 90th
percentile of the duration per process (start to end of completed cases) and per step (a user task from
its creation to its completion); and, for one process, where cases wait longest, as a heat per diagram
element.

The step durations come from the task table, which keeps each task's `task_created` and `task_completed`
moments of the event log as `created_at` and `completed_at` (indexed by center), so no request reads the
event log itself. Only what ended within the last WINDOW_DAYS counts.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Float, cast, func, select

from engine import access, clock
from engine.db import db
from engine.inbox import process_choices
from engine.models import Case, HumanTask, ProcessDefinition
from engine.models.statuses import CaseStatus, TaskStatus
from engine.workload import monday_of, week_buckets

WEEKS = 12
WINDOW_DAYS = 365
HEAT_LEVELS = 5


@dataclass
class Durations:
    key: str                  # process key, or element id
    name: str
    count: int
    median_days: float
    p90_days: float


@dataclass
class Flow:
    weeks: list[date]
    started: list[int]
    completed: list[int]
    processes: list[Durations]
    steps: list[Durations] = field(default_factory=list)     # of the chosen process, longest median first
    process: str = ""                                         # the chosen process key
    heat: dict = field(default_factory=dict)                  # element id -> {"level": 1..5, "label": "…"}
    choices: list = field(default_factory=list)               # (key, name) of the deployed processes

    def chart_rows(self, chart: str = "cases"):
        return (["week", "started", "completed"],
                [[monday.isoformat(), s, c] for monday, s, c in zip(self.weeks, self.started, self.completed)])


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _summary(key, name, values) -> Durations:
    values = sorted(values)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]
    return Durations(key, name, len(values), round(statistics.median(values), 1), round(p90, 1))


def _durations(key, name, begin, end, rows) -> list[Durations]:
    """Median and 90th percentile of end - begin per key of `rows` (a select of its FROM and WHERE), in days:
    in PostgreSQL (percentile_cont, interpolating as `_summary`), in Python on SQLite (the small embedded mode)."""
    if db.session.get_bind().dialect.name == "postgresql":
        days = cast(func.extract("epoch", end - begin), Float) / 86400     # a float sorts faster than a numeric
        return [Durations(k, n, count, round(float(median), 1), round(float(p90), 1))
                for k, n, count, median, p90 in db.session.execute(rows.with_only_columns(
                    key, func.min(name), func.count(), func.percentile_cont(0.5).within_group(days),
                    func.percentile_cont(0.9).within_group(days)).group_by(key))]
    found: dict[str, tuple[str, list]] = {}
    for k, n, begun, ended in db.session.execute(rows.with_only_columns(key, name, begin, end)):
        found.setdefault(k, (n, []))[1].append(_days(ended - begun))
    return [_summary(k, n, values) for k, (n, values) in found.items()]


def flow(user, process: str = "", now: datetime | None = None) -> Flow | None:
    """The flow of the user's center (and the steps of `process`, if given); None for a user who may not
    oversee."""
    if not access.may_oversee(user):
        return None
    now = now or clock.now()
    center = user.organisation_id
    weeks = [monday_of(clock.local_date(now)) - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    started, completed = [0] * WEEKS, [0] * WEEKS
    for column, counts in ((Case.started_at, started), (Case.ended_at, completed)):
        bounds, week_of = week_buckets(column, weeks)
        done = (Case.status == CaseStatus.COMPLETED,) if column is Case.ended_at else ()
        for index, count in db.session.execute(
                select(week_of, func.count()).where(Case.center_id == center, *done, column >= bounds[0],
                                                    column < bounds[-1]).group_by(week_of)):
            counts[index] = count
    window = now - timedelta(days=WINDOW_DAYS)
    result = Flow(weeks, started, completed, sorted(_durations(
        ProcessDefinition.key, ProcessDefinition.name, Case.started_at, Case.ended_at,
        select().select_from(Case).join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
        .where(Case.center_id == center, Case.status == CaseStatus.COMPLETED, Case.ended_at >= window)),
        key=lambda d: d.name), choices=process_choices())
    if not process:
        return result
    result.steps = sorted(_durations(
        HumanTask.element_id, HumanTask.title, HumanTask.created_at, HumanTask.completed_at,
        select().select_from(HumanTask).where(HumanTask.center_id == center, HumanTask.process_key == process,
                                              HumanTask.state == TaskStatus.COMPLETED, HumanTask.completed_at >= window)),
        key=lambda d: -d.median_days)
    result.process = process
    longest = max((step.median_days for step in result.steps), default=0)
    result.heat = {step.key: {"level": max(1, round(HEAT_LEVELS * step.median_days / longest)) if longest else 1,
                              "label": f"{step.median_days:g} d"} for step in result.steps}
    return result


def process_diagram(user, process: str) -> str | None:
    """The BPMN text of the newest version of `process`, for the flow page's heatmap; None if none."""
    if not access.may_oversee(user):
        return None
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == process)
                                   .order_by(ProcessDefinition.version.desc()).limit(1))
    if definition is None or definition.source_file is None:
        return None
    return definition.source_file.content
