"""The one clock the engine reads, which tests (and only tests) can move.

SpiffWorkflow reads `datetime.now(timezone.utc)` inside its timer module; we point that
module's `datetime` at a subclass whose `now()` asks this clock, so BPMN timers, due dates
and the sweeper all agree on what time it is.

`LOTSE_CLOCK_OFFSET_SECONDS` (read at import, so from the environment: no app exists yet) starts
the clock shifted: tests use it to tell a worker subprocess what time it is ("a day later")
without sleeping.
"""
from datetime import datetime, timedelta, timezone

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer

from engine.settings import setting

_start_offset = timedelta(seconds=setting("CLOCK_OFFSET_SECONDS"))
_offset = _start_offset
_frozen: datetime | None = None


def now() -> datetime:
    """The current time, aware, in UTC."""
    if _frozen is not None:
        return _frozen + _offset
    return datetime.now(timezone.utc) + _offset


def advance(delta: timedelta) -> datetime:
    """Move time forward (tests and the `lotse` demo only)."""
    global _offset
    _offset += delta
    return now()


def freeze(at: datetime | None = None) -> datetime:
    """Stop the clock at `at` (default: now) so time only moves with `advance`."""
    global _frozen, _offset
    _frozen = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    _offset = timedelta(0)
    return _frozen


def reset() -> None:
    global _frozen, _offset
    _frozen, _offset = None, _start_offset


def offset_from_real_time() -> timedelta:
    """How far this clock is ahead of the wall clock (what a worker subprocess needs to agree with us)."""
    return now() - datetime.now(timezone.utc)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        current = now()
        if tz is None:
            return current.astimezone().replace(tzinfo=None)
        return current.astimezone(tz)


_spiff_timer.datetime = _ClockDatetime
