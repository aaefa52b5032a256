"""What the data makes of a form: which components are hidden, which fields read-only, which
options a choice offers, decided as form-js decides it; and reading a submission into that data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import InvalidOperation
from typing import Any, Mapping

from engine.forms.definition import CHOICE_TYPES, Component, FormDefinition, Option
from engine.forms.values import TRUE_STRINGS, number_out, option_token, parse_number, read_submitted


@dataclass
class FormState:
    """What the data makes of a form: hidden components, read-only keys, options per key."""
    hidden_ids: set
    readonly_keys: set
    options: dict
    data: dict

    def is_hidden(self, comp: Component) -> bool:
        return comp.id in self.hidden_ids

    def is_editable(self, comp: Component) -> bool:
        return comp.is_input and comp.id not in self.hidden_ids and comp.key not in self.readonly_keys


def _options_from_context(comp: Component, context: Mapping) -> list[Option]:
    if comp.options is not None:
        return comp.options
    raw = context.get(comp.values_key) if comp.values_key else None
    out, seen = [], set()
    if isinstance(raw, (list, tuple)):
        for item in raw:
            if isinstance(item, Mapping) and "value" in item:
                value, label = item["value"], item.get("label")
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                value, label = item, None
            else:
                continue
            if not isinstance(value, (str, int, float, bool)) or option_token(value) in seen or value == "":
                continue
            seen.add(option_token(value))
            out.append(Option(str(value) if label in (None, "") else str(label), value))
    return out


def evaluate(definition: FormDefinition, values: Mapping | None = None,
             context: Mapping | None = None) -> FormState:
    """Decide visibility, read-only state and options.

    `context` is the case/task data; `values` are the (typed) form values, which override the
    context for the form's keys. As in form-js, components are checked in document order and a
    hidden field's value is removed from the data before later conditions are evaluated.
    Options named by `valuesKey` come from `context` only.
    """
    context = dict(context or {})
    data = dict(context)
    for key, comp in definition.fields.items():
        if values is not None and key in values:
            data[key] = values[key]
        elif key not in data:
            # as form-js: an untouched checkbox is false and an untouched checklist/taglist empty
            data[key] = comp.default if comp.default is not None else (
                False if comp.type == "checkbox" else [] if comp.multiple else None)
    hidden: set = set()
    for comp in definition.components:
        if comp.parent is not None and comp.parent.id in hidden:
            hidden.add(comp.id)
        elif comp.hide is not None and comp.hide.test(data):
            hidden.add(comp.id)
        if comp.id in hidden and comp.is_input:
            data.pop(comp.key, None)
    readonly = set()
    options = {}
    for key, comp in definition.fields.items():
        if comp.readonly or comp.disabled or (comp.readonly_expr is not None
                                               and comp.readonly_expr.test(data)):
            readonly.add(key)
        if comp.type in CHOICE_TYPES:
            options[key] = _options_from_context(comp, context)
    return FormState(hidden, readonly, options, data)


def submission_values(definition: FormDefinition, form: Any, prefix: str = "") -> dict:
    """The form's fields from a submission (MultiDict or dict), unvalidated and normalised:
    strings stripped, empty strings and empty lists left out, unknown keys ignored. Suitable to
    store as a draft and to re-render (`render_form(values=..., submitted=True)`)."""
    out: dict[str, Any] = {}
    if form is None:
        return out
    for key, comp in definition.fields.items():
        v = read_submitted(form, prefix + key, comp.multiple)
        if v is None:
            continue
        if comp.multiple:
            if isinstance(v, (str, int, float)) and not isinstance(v, bool):
                v = [v]
            if isinstance(v, (list, tuple)):
                v = [x.strip() if isinstance(x, str) else x for x in v]
                v = [x for x in v if x not in ("", None)]
                if not v:
                    continue
        elif isinstance(v, str):
            v = v.strip()
            if v == "":
                continue
        out[key] = v
    return out


def _lenient(definition: FormDefinition, raw: Mapping, today: date | None = None) -> dict:
    """Typed values where they parse, the raw value where they do not (for conditions)."""
    out = {}
    for key, comp in definition.fields.items():
        if key not in raw:
            out[key] = False if comp.type == "checkbox" else ([] if comp.multiple else None)
            continue
        v = raw[key]
        try:
            if comp.type == "number":
                out[key] = number_out(parse_number(v), None)
            elif comp.type == "checkbox":
                out[key] = v if isinstance(v, bool) else str(v).strip().lower() in TRUE_STRINGS
            elif comp.type in CHOICE_TYPES and comp.options is not None:
                tokens = {o.token: o.value for o in comp.options}
                if comp.multiple:
                    out[key] = [tokens.get(option_token(x), x) for x in (v if isinstance(v, list) else [v])]
                else:
                    out[key] = tokens.get(option_token(v), v)
            else:
                out[key] = v
        except (ValueError, InvalidOperation):
            out[key] = v
    return out


def parse_draft(definition: FormDefinition, form: Any, context: Mapping | None = None,
                prefix: str = "") -> dict:
    """Values of a submission, typed where they parse, as typed by the user where they do not."""
    raw = submission_values(definition, form, prefix)
    return {k: v for k, v in _lenient(definition, raw).items() if k in raw}


def submission_state(definition: FormDefinition, form: Any, context: Mapping | None = None,
                     prefix: str = "", raw: Mapping | None = None) -> FormState:
    """The FormState for a submission: the context overlaid with the submitted values of the
    fields the user may edit (read-only/disabled fields keep the context's value)."""
    if raw is None:
        raw = submission_values(definition, form, prefix)
    lenient = _lenient(definition, raw)
    overlay = {k: v for k, v in lenient.items()
               if not (definition.fields[k].readonly or definition.fields[k].disabled)}
    # a value that is read-only by expression is decided after a first pass
    state = evaluate(definition, overlay, context)
    if any(definition.fields[k].readonly_expr is not None for k in overlay):
        overlay = {k: v for k, v in overlay.items() if k not in state.readonly_keys}
        state = evaluate(definition, overlay, context)
    return state
