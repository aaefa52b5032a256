"""The one clock the engine reads, which tests (and only tests) can move.

SpiffWorkflow reads `datetime.now(timezone.utc)` inside its timer module; we point that
module's `datetime` at a subclass whose `now()` asks this clock, so BPMN timers, due dates
and the sweeper all agree on what time it is.

`LOTSE_CLOCK_OFFSET_SECONDS` (read at import, so from the environment: no app exists yet) starts
the clock shifted: tests use it to tell a worker subprocess what time it is ("a day later")
without sleeping.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer

from engine.settings import setting

_start_offset = timedelta(seconds=setting("CLOCK_OFFSET_SECONDS"))
_offset = _start_offset
_frozen: datetime | None = None


class _PrivateClock:
    """A stopped clock of one context (thread) only: a process test moves it while the server's clock runs on."""

    def __init__(self, at: datetime):
        self.at = at.astimezone(timezone.utc)


_private: ContextVar[_PrivateClock | None] = ContextVar("lotse_private_clock", default=None)


@contextmanager
def private(at: datetime):
    """Inside the block, this context's clock stands at `at` and moves only with `advance`/`freeze`;
    other threads (the server's requests, the sweeper) keep the shared clock."""
    token = _private.set(_PrivateClock(at))
    try:
        yield
    finally:
        _private.reset(token)


def now() -> datetime:
    """The current time, aware, in UTC."""
    own = _private.get()
    if own is not None:
        return own.at
    if _frozen is not None:
        return _frozen + _offset
    return datetime.now(timezone.utc) + _offset


def advance(delta: timedelta) -> datetime:
    """Move time forward (tests and the `lotse` demo only)."""
    global _offset
    own = _private.get()
    if own is not None:
        own.at += delta
        return own.at
    _offset += delta
    return now()


def freeze(at: datetime | None = None) -> datetime:
    """Stop the clock at `at` (default: now) so time only moves with `advance`."""
    global _frozen, _offset
    own = _private.get()
    if own is not None:
        own.at = (at or own.at).astimezone(timezone.utc)
        return own.at
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


# --- reading a deadline ------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def local_date(value: datetime) -> date:
    """The calendar day `value` falls on in Berlin (a naive value is taken as Berlin time)."""
    return (value if value.tzinfo else value.replace(tzinfo=BERLIN)).astimezone(BERLIN).date()


def end_of_day(day: date) -> datetime:
    """The last moment of `day` in Berlin, in UTC: "register by 20 December" is due then."""
    return datetime.combine(day, time.max, BERLIN).astimezone(timezone.utc)


def deadline_instant(value) -> datetime:
    """The moment a deadline or timer value means, aware UTC.

    A date without a time ('2026-12-20', a `date`) is due at the end of that day in Berlin;
    a date-time without an offset is Berlin time. Due dates, timers and notices all read
    values through here, so they agree.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return end_of_day(value)
    else:
        text = str(value).strip()
        try:
            return end_of_day(date.fromisoformat(text))
        except ValueError:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=BERLIN)).astimezone(timezone.utc)


# --- showing a moment to people ------------------------------------------------------------------------

# English month abbreviations, spelled out rather than `%b`, which follows the server's LC_TIME.
_MONTHS_EN = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_day(value: date, language: str) -> str:
    """'06.12.2026' (de) / '6 Dec 2026' (en)."""
    if language == "en":
        return f"{value.day} {_MONTHS_EN[value.month]} {value.year}"
    return f"{value.day:02d}.{value.month:02d}.{value.year}"


def format_local(value: datetime, language: str) -> str:
    """A moment in Berlin time as pages and mails show it: '06.12.2026, 15:00' (de) / '6 Dec 2026, 15:00' (en).
    Formatted field by field, without strftime: a page formats a few hundred."""
    local = value.astimezone(BERLIN)
    return f"{format_day(local, language)}, {local.hour:02d}:{local.minute:02d}"
