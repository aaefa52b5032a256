"""Every date and time shown to people in the web pages: here, and nowhere else in web/.

Absolute dates come from `engine.clock.format_local` (mails use it too): '06.12.2026, 15:00' (de),
'6 Dec 2026, 15:00' (en), Berlin time, 4-digit years. Relative ones ('in 3 Tagen', 'vor 2 Stunden')
from `Dates.relative`. Babel's `format_datetime`/`format_timedelta` do locale work on every call and
a 50-row inbox formats hundreds of dates: `Dates` is made once per request (language, now, today's
bounds, the catalog) and caches the relative texts it made. The Jinja filters below are the templates'
way in.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import NamedTuple

from babel.dates import format_skeleton
from flask import g
from jinja2 import pass_context
from flask_babel import format_datetime, get_locale, get_translations, ngettext
from markupsafe import Markup

from engine import clock
from engine.i18n import N_
from engine.inbox import day_bounds
from web.templating import escape_text

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400), ("day", 86400),
          ("hour", 3600), ("minute", 60))
# A unit is used from 1.1 of it on (Babel's threshold), the minute always; weeks, months and years from 2 of
# them on, so that a count of them is never a gap rounded down by days ("in 1 Woche" for 10 days).
_THRESHOLDS = tuple((unit, size, 0 if unit == "minute" else size * (2 if unit in ("year", "month", "week") else 1.1))
                    for unit, size in _UNITS)


def _relative_text(unit, n, future, ngettext=ngettext):
    """"in 3 Tagen" (`future`) or "vor 3 Tagen". One literal ngettext call per text (for pybabel extract);
    only the one asked for runs."""
    if unit == "year":
        return (ngettext("in %(num)s Jahr", "in %(num)s Jahren", n) if future
                else ngettext("vor %(num)s Jahr", "vor %(num)s Jahren", n))
    if unit == "month":
        return (ngettext("in %(num)s Monat", "in %(num)s Monaten", n) if future
                else ngettext("vor %(num)s Monat", "vor %(num)s Monaten", n))
    if unit == "week":
        return (ngettext("in %(num)s Woche", "in %(num)s Wochen", n) if future
                else ngettext("vor %(num)s Woche", "vor %(num)s Wochen", n))
    if unit == "day":
        return (ngettext("in %(num)s Tag", "in %(num)s Tagen", n) if future
                else ngettext("vor %(num)s Tag", "vor %(num)s Tagen", n))
    if unit == "hour":
        return (ngettext("in %(num)s Stunde", "in %(num)s Stunden", n) if future
                else ngettext("vor %(num)s Stunde", "vor %(num)s Stunden", n))
    return (ngettext("in %(num)s Minute", "in %(num)s Minuten", n) if future
            else ngettext("vor %(num)s Minute", "vor %(num)s Minuten", n))


_BADGES = {"overdue": N_("überfällig"), "today": N_("heute")}


class DueView(NamedTuple):
    """A due date as `due_html` shows it."""
    state: str          # "overdue" | "today" | ""
    badge: str          # the state's word, translated ("" without a state)
    iso: str
    relative: str
    absolute: str


class Dates:
    def __init__(self, now: datetime | None = None):
        self.now = now or clock.now()
        self.language = str(get_locale() or "de")[:2]
        _start, self.tomorrow, self.week_end = day_bounds(self.now)
        self._relative: dict = {}
        catalog = get_translations()                  # one catalog lookup per request, not per string
        self.gettext = catalog.ugettext
        self._ngettext = lambda singular, plural, n: catalog.ungettext(singular, plural, n) % {"num": n}

    def at(self, now: datetime | None) -> "Dates":
        """These Dates, or others for another moment (a page may pass the `now` it read its data at)."""
        return self if now is None or abs((now - self.now).total_seconds()) < 5 else Dates(now)

    def absolute(self, value: datetime | None) -> str:
        return "" if value is None else clock.format_local(value, self.language)

    def day(self, value: date) -> str:
        return clock.format_day(value, self.language)

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
                    text = self._relative[key] = _relative_text(unit, key[1], seconds > 0, self._ngettext)
                return text
        return ""

    def due(self, value: datetime | None) -> DueView | None:
        if value is None:
            return None
        state = self.due_state(value)
        badge = self.gettext(_BADGES[state]) if state else ""
        return DueView(state, badge, value.isoformat(), self.relative(value), self.absolute(value))

    def due_state(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if value < self.now:
            return "overdue"
        return "today" if value < self.tomorrow else ""


def due_html(d: DueView | None, empty: str = "—") -> Markup:
    """A due date's badge, or `empty` without one: the one renderer of it, for the pages (the `due` macro) and
    the inbox rows (web.advisor.rows, once per row; a macro call a row cost more than the rest of the row)."""
    if not d:
        return Markup(f'<span class="muted">{escape_text(empty)}</span>')
    state = d.state
    badge = f'<strong class="badge badge--{state}">{escape_text(d.badge)}</strong> ' if state else ""
    return Markup(f'<span class="due{" due--" + state if state else ""}">{badge}'
                  f'<time datetime="{escape_text(d.iso)}">{escape_text(d.relative)}</time>\n'
                  f'  <span class="due__abs">{escape_text(d.absolute)}</span>\n</span>')


def dates() -> Dates:
    """The request's Dates (one per request)."""
    if "_lotse_dates" not in g:
        g._lotse_dates = Dates()
    return g._lotse_dates


# --- the templates' filters -------------------------------------------------------------------------
# Each reads the render's Dates from the template context (`dates`, put there once per render by
# `register`), which is cheaper than the request-global lookup for each of a page's few hundred dates.

def _at(now: datetime | None, request_dates: Dates | None = None) -> Dates:
    return (request_dates or dates()).at(now)


def day_and_month(value: datetime | None, language: str) -> str:
    """A due day, short, for the employer portal: '12. März' (de), 'Mar 12' (en), Berlin time."""
    if value is None:
        return ""
    return format_skeleton("MMMd", value.astimezone(clock.BERLIN), locale=language)


def long_day(value: datetime | date | None, language: str) -> str:
    """A day with the month's name in any of the worker languages: '12. März 2027', '12 March 2027', Arabic …"""
    if value is None:
        return ""
    day = value.astimezone(clock.BERLIN).date() if isinstance(value, datetime) else value
    return format_skeleton("yMMMMd", day, locale=language)


def camunda_time(moment: datetime) -> str:
    """Camunda's REST date format (the external-task API): 2026-12-06T16:34:42.000+0000."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def local_datetime(value: datetime | None) -> str:
    """'06.12.2026, 15:00' (de) / '6 Dec 2026, 15:00' (en), Berlin time."""
    return dates().absolute(value)


def _full(value: datetime) -> str:
    return format_datetime(value.astimezone(clock.BERLIN).replace(tzinfo=None), "full")


@pass_context
def _dt(context, value: datetime | None, fmt: str = "medium") -> str:
    """As `local_datetime`; `fmt="full"` spells the weekday and month out (Babel's full format)."""
    if value is None:
        return ""
    return _full(value) if fmt == "full" else (context.get("dates") or dates()).absolute(value)


@pass_context
def _relative_to(context, value: datetime | None, now: datetime | None = None) -> str:
    """'in 3 Tagen' / 'vor 2 Stunden'; 'gerade eben' within a minute (from `now`, by default the request's)."""
    return "" if value is None else _at(now, context.get("dates")).relative(value)


@pass_context
def _due_state(context, value: datetime | None, now: datetime | None = None) -> str:
    """'overdue', 'today' or '' for a due date."""
    return "" if value is None else _at(now, context.get("dates")).due_state(value)


@pass_context
def _local_datetime(context, value: datetime | None) -> str:
    return (context.get("dates") or dates()).absolute(value)


def iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


FILTERS = {"local_datetime": _local_datetime, "dt": _dt, "relative_to": _relative_to, "due_state": _due_state,
           "iso": iso}


def register(app) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["due_html"] = due_html
    app.context_processor(lambda: {"dates": dates()})
