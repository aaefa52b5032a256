"""Quartz cron expressions, as Camunda 7 writes timer cycles (`0 0 9 * * ?`), read with croniter.

Quartz has 6 or 7 fields (seconds first, an optional year last), `?` for "no specific value",
and numbers its weekdays 1 (Sunday) to 7 (Saturday). croniter (pinned, the library rq's scheduler
uses too) reads seconds-first expressions; `quartz_to_croniter` turns the rest into its reading.
Times are Berlin time, where the Welcome Centers are.
"""
import re
from datetime import datetime

from croniter import croniter

from engine import clock

QUARTZ = re.compile(r"^[\d*?/,LW#A-Za-z-]+(?:\s+[\d*?/,LW#A-Za-z-]+){5,6}$")


class CronError(ValueError):
    pass


def is_quartz(text: str) -> bool:
    return bool(QUARTZ.match((text or "").strip()))


def _weekdays(field: str) -> str:
    """Quartz weekday numbers (1 = Sunday … 7 = Saturday) as croniter's (0 = Sunday … 6 = Saturday)."""
    return re.sub(r"(?<![/#\d])([1-7])(?![\d])", lambda m: str(int(m.group(1)) - 1), field)


def quartz_to_croniter(text: str) -> str:
    fields = text.split()
    if len(fields) not in (6, 7):
        raise CronError(f"the cron cycle {text!r} needs 6 or 7 fields (seconds minutes hours day-of-month month "
                        "day-of-week [year])")
    if len(fields) == 7 and fields[6] not in ("*", "?"):
        raise CronError(f"the cron cycle {text!r} names years ({fields[6]}); Lotse's cycles repeat every year")
    seconds, minutes, hours, day, month, weekday = fields[:6]
    day, weekday = ("*" if day == "?" else day), ("*" if weekday == "?" else _weekdays(weekday))
    expression = " ".join([seconds, minutes, hours, day, month, weekday])
    try:
        croniter(expression, second_at_beginning=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise CronError(f"the cron cycle {text!r} cannot be read: {exc}") from None
    return expression


def next_after(text: str, after: datetime) -> datetime:
    """The first time after `after` that the Quartz expression names, aware UTC."""
    local = after.astimezone(clock.BERLIN)
    found = croniter(quartz_to_croniter(text), local, second_at_beginning=True).get_next(datetime)
    return found.astimezone(clock.now().tzinfo)
