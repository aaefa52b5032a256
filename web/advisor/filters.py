"""Template filters of the workspace (priority in words, process content translated); dates are web/dates.py's."""
from __future__ import annotations

from flask_babel import gettext as _
from jinja2 import pass_context

from web.advisor import bp
from web.dates import dates


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


@bp.app_template_filter("tr")
@pass_context
def tr(context, text: str | None) -> str:
    """Process content (task titles, process and element names) through the catalogs; unknown stays as is."""
    return (context.get("dates") or dates()).gettext(text) if text else ""
