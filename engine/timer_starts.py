"""Timer start events: processes that start cases on a schedule, exactly once across workers.

A deployment that creates a process version with timer start events replaces the schedule of
the process's earlier versions (`schedule`): one `TimerStart` row per timer start event with the
time it next fires. Its value is evaluated once, at deploy, without case data: a date
(`2027-03-01T09:00`), a duration from the deploy (`P1D`), an ISO cycle (`R3/2027-01-01T08:00/P1W`,
`R/P1D`) or a Quartz cron cycle (`0 0 9 ? * MON-FRI`).

`claim_due(now)` claims the rows that are due, and `engine.timers.start_timer_cases` (part of every
sweep) starts their cases: one per Welcome Center (a schedule is the process's, the cases are the
centers'). A row is claimed by a compare-and-set on its due time, so of several workers sweeping
at once exactly one claims each round; the same transaction writes the round's starts owed, one
`TimerStartRound` per center, and each case's own transaction marks its row done. A worker that
dies between the claim and the starts leaves rows pending, and the next sweep starts them: every
round starts exactly one case per center.
"""
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition, TimerEventDefinition)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import delete, select, update

from engine import clock, cron, organisations, sandbox
from engine.db import db
from engine.models import ProcessDefinition, TimerStart, TimerStartRound
from engine.parsing import CronCycleTimerEventDefinition


class TimerStartError(ValueError):
    pass


def timer_start_events(spec) -> list:
    return [t for t in spec.task_specs.values()
            if isinstance(t, StartEvent) and isinstance(t.event_definition, TimerEventDefinition)]


def _kind(event) -> str:
    if isinstance(event, CronCycleTimerEventDefinition):
        return "cron"
    if isinstance(event, CycleTimerEventDefinition):
        return "cycle"
    if isinstance(event, DurationTimerEventDefinition):
        return "duration"
    return "date"


def first_fire(task_spec, now: datetime) -> tuple[str, str, datetime | None, int]:
    """(kind, value, first time, how many starts) of a timer start event. Raises TimerStartError."""
    event = task_spec.event_definition
    kind = _kind(event)
    try:
        value = str(sandbox.evaluate(event.expression, {}))
    except Exception as exc:          # a timer start has no case data: only literals and helpers can work
        raise TimerStartError(f"the timer {event.expression!r} cannot be evaluated without case data: {exc}") from None
    try:
        if kind == "cron":
            return kind, value, cron.next_after(value, now), -1
        if kind == "cycle":
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
            return kind, value, clock.deadline_instant(start) if start.tzinfo is None else start, cycles
        if kind == "duration":
            duration = TimerEventDefinition.parse_iso_duration(value)
            return kind, value, now + TimerEventDefinition.get_timedelta_from_start(duration, now), 1
        return kind, value, clock.deadline_instant(value), 1
    except Exception as exc:          # the library raises bare Exceptions for what it cannot read
        raise TimerStartError(f"the timer {value!r} is no {kind} Lotse can read: {exc}") from None


def _following(row: TimerStart, fired: datetime) -> datetime | None:
    if row.kind == "cron":
        return cron.next_after(row.expression, fired)
    if row.kind == "cycle" and row.remaining != 1:
        _, _, duration = TimerEventDefinition.parse_iso_recurring_interval(row.expression)
        return fired + duration
    return None


def schedule(definition: ProcessDefinition, spec) -> None:
    """Let this (new, newest) version's timer start events replace the schedule of the process."""
    db.session.execute(delete(TimerStart).where(TimerStart.process_key == definition.key))
    now = clock.now()
    for task_spec in timer_start_events(spec):
        kind, value, first, count = first_fire(task_spec, now)
        if first is None or count == 0:
            continue
        db.session.add(TimerStart(process_key=definition.key, definition_id=definition.id,
                                  element_id=task_spec.bpmn_id, kind=kind, expression=value, next_at=first,
                                  remaining=count))


def claim_due(now: datetime | None = None, limit: int = 100) -> int:
    """Claim the timer starts that are due, each for one round, and write the round's starts owed (one
    TimerStartRound per center). Returns the rounds claimed.

    The claim moves the row to its next time (or deletes it after its last) only if the row still has
    the due time read, and commits with the starts owed: of workers claiming at once, one wins each round.
    """
    now = now or clock.now()
    claimed = 0
    due = db.session.execute(select(TimerStart.id, TimerStart.next_at).where(TimerStart.next_at <= now)
                             .order_by(TimerStart.next_at).limit(limit)).all()
    for row_id, fired in due:
        row = db.session.get(TimerStart, row_id)
        if row is None:
            continue
        following = _following(row, fired)
        remaining = row.remaining - 1 if row.remaining > 0 else row.remaining
        claim = (delete(TimerStart).where(TimerStart.id == row_id, TimerStart.next_at == fired)
                 if following is None or remaining == 0 else
                 update(TimerStart).where(TimerStart.id == row_id, TimerStart.next_at == fired)
                 .values(next_at=following, remaining=remaining))
        if db.session.execute(claim).rowcount == 1:
            db.session.add_all(TimerStartRound(definition_id=row.definition_id, element_id=row.element_id,
                                               fired_at=fired, center_id=center.id)
                               for center in organisations.centers())
            claimed += 1
        db.session.commit()
    return claimed


def pending_rounds(limit: int = 100) -> list[int]:
    """The ids of the starts owed that no case has settled yet, oldest first."""
    return db.session.scalars(select(TimerStartRound.id).where(TimerStartRound.done.is_(False))
                              .order_by(TimerStartRound.id).limit(limit)).all()
