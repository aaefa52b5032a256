"""Validating a submission with marshmallow: one field class per form-js input type.

`validate_submission` returns typed values for the visible, editable fields and errors as
`FormMessage`s: a `str` (German default text, German being the primary language) that also
carries a `code` and `params`, so the web layer shows it in the user's language
(`web.forms_html.message_text`).
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from engine.forms.definition import CHOICE_TYPES, Component, FormDefinition, Option
from engine.forms.state import FormState, evaluate, submission_state, submission_values
from engine.forms.values import (FALSE_STRINGS, TRUE_STRINGS, number_out, option_token, parse_date,
                                 parse_number, parse_time)
from engine.i18n import N_

_MAX_TEXT = 100_000  # longest string value taken from a submission



# code -> (English message id for the catalogs, German default). Params use %(name)s.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": (N_("This field is required."), "Bitte füllen Sie dieses Feld aus."),
    "required_checkbox": (N_("Please tick this box to continue."),
                          "Bitte setzen Sie hier ein Häkchen, um fortzufahren."),
    "required_choice": (N_("Please select an option."), "Bitte wählen Sie eine Option aus."),
    "invalid": (N_("This value is not valid."), "Dieser Wert ist ungültig."),
    "not_a_number": (N_("Enter a number, for example 12 or 3.5."),
                     "Bitte geben Sie eine Zahl ein, zum Beispiel 12 oder 3,5."),
    "not_an_integer": (N_("Enter a whole number."), "Bitte geben Sie eine ganze Zahl ein."),
    "too_many_decimals": (N_("Enter a number with at most %(digits)s decimal places."),
                          "Bitte geben Sie eine Zahl mit höchstens %(digits)s Nachkommastellen ein."),
    "min": (N_("Enter a number of at least %(min)s."),
            "Bitte geben Sie eine Zahl größer oder gleich %(min)s ein."),
    "max": (N_("Enter a number of at most %(max)s."),
            "Bitte geben Sie eine Zahl kleiner oder gleich %(max)s ein."),
    "min_length": (N_("Enter at least %(min)s characters."),
                   "Bitte geben Sie mindestens %(min)s Zeichen ein."),
    "max_length": (N_("Enter at most %(max)s characters."),
                   "Bitte geben Sie höchstens %(max)s Zeichen ein."),
    "pattern": (N_("This value does not have the expected format."),
                "Dieser Wert hat nicht das erwartete Format."),
    "email": (N_("Enter an email address, for example name@example.com."),
              "Bitte geben Sie eine E-Mail-Adresse ein, zum Beispiel name@beispiel.de."),
    "phone": (N_("Enter a telephone number, for example +49 241 123456."),
              "Bitte geben Sie eine Telefonnummer ein, zum Beispiel +49 241 123456."),
    "invalid_choice": (N_("Select one of the options shown."),
                       "Bitte wählen Sie eine der angezeigten Optionen."),
    "invalid_date": (N_("Enter a real date, for example 31.12.2026."),
                     "Bitte geben Sie ein gültiges Datum ein, zum Beispiel 31.12.2026."),
    "invalid_time": (N_("Enter a time, for example 14:30."),
                     "Bitte geben Sie eine Uhrzeit ein, zum Beispiel 14:30."),
    "invalid_datetime": (N_("Enter a date and time, for example 31.12.2026 14:30."),
                         "Bitte geben Sie Datum und Uhrzeit ein, zum Beispiel 31.12.2026 14:30."),
    "date_in_past": (N_("The date must not be in the past."),
                     "Das Datum darf nicht in der Vergangenheit liegen."),
    "too_long": (N_("This value is too long."), "Dieser Wert ist zu lang."),
}


class FormMessage(str):
    """A validation message: German default text, plus `code` and `params` for translation."""

    code: str
    params: dict

    def __new__(cls, code: str, **params: Any) -> "FormMessage":
        german = MESSAGES.get(code, MESSAGES["invalid"])[1]
        obj = super().__new__(cls, german % params if params else german)
        obj.code = code
        obj.params = params
        return obj

    @property
    def english(self) -> str:
        text = MESSAGES.get(self.code, MESSAGES["invalid"])[0]
        return text % self.params if self.params else text

    def __reduce__(self):  # keep code/params through pickling/copying
        return (_rebuild_message, (self.code, self.params))


def _rebuild_message(code: str, params: dict) -> FormMessage:
    return FormMessage(code, **params)


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 ()/.\-]{4,30}$")


def _is_num(v) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _fmt_decimal(d: Decimal) -> str:
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


class _FormField(fields.Field):
    """Base: every error is a FormMessage (code + params), never a bare English string."""

    def __init__(self, comp: Component, options: list[Option] | None = None, today: date | None = None, **kw):
        self.comp = comp
        self.options = options
        self.today = today
        super().__init__(**kw)

    def make_error(self, key: str, **kwargs) -> ValidationError:
        if key == "required":
            if self.comp.type == "checkbox":
                key = "required_checkbox"
            elif self.comp.type in CHOICE_TYPES:
                key = "required_choice"
        elif key == "null":
            key = "required"
        elif key not in MESSAGES:
            key = "invalid"
        return ValidationError(FormMessage(key, **kwargs))

    def _serialize(self, value, attr, obj, **kwargs):  # pragma: no cover - load only
        return value


class TextInput(_FormField):
    def _deserialize(self, value, attr, data, **kwargs):
        c = self.comp
        if _is_num(value):
            value = str(value)
        if not isinstance(value, str):
            raise self.make_error("invalid")
        value = value.replace("\r\n", "\n").strip()
        if c.type == "textfield":
            value = value.replace("\n", " ")
        if len(value) > _MAX_TEXT:
            raise self.make_error("too_long")
        errors = []
        if c.min_length is not None and len(value) < c.min_length:
            errors.append(FormMessage("min_length", min=c.min_length))
        if c.max_length is not None and len(value) > c.max_length:
            errors.append(FormMessage("max_length", max=c.max_length))
        if c.pattern is not None and not c.pattern.search(value):
            errors.append(FormMessage("pattern"))
        if c.validation_type == "email" and not _EMAIL_RE.match(value):
            errors.append(FormMessage("email"))
        if c.validation_type == "phone" and not (_PHONE_RE.match(value)
                                                  and sum(ch.isdigit() for ch in value) >= 4):
            errors.append(FormMessage("phone"))
        if errors:
            raise ValidationError(errors)
        return value


class NumberInput(_FormField):
    def _deserialize(self, value, attr, data, **kwargs):
        c = self.comp
        try:
            d = parse_number(value)
        except (ValueError, InvalidOperation):
            raise self.make_error("not_an_integer" if c.decimal_digits == 0 else "not_a_number") from None
        decimals = max(0, -d.normalize().as_tuple().exponent) if d != 0 else 0
        if c.decimal_digits == 0 and decimals:
            raise self.make_error("not_an_integer")
        if c.decimal_digits is not None and decimals > c.decimal_digits:
            raise self.make_error("too_many_decimals", digits=c.decimal_digits)
        errors = []
        if c.min is not None and d < c.min:
            errors.append(FormMessage("min", min=_fmt_decimal(c.min)))
        if c.max is not None and d > c.max:
            errors.append(FormMessage("max", max=_fmt_decimal(c.max)))
        if errors:
            raise ValidationError(errors)
        return number_out(d, c.decimal_digits)


class CheckboxInput(_FormField):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value.strip().lower() in TRUE_STRINGS:
            result = True
        elif isinstance(value, str) and value.strip().lower() in FALSE_STRINGS:
            result = False
        else:
            raise self.make_error("invalid")
        if self.comp.required and not result:
            raise self.make_error("required")
        return result


class ChoiceInput(_FormField):
    def _match(self, value) -> Any:
        tok = option_token(value) if not isinstance(value, str) else value.strip()
        for opt in self.options or ():
            if opt.token == tok:
                return opt.value
        raise self.make_error("invalid_choice")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple, dict)):
            raise self.make_error("invalid_choice")
        return self._match(value)


class MultiChoiceInput(ChoiceInput):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise self.make_error("invalid_choice")
        out, seen = [], set()
        for item in value:
            if isinstance(item, (list, tuple, dict)):
                raise self.make_error("invalid_choice")
            v = self._match(item)
            if option_token(v) not in seen:
                seen.add(option_token(v))
                out.append(v)
        if self.comp.required and not out:
            raise self.make_error("required")
        return out


class DateTimeInput(_FormField):
    def _deserialize(self, value, attr, data, **kwargs):
        sub = self.comp.subtype
        try:
            if sub == "date":
                if isinstance(value, datetime):
                    raise ValueError(value)
                d = value if isinstance(value, date) else parse_date(value) if isinstance(value, str) else None
                if d is None:
                    raise ValueError(value)
                result, day = d.isoformat(), d
            elif sub == "time":
                t = value if isinstance(value, time) else parse_time(value) if isinstance(value, str) else None
                if t is None:
                    raise ValueError(value)
                result, day = t.strftime("%H:%M"), None
            else:
                if isinstance(value, datetime):
                    dt = value
                elif isinstance(value, str):
                    s = value.strip()
                    parts = re.split(r"[T ]", s, maxsplit=1)
                    if len(parts) != 2:
                        raise ValueError(value)
                    tpart = re.sub(r"(Z|[+-]\d{2}:?\d{2})$", "", parts[1])
                    dt = datetime.combine(parse_date(parts[0]), parse_time(tpart))
                else:
                    raise ValueError(value)
                result, day = dt.strftime("%Y-%m-%dT%H:%M"), dt.date()
        except (ValueError, TypeError):
            raise self.make_error({"date": "invalid_date", "time": "invalid_time"}.get(sub, "invalid_datetime")) from None
        if self.comp.disallow_passed_dates and day is not None and day < (self.today or date.today()):
            raise self.make_error("date_in_past")
        return result


_FIELD_CLASSES = {
    "textfield": TextInput, "textarea": TextInput, "number": NumberInput, "checkbox": CheckboxInput,
    "radio": ChoiceInput, "select": ChoiceInput, "checklist": MultiChoiceInput, "taglist": MultiChoiceInput,
    "datetime": DateTimeInput,
}


def _empty_default(comp: Component):
    if comp.type == "checkbox":
        return False
    if comp.multiple:
        return list
    return None


def build_schema(definition: FormDefinition, state: FormState | None = None, *,
                 context: Mapping | None = None, values: Mapping | None = None,
                 today: date | None = None) -> Schema:
    """A marshmallow Schema (instance, unknown keys excluded) for the editable, visible fields.

    Pass a `FormState` from `evaluate`, or `context`/`values` to compute one. It loads a
    dict of submitted values (strings or typed JSON values) as produced by `submission_values`;
    missing optional fields load as None / False (checkbox) / [] (checklist, taglist).
    """
    if state is None:
        state = evaluate(definition, values, context)
    schema_fields: dict[str, fields.Field] = {}
    for index, (key, comp) in enumerate(definition.fields.items()):
        if not state.is_editable(comp):
            continue
        cls = _FIELD_CLASSES[comp.type]
        # attribute names never clash with Schema's own (a key may well be "load" or "fields")
        kw: dict[str, Any] = {"required": comp.required, "data_key": key, "attribute": key}
        if not comp.required:
            kw["load_default"] = _empty_default(comp)
        schema_fields[f"field_{index}"] = cls(comp, options=state.options.get(key), today=today, **kw)
    schema_cls = Schema.from_dict(schema_fields, name=f"Form_{definition.id or 'anonymous'}")
    return schema_cls(unknown=EXCLUDE)


_SCHEMAS_PER_FORM = 16


def _schema(definition: FormDefinition, state: FormState, today: date | None) -> Schema:
    """`build_schema`, kept on the definition (which never changes) for the fields the state leaves editable and
    their options: building a schema class costs several times loading a submission with it."""
    editable = [comp for comp in definition.fields.values() if state.is_editable(comp)]
    # repr tells option values apart that compare equal (True and 1)
    key = (tuple(comp.key for comp in editable), repr([state.options.get(comp.key) for comp in editable]), today)
    schemas = definition.schemas
    schema = schemas.get(key)
    if schema is None:
        if len(schemas) >= _SCHEMAS_PER_FORM:      # options taken from case data may vary without end
            schemas.clear()
        schema = schemas[key] = build_schema(definition, state, today=today)
    return schema


def validate_submission(definition: FormDefinition, form: Any, context: Mapping | None = None,
                        prefix: str = "", today: date | None = None) -> tuple[dict, dict]:
    """Validate a submission (request.form, or a dict of strings or JSON values).

    Returns (clean_data, errors). clean_data holds a typed value for every visible, editable
    field (hidden, read-only and disabled fields are left out); errors is {key: [FormMessage]}
    and empty when the submission is valid (clean_data then holds only the valid fields).
    """
    raw = submission_values(definition, form, prefix)
    state = submission_state(definition, form, context, prefix, raw=raw)
    schema = _schema(definition, state, today)
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        errors = {}
        messages = exc.messages if isinstance(exc.messages, dict) else {"_form": exc.messages}
        for key, msgs in messages.items():
            if isinstance(msgs, dict):  # pragma: no cover - no nested schemas
                msgs = [m for sub in msgs.values() for m in (sub if isinstance(sub, list) else [sub])]
            errors[key] = [m if isinstance(m, FormMessage) else FormMessage("invalid") for m in
                           (msgs if isinstance(msgs, list) else [msgs])]
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, errors


# public names for the web layer's renderer
