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

from sqlalchemy import func, select

from engine import access, clock
from engine.db import db
from engine.inbox import process_choices
from engine.models import Case, HumanTask, ProcessDefinition
from engine.workload import berlin_midnight, monday_of, week_buckets

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


def flow(user, process: str = "", now: datetime | None = None) -> Flow | None:
    """The flow of the user's center (and the steps of `process`, if given); None for a user who may not
    oversee."""
    if not access.may_oversee(user):
        return None
    now = now or clock.now()
    center = user.organisation_id
    weeks = [monday_of(clock.local_date(now)) - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    since = berlin_midnight(weeks[0])
    started, completed = [0] * WEEKS, [0] * WEEKS

    def week(moment):
        index = (monday_of(clock.local_date(moment)) - weeks[0]).days // 7
        return index if 0 <= index < WEEKS else None
    bounds, week_of = week_buckets(Case.started_at, weeks)
    for index, count in db.session.execute(
            select(week_of, func.count()).where(Case.center_id == center, Case.started_at >= bounds[0],
                                                Case.started_at < bounds[-1]).group_by(week_of)):
        started[index] = count
    window = now - timedelta(days=WINDOW_DAYS)
    by_process: dict[str, tuple[str, list]] = {}
    for key, name, started_at, ended_at in db.session.execute(
            select(ProcessDefinition.key, ProcessDefinition.name, Case.started_at, Case.ended_at)
            .join(ProcessDefinition, ProcessDefinition.id == Case.definition_id)
            .where(Case.center_id == center, Case.status == "completed", Case.ended_at >= min(window, since))):
        if ended_at >= since and (index := week(ended_at)) is not None:
            completed[index] += 1
        if ended_at >= window:
            by_process.setdefault(key, (name, []))[1].append(_days(ended_at - started_at))
    result = Flow(weeks, started, completed,
                  sorted((_summary(key, name, values) for key, (name, values) in by_process.items()),
                         key=lambda d: d.name), choices=process_choices())
    if not process:
        return result
    by_step: dict[str, tuple[str, list]] = {}
    for element_id, title, created_at, completed_at in db.session.execute(
            select(HumanTask.element_id, HumanTask.title, HumanTask.created_at, HumanTask.completed_at)
            .where(HumanTask.center_id == center, HumanTask.process_key == process,
                   HumanTask.state == "completed", HumanTask.completed_at >= window)):
        by_step.setdefault(element_id, (title, []))[1].append(_days(completed_at - created_at))
    result.process = process
    result.steps = sorted((_summary(key, title, values) for key, (title, values) in by_step.items()),
                          key=lambda d: -d.median_days)
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
