"""Process texts on the worker's pages, in the worker's language: step titles and instructions (BPMN
properties `name:<lang>`, `documentation:<lang>`, see `engine.worker_page`) and the texts of a task's form
(the form file's `translations`: {language: {German text: translation}}). Where the process has no text
in the worker's language, its English one is shown (from the process, else from the English catalog)
and the page says so."""
from __future__ import annotations

from flask_babel import force_locale, gettext
from markupsafe import Markup

from engine import worker_page
from web.forms_html import render_form, render_markdown
from web.worker.language import locale, note_missing


def _english(text: str) -> str:
    with force_locale("en"):
        return gettext(text)


def _in_language(german: str, own: dict, english: str | None = None) -> str:
    """`own`: the process's texts by language; German is the source."""
    language = locale()
    if not german or language == "de":
        return german or ""
    if own.get(language):
        return own[language]
    if language != "en":
        note_missing()
    return english or own.get("en") or _english(german)


def worker_title(row) -> str:
    """A task row's or a `WorkerStep`'s title in the worker's language."""
    props = row.props if isinstance(row, worker_page.WorkerStep) else worker_page.task_texts(row)
    return _in_language(row.title, {key[5:]: value for key, value in props.items() if key.startswith("name:")})


def worker_documentation(row) -> Markup | None:
    if not row.documentation:
        return None
    props = worker_page.task_texts(row)
    return render_markdown(_in_language(row.documentation.strip(), {
        key[14:]: value for key, value in props.items() if key.startswith("documentation:")}))


def form_translator(definition):
    table = (definition.raw.get("translations") if definition is not None else None) or {}

    def translate(text: str) -> str:
        return _in_language(text, {language: texts.get(text) for language, texts in table.items()
                                   if isinstance(texts, dict) and texts.get(text)})
    return translate


def render_worker_form(found, *, values=None, errors=None, submitted=None) -> Markup | None:
    """The task's form in the worker's language (the same renderer, validation and accessibility as
    everywhere), read-only once the task is closed."""
    if found.definition is None:
        return None
    if values is None:
        values, submitted = (found.row.draft, True) if found.row.is_open and found.row.draft else (found.data, False)
    return render_form(found.definition, values, errors, readonly=not found.row.is_open, context=found.data,
                       submitted=submitted, translate=form_translator(found.definition))
