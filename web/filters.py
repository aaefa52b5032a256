"""Jinja helpers shared by every blueprint's templates (the date filters are web/dates.py's)."""
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup

from engine import clock
from engine.models.statuses import CaseStatus, MailStatus, TaskStatus
from web import dates


def translations_for_render():
    """`gettext`, `ngettext` and `_` bound to the request's catalog for one render.

    They shadow Flask-Babel's template globals, which look the catalog up again for every string
    (app context, domain, locale, cache), and a page has dozens. `_` is `gettext` itself rather
    than Jinja's alias, which would pass each call through a second `Context.call`. Looked up per render, not per
    request, so a `force_locale` around a render still applies. Jinja's newstyle semantics: the text
    is autoescaped, then formatted with `%` and the keyword arguments (escaped in turn).
    """
    catalog = get_translations()

    @pass_context
    def gettext(context, string, **variables):
        text = catalog.ugettext(string)
        if not variables and "%" not in text:
            # nothing to format: Markup's `%` would still wrap the empty dict for escaping
            return Markup(text) if context.eval_ctx.autoescape else text
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = catalog.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def register(app):
    app.context_processor(translations_for_render)
    dates.register(app)
    app.jinja_env.globals["now"] = clock.now
    # templates compare status columns with the members, as the engine does
    app.jinja_env.globals.update(CaseStatus=CaseStatus, MailStatus=MailStatus, TaskStatus=TaskStatus)
