"""Template filters of the workspace (priority in words, process content translated); dates are web/dates.py's."""
from __future__ import annotations

from typing import NamedTuple

from jinja2 import pass_context

from engine.i18n import N_
from web.advisor import bp
from web.dates import dates


PRIORITY_WORDS = {"high": N_("hoch"), "normal": N_("normal"), "low": N_("niedrig")}


@bp.app_template_filter("priority_label")
@pass_context
def priority_label(context, value: int | None) -> str:
    return (context.get("dates") or dates()).gettext(PRIORITY_WORDS[priority_class(value)])


class PriorityView(NamedTuple):
    """A priority as the badge shows it (the `priority_badge` macro)."""
    value: int
    css: str          # "high" | "normal" | "low"
    label: str        # the word, translated
    title: str        # "Priorität 70"


def priority_view(value: int | None, gettext) -> PriorityView:
    css = priority_class(value)
    return PriorityView(value, css, gettext(PRIORITY_WORDS[css]), f"{gettext('Priorität')} {value}")


@bp.app_template_filter("priority_view")
@pass_context
def _priority_view(context, value: int | None) -> PriorityView:
    return priority_view(value, (context.get("dates") or dates()).gettext)


@bp.app_template_filter("priority_class")
def priority_class(value: int | None) -> str:
    value = 50 if value is None else value
    return "high" if value >= 70 else "low" if value <= 30 else "normal"


@bp.app_template_filter("tr")
@pass_context
def tr(context, text: str | None) -> str:
    """Process content (task titles, process and element names) through the catalogs; unknown stays as is."""
    return (context.get("dates") or dates()).gettext(text) if text else ""
