"""Server-side rendering of form-js forms (see `engine.forms`) as accessible, plain HTML.

`render_form` turns a `FormDefinition` plus values and errors into Markup that works without
JavaScript: a label for every input, descriptions and errors tied to inputs with
`aria-describedby`, `aria-invalid` on fields in error, an error summary at the top linking to
the fields (GOV.UK / BITV style), radios and checklists in a fieldset with a legend, and the
user's typed values kept on re-render. Conditionally hidden components are rendered with the
`hidden` attribute and `data-hide` (the FEEL expression), so `static/dist/form-conditionals.js`
(built from assets/form-conditionals.js) can toggle them live with form-js's own FEEL (feelin);
the server stays the authority (see `engine.forms.validate_submission`).

The markup goes inside the page's own `<form>` (which adds the CSRF token and the buttons;
give it `novalidate` so browsers leave the messages to the server). Everything is escaped by
Jinja2's autoescape. Texts (labels, descriptions, messages) go through Flask-Babel's gettext
when an app with Babel is active; outside a request they fall back to German (the default).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

from engine.forms import (CHOICE_TYPES, MESSAGES, Component, FeelError, FormDefinition, FormMessage,
                          TRUE_STRINGS, compile_expression, evaluate, option_token, read_submitted,
                          submission_state)
from engine.i18n import N_

__all__ = ["render_form", "build_view", "message_text", "translate_errors", "ui_text", "render_markdown",
           "template_environment", "TEMPLATE_DIR", "SCRIPT_PATH"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
SCRIPT_PATH = "dist/form-conditionals.js"  # relative to web/static; built from assets/



# UI strings of the rendered form: code -> (English message id, German default)
UI_TEXTS: dict[str, tuple[str, str]] = {
    "error_summary_title": (N_("There is a problem"), "Es gibt ein Problem"),
    "error_prefix": (N_("Error:"), "Fehler:"),
    "required_hint": (N_("Fields marked with * are required."), "Mit * markierte Felder sind Pflichtfelder."),
    "required_sr": (N_("(required)"), "(Pflichtfeld)"),
    "select_placeholder": (N_("Please select"), "Bitte auswählen"),
    "form_error": (N_("The form could not be saved."), "Das Formular konnte nicht gespeichert werden."),
}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.validateLink = lambda url: not re.match(r"^\s*(javascript|vbscript|file|data):", url, re.I)  # type: ignore[method-assign]


def _image_or_link(self, tokens, idx, options, env):
    """An image from another host would load as the page opens (a tracking pixel): it becomes a link
    with its alt text. Images of Lotse's own origin (a relative URL) stay images."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    if not re.match(r"^\s*([a-z][a-z0-9+.-]*:|[/\\]{2})", src, re.I):
        return self.image(tokens, idx, options, env)
    text = self.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escapeHtml(src)}" rel="noreferrer">{escapeHtml(text)}</a>'


_md.add_render_rule("image", _image_or_link)


# --------------------------------------------------------------------------- language

def _gettext(text: str, **params: Any) -> str:
    """flask_babel.gettext when an app with Babel is active, plain formatting otherwise."""
    try:
        from flask_babel import gettext
        return gettext(text, **params)
    except Exception:  # no app, app without Babel, broken catalog: never fail a page for it
        return text % params if params else text


def _language() -> str:
    try:
        from flask_babel import get_locale
        loc = get_locale()
    except Exception:
        loc = None
    return loc.language if loc is not None else "de"


def _pick(pair: tuple[str, str], params: Mapping[str, Any] | None = None) -> str:
    english, german = pair
    params = dict(params or {})
    source = english % params if params else english
    translated = _gettext(english, **params)
    if translated == source and _language() == "de":
        return german % params if params else german  # no German catalog entry (yet)
    return translated


def ui_text(code: str) -> str:
    """A UI string of the form renderer in the current language (German by default)."""
    return _pick(UI_TEXTS[code])


def message_text(message: Any) -> str:
    """A validation message (FormMessage from engine.forms, or any string) in the current language."""
    if isinstance(message, FormMessage):
        return _pick(MESSAGES.get(message.code, MESSAGES["invalid"]), message.params)
    return _gettext(str(message)) if message else ""


def translate_errors(errors: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """{key: [FormMessage]} (as from validate_submission) -> {key: [text in the current language]}."""
    out: dict[str, list[str]] = {}
    for key, msgs in (errors or {}).items():
        if isinstance(msgs, (str, FormMessage)) or not isinstance(msgs, (list, tuple)):
            msgs = [msgs]
        out[key] = [message_text(m) for m in msgs if m]
    return out


def _catalog_label(text: str) -> str:
    """Form labels go through the catalogs too (unknown ones come back unchanged)."""
    return _gettext(text) if text else ""


# --------------------------------------------------------------------------- markdown

_TEMPLATE_RE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.S)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _fill_template(text: str, data: Mapping[str, Any]) -> str:
    """Replace `{{ expr }}` (FEEL subset) by its value, escaped for Markdown; leave the rest."""
    def repl(m: re.Match) -> str:
        expr = m.group(1)
        if not expr or expr[0] in "#/":
            return m.group(0)  # block helpers ({{#if}}, {{#loop}}) are not supported: keep as written
        try:
            value = compile_expression(expr).evaluate(data)
        except FeelError:
            return m.group(0)
        return _MD_SPECIAL.sub(r"\\\1", _plain(value))
    return _TEMPLATE_RE.sub(repl, text)


def render_markdown(text: str, data: Mapping[str, Any] | None = None) -> Markup:
    """Markdown to HTML with raw HTML disabled (escaped) and script links refused."""
    if data is not None:
        text = _fill_template(text, data)
    return Markup(_md.render(text or ""))


# --------------------------------------------------------------------------- view model

def _html_id(prefix: str, name: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", prefix + name)


def _display(comp: Component, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_display(comp, v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()[:16] if comp.subtype == "datetime" else value.isoformat()[:10] if comp.subtype == "date" else str(value)
    return str(value)


def _selected_tokens(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, (list, tuple, set)):
        return {option_token(v).strip() if isinstance(v, str) else option_token(v) for v in value}
    return {value.strip() if isinstance(value, str) else option_token(value)}


def _is_checked(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in TRUE_STRINGS


def build_view(definition: FormDefinition, values: Any = None, errors: Mapping | None = None,
               readonly: bool = False, prefix: str = "", context: Mapping | None = None,
               submitted: bool | None = None, translate: Callable[[str], str] | None = None) -> dict:
    """The template's view model: a dict with `components` (nested), `summary`, `text`, ...

    values: the form's values -- a submission (request.form / MultiDict, or a dict with
    `submitted=True`: shown exactly as typed, absent checkboxes unchecked) or typed data (task
    data: absent fields show their defaultValue). context: case data for conditions, text
    templates and `valuesKey` options (defaults to `values` when those are typed data).
    translate: the form's texts (labels, descriptions, options, text blocks) in the reader's language;
    by default through the catalogs (the worker's pages pass the process's own translations).
    """
    _label = translate or _catalog_label
    if submitted is None:
        submitted = hasattr(values, "getlist")
    values = values if values is not None else {}
    texts = {code: ui_text(code) for code in UI_TEXTS}
    messages = translate_errors(errors)

    if submitted:
        state = submission_state(definition, values, context, prefix)

        def raw(comp: Component):
            v = read_submitted(values, prefix + comp.key, comp.multiple)
            if v is None and prefix:
                v = read_submitted(values, comp.key, comp.multiple)
            return v
    else:
        typed = dict(values) if isinstance(values, Mapping) else {}
        state = evaluate(definition, typed, context if context is not None else typed)

        def raw(comp: Component):
            return typed[comp.key] if comp.key in typed else comp.default

    summary: list[dict] = []
    used_keys: set[str] = set()
    has_required = False

    def field_view(comp: Component) -> dict:
        nonlocal has_required
        hidden = state.is_hidden(comp)
        name_for_id = comp.key if comp.is_input else comp.id
        hid = _html_id(prefix, name_for_id)
        v: dict[str, Any] = {
            "type": comp.type, "component_id": comp.id, "key": comp.key, "id": hid, "focus_id": hid,
            "t": texts,
            # the attribute marks what the component's own condition hides (a hidden group hides
            # its children anyway, and the live script must be able to show them with the group)
            "hidden": hidden and (comp.parent is None or not state.is_hidden(comp.parent) or comp.hide is not None),
            "hide_expr": ("=" + comp.hide.source) if comp.hide is not None else "",
            # the live script evaluates only conditions on the form's own fields (it has no case data)
            "hide_live": comp.hide is not None and comp.hide.names <= definition.fields.keys(),
            "label": _label(comp.label), "description": _label(comp.description),
            "hint_id": hid + "-hint", "error_id": hid + "-error",
            "errors": [], "children": [], "options": [], "value": "", "checked": False,
            "required": False, "readonly": False, "prefix_adorner": "", "suffix_adorner": "",
            "name": "", "input_type": "text", "inputmode": "", "autocomplete": "", "html": Markup(""),
            "describedby": "",
        }
        if comp.type == "group":
            v["children"] = [field_view(ch) for ch in comp.children]
            return v
        if comp.type == "text":
            if comp.text_expr is not None:
                v["html"] = render_markdown(_MD_SPECIAL.sub(r"\\\1", _plain(comp.text_expr.evaluate(state.data))))
            else:
                v["html"] = render_markdown(_label(comp.text), state.data)   # the catalogs hold form texts too
            return v
        if not comp.is_input:
            return v

        is_ro = readonly or comp.key in state.readonly_keys
        v["readonly"] = is_ro
        v["required"] = comp.required and not is_ro
        has_required = has_required or (v["required"] and not hidden)
        v["name"] = prefix + comp.key
        v["errors"] = messages.get(comp.key, []) if not is_ro else []
        if comp.key in messages:
            used_keys.add(comp.key)
        value = raw(comp)
        if comp.type in CHOICE_TYPES:
            chosen = _selected_tokens(value)
            opts = state.options.get(comp.key) or []
            v["options"] = [{"id": f"{hid}-{i}", "value": o.token, "label": _label(o.label),
                             "json": "" if isinstance(o.value, str) else json.dumps(o.value),
                             "selected": o.token in chosen} for i, o in enumerate(opts)]
            if comp.type != "select" and v["options"]:
                v["focus_id"] = v["options"][0]["id"]
        elif comp.type == "checkbox":
            v["checked"] = _is_checked(value)
        else:
            v["value"] = value if (submitted and isinstance(value, str)) else _display(comp, value)
        if comp.type == "textfield":
            v["input_type"] = {"email": "email", "phone": "tel"}.get(comp.validation_type or "", "text")
            v["autocomplete"] = {"email": "email", "phone": "tel"}.get(comp.validation_type or "", "")
        elif comp.type == "number":
            v["input_type"] = "text"  # type=number would drop what the user typed if it is not a number
            v["inputmode"] = "numeric" if comp.decimal_digits == 0 else "decimal"
        elif comp.type == "datetime":
            v["input_type"] = {"date": "date", "time": "time"}.get(comp.subtype or "date", "datetime-local")
        if comp.type in ("textfield", "number"):
            v["prefix_adorner"], v["suffix_adorner"] = comp.prefix_adorner, comp.suffix_adorner
        described = []
        if v["prefix_adorner"]:
            described.append(hid + "-prefix")
        if v["suffix_adorner"]:
            described.append(hid + "-suffix")
        if v["description"]:
            described.append(v["hint_id"])
        if v["errors"]:
            described.append(v["error_id"])
            if not hidden:
                for msg in v["errors"]:
                    summary.append({"href": "#" + v["focus_id"],
                                    "text": f"{v['label'] or comp.key}: {msg}" if v["label"] or comp.key else msg})
        v["describedby"] = " ".join(described)
        return v

    components = [field_view(c) for c in definition.top]
    for key, msgs in messages.items():  # errors that belong to no visible field
        if key not in used_keys:
            for msg in msgs:
                summary.append({"href": "", "text": msg})
    return {"form_id": definition.id, "components": components, "summary": summary, "text": texts,
            "has_required": has_required and not readonly, "readonly": readonly, "prefix": prefix,
            "summary_id": _html_id(prefix, "error-summary")}


# --------------------------------------------------------------------------- rendering

_env: Environment | None = None


def template_environment() -> Environment:
    """The renderer's own Jinja2 environment (autoescape on, strict undefined)."""
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return _env


def render_form(definition: FormDefinition, values: Any = None, errors: Mapping | None = None,
                readonly: bool = False, prefix: str = "", context: Mapping | None = None,
                submitted: bool | None = None, translate: Callable[[str], str] | None = None) -> Markup:
    """The form's fields as accessible HTML (no <form> element, no CSRF token, no buttons)."""
    view = build_view(definition, values, errors, readonly, prefix, context, submitted, translate)
    template = template_environment().get_template("forms/form.html")
    return Markup(template.render(view=view))
