"""Fast date display for lists: absolute and relative dates without Babel's per-call locale work.

Babel's `format_datetime`/`format_timedelta` cost tens of microseconds per call; a 50-row inbox
calls them hundreds of times. `Dates` is made once per request (language, now, today's bounds)
and formats with plain strftime patterns and cached catalog strings.
"""
from __future__ import annotations

from datetime import datetime

from flask import g
from flask_babel import get_locale, ngettext

from engine import clock
from engine.inbox import day_bounds
from web.filters import BERLIN

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
          ("hour", 3600), ("minute", 60))
# A unit is used from 1.1 of it on (Babel's threshold), the minute always; weeks, months and years from 2 of
# them on, so that a count of them is never a gap rounded down by days ("in 1 Woche" for 10 days).
_THRESHOLDS = tuple((unit, size, 0 if unit == "minute" else size * (2 if unit in ("year", "month", "week") else 1.1))
                    for unit, size in _UNITS)
# English month abbreviations as Babel's "d MMM yyyy" writes them; spelled out rather than `%b`, which
# follows the server's LC_TIME.
_MONTHS_EN = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _future(unit, n, ngettext=ngettext):
    # One literal ngettext call per unit (for pybabel extract); only the one asked for runs.
    if unit == "year":
        return ngettext("in %(num)s Jahr", "in %(num)s Jahren", n)
    if unit == "month":
        return ngettext("in %(num)s Monat", "in %(num)s Monaten", n)
    if unit == "week":
        return ngettext("in %(num)s Woche", "in %(num)s Wochen", n)
    if unit == "day":
        return ngettext("in %(num)s Tag", "in %(num)s Tagen", n)
    if unit == "hour":
        return ngettext("in %(num)s Stunde", "in %(num)s Stunden", n)
    return ngettext("in %(num)s Minute", "in %(num)s Minuten", n)


def _past(unit, n, ngettext=ngettext):
    if unit == "year":
        return ngettext("vor %(num)s Jahr", "vor %(num)s Jahren", n)
    if unit == "month":
        return ngettext("vor %(num)s Monat", "vor %(num)s Monaten", n)
    if unit == "week":
        return ngettext("vor %(num)s Woche", "vor %(num)s Wochen", n)
    if unit == "day":
        return ngettext("vor %(num)s Tag", "vor %(num)s Tagen", n)
    if unit == "hour":
        return ngettext("vor %(num)s Stunde", "vor %(num)s Stunden", n)
    return ngettext("vor %(num)s Minute", "vor %(num)s Minuten", n)


class Dates:
    def __init__(self, now: datetime | None = None):
        self.now = now or clock.now()
        self.language = str(get_locale() or "de")[:2]
        _start, self.tomorrow, self.week_end = day_bounds(self.now)
        self._relative: dict = {}
        from flask_babel import get_translations
        catalog = get_translations()                  # one catalog lookup per request, not per string
        self.gettext = catalog.ugettext
        self._ngettext = lambda singular, plural, n: catalog.ungettext(singular, plural, n) % {"num": n}

    def absolute(self, value: datetime | None) -> str:
        # Formatted field by field: strftime (`f"{local:%d.%m.%Y}"`) costs twice as much, ~150 times a page.
        if value is None:
            return ""
        local = value.astimezone(BERLIN)
        if self.language == "en":
            return f"{local.day} {_MONTHS_EN[local.month]} {local.year}, {local.hour:02d}:{local.minute:02d}"
        return f"{local.day:02d}.{local.month:02d}.{local.year}, {local.hour:02d}:{local.minute:02d}"

    def relative(self, value: datetime | None) -> str:
        """As Babel's format_timedelta(threshold=1.1, add_direction=True), rounded the same way, except that
        weeks, months and years start at 2 of them (see _THRESHOLDS)."""
        if value is None:
            return ""
        seconds = (value - self.now).total_seconds()
        distance = abs(seconds)
        if distance < 60:
            return self.gettext("gerade eben")
        for unit, size, threshold in _THRESHOLDS:
            if distance >= threshold:
                key = (unit, max(1, round(distance / size)), seconds > 0)
                text = self._relative.get(key)
                if text is None:
                    text = self._relative[key] = (_future if seconds > 0 else _past)(unit, key[1], self._ngettext)
                return text
        return ""

    def due_state(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if value < self.now:
            return "overdue"
        return "today" if value < self.tomorrow else ""


def dates() -> Dates:
    """The request's Dates (one per request)."""
    if "_lotse_dates" not in g:
        g._lotse_dates = Dates()
    return g._lotse_dates
