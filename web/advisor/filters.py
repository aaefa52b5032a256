"""Template filters of the workspace (dates relative and absolute, due state, priority in words)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import format_datetime, format_timedelta, gettext as _

from engine import clock
from engine.inbox import day_bounds
from web.advisor import bp
from web.filters import BERLIN
from web.advisor.display import dates


@bp.app_template_filter("due_state")
def due_state(value: datetime | None, now: datetime | None = None) -> str:
    """'overdue', 'today' or '' for a due date."""
    if value is None:
        return ""
    if now is None:
        return dates().due_state(value)
    if value < now:
        return "overdue"
    _start, tomorrow, _week = day_bounds(now)
    return "today" if value < tomorrow else ""


@bp.app_template_filter("ago")
def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    return format_timedelta((now or clock.now()) - value, threshold=1.1)


@bp.app_template_filter("relative_to")
def relative_to(value: datetime | None, now: datetime | None = None) -> str:
    """'in 3 Tagen' / 'vor 2 Stunden'; 'gerade eben' within a minute."""
    if value is None:
        return ""
    if now is None or abs((now - dates().now).total_seconds()) < 5:
        return dates().relative(value)
    delta = value - now
    if abs(delta.total_seconds()) < 60:
        return _("gerade eben")
    return format_timedelta(delta, add_direction=True, threshold=1.1)


@bp.app_template_filter("dt")
def dt(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time in Berlin time: '30.11.2026, 14:05' (de) / 'Nov 30, 2026, 2:05 PM' (en)."""
    if value is None:
        return ""
    if fmt == "full":
        return format_datetime(value.astimezone(BERLIN).replace(tzinfo=None), "full")
    return dates().absolute(value)


@bp.app_template_filter("priority_label")
def priority_label(value: int | None) -> str:
    value = 50 if value is None else value
    if value >= 70:
        return _("hoch")
    if value <= 30:
        return _("niedrig")
    return _("normal")


@bp.app_template_filter("priority_class")
def priority_class(value: int | None) -> str:
    value = 50 if value is None else value
    return "high" if value >= 70 else "low" if value <= 30 else "normal"


@bp.app_template_filter("iso")
def iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


@bp.app_template_filter("tr")
def tr(text: str | None) -> str:
    """Process content (task titles, process and element names) through the catalogs; unknown stays as is."""
    return dates().gettext(text) if text else ""
