"""The worker's language: the pages' locale, text direction, and English where a text is missing.

Worker pages speak the languages of `engine.worker_links.WORKER_LANGUAGES`. The locale is, in this
order: the choice stored in the session, `?lang=` (every personal link carries the language the
advisor chose), the language of the session's link, the browser's `Accept-Language`, English.

A text without a translation in the worker's language is shown in English (from the English catalog,
or from the process's own English text), never as a message id, and the page says so
(`g.worker_missing_translation`, set by `text`).
"""
from __future__ import annotations

from datetime import datetime

from flask import g, request, session
from flask_babel import get_translations, force_locale
from jinja2 import pass_context
from markupsafe import Markup

from engine.worker_links import RIGHT_TO_LEFT, WORKER_LANGUAGES
from web.worker import bp

SESSION_LANGUAGE = "worker_language"


def locale() -> str:
    for choice in (session.get(SESSION_LANGUAGE), request.args.get("lang"),
                   getattr(getattr(g, "worker", None), "link", None) and g.worker.link.language,
                   g.get("closed_language")):
        if choice in WORKER_LANGUAGES:
            return choice
    return request.accept_languages.best_match(WORKER_LANGUAGES) or "en"


def direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def _english_catalog():
    if "worker_english" not in g:
        with force_locale("en"):
            g.worker_english = get_translations()
    return g.worker_english


def note_missing() -> None:
    g.worker_missing_translation = True


def text(msgid: str, **variables) -> str:
    """`msgid` (German) in the worker's language; English, noted as missing, where it has no translation."""
    language = locale()
    if language == "de":
        found = msgid
    else:
        catalog = get_translations()
        found = catalog._catalog.get(msgid) if language != "en" else None
        if not found:
            found = _english_catalog()._catalog.get(msgid) or msgid
            if language != "en":
                note_missing()
    return found % variables if variables else found


@bp.context_processor
def _worker_texts():
    """Worker templates translate through `text` (English where a translation is missing), not the
    app's `_`, and know their language and direction."""
    @pass_context
    def gettext(context, msgid, **variables):
        translated = text(msgid)
        if context.eval_ctx.autoescape:
            translated = Markup(translated)
        return translated % variables if variables else translated
    language = locale()
    return {"_": gettext, "gettext": gettext, "page_language": language, "page_direction": direction(language),
            "worker_languages": WORKER_LANGUAGES}


@bp.app_template_global()
def worker_date(value) -> str:
    """A date in the worker's locale, with the month's name ("12. März 2027", "12 March 2027", Arabic …)."""
    from babel.dates import format_skeleton
    from web.filters import BERLIN
    if value is None:
        return ""
    day = value.astimezone(BERLIN).date() if isinstance(value, datetime) else value
    return format_skeleton("yMMMMd", day, locale=locale())
