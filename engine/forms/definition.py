"""The form-js definition model: a loaded, checked `forms/*.form` schema.

`FormDefinition` loads the JSON the form-js editor writes and refuses what Lotse cannot honour,
naming the form, the component and the problem (`FormDefinitionError`); expressions are compiled
here (`engine.feel`), so a bad one stops the deployment.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field as dc_field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from engine.feel import Expression, FeelError, compile_expression
from engine.forms.values import number_out, option_token


class FormDefinitionError(ValueError):
    """A form definition Lotse cannot use; the message names the component and the problem."""

    def __init__(self, problem: str, component_id: str | None = None, key: str | None = None,
                 component_type: str | None = None, form_id: str | None = None):
        self.problem = problem
        self.component_id = component_id
        self.key = key
        self.component_type = component_type
        self.form_id = form_id
        where = []
        if form_id:
            where.append(f"form {form_id!r}")
        if component_id or key or component_type:
            desc = f"component {component_id!r}" if component_id else "component"
            extra = ", ".join(x for x in (component_type, f"key {key!r}" if key else None) if x)
            where.append(f"{desc} ({extra})" if extra else desc)
        super().__init__((": ".join(where) + ": " if where else "") + problem)


INPUT_TYPES = frozenset({"textfield", "textarea", "number", "checkbox", "checklist", "radio",
                         "select", "datetime", "taglist"})
LAYOUT_TYPES = frozenset({"text", "group", "separator", "spacer", "button"})
CHOICE_TYPES = frozenset({"checklist", "radio", "select", "taglist"})
MULTI_TYPES = frozenset({"checklist", "taglist"})
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Option:
    label: str
    value: Any

    @property
    def token(self) -> str:
        """The string the HTML form submits for this option."""
        return option_token(self.value)




@dataclass(eq=False)
class Component:
    type: str
    id: str
    raw: dict
    key: str | None = None
    label: str = ""
    description: str = ""
    default: Any = None
    required: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern | None = None
    pattern_source: str | None = None
    validation_type: str | None = None
    options: list[Option] | None = None
    values_key: str | None = None
    hide: Expression | None = None
    readonly: bool = False
    readonly_expr: Expression | None = None
    disabled: bool = False
    subtype: str | None = None
    decimal_digits: int | None = None
    increment: str | None = None
    disallow_passed_dates: bool = False
    text: str = ""
    text_expr: Expression | None = None
    prefix_adorner: str = ""
    suffix_adorner: str = ""
    children: list["Component"] = dc_field(default_factory=list)
    parent: "Component | None" = None
    depth: int = 0

    @property
    def is_input(self) -> bool:
        return self.type in INPUT_TYPES

    @property
    def multiple(self) -> bool:
        return self.type in MULTI_TYPES

    def ancestors(self) -> Iterable["Component"]:
        p = self.parent
        while p is not None:
            yield p
            p = p.parent

    def __repr__(self) -> str:
        return f"<Component {self.type} id={self.id!r} key={self.key!r}>"


class FormDefinition:
    """A loaded, checked form-js schema.

    `components`: every component in document order (groups before their children);
    `top`: the top-level components (a group's children are in `.children`);
    `fields`: the input components by key, in document order.
    """

    def __init__(self, raw: dict):
        if not isinstance(raw, dict):
            raise FormDefinitionError("the form definition must be a JSON object")
        self.raw = raw
        self.id = str(raw.get("id") or "")
        self.schema_version = raw.get("schemaVersion")
        comps = raw.get("components")
        if not isinstance(comps, list):
            raise FormDefinitionError("the form definition has no 'components' list", form_id=self.id or None)
        self.components: list[Component] = []
        self.fields: dict[str, Component] = {}
        self._ids: dict[str, Component] = {}
        self.top = self._load_list(comps, None, 0)
        self.schemas: dict = {}     # validation's marshmallow schemas (engine.forms.validation._schema)

    # -- loading
    @classmethod
    def from_json(cls, source: "str | bytes | Mapping") -> "FormDefinition":
        """Load from JSON text (or an already parsed dict); raises FormDefinitionError."""
        if isinstance(source, (str, bytes, bytearray)):
            try:
                source = json.loads(source)
            except ValueError as exc:
                raise FormDefinitionError(f"the form definition is not valid JSON: {exc}") from None
        if isinstance(source, Mapping) and not isinstance(source, dict):
            source = dict(source)
        return cls(source)

    @classmethod
    def from_file(cls, path) -> "FormDefinition":
        with open(path, encoding="utf-8") as fh:
            try:
                return cls.from_json(fh.read())
            except FormDefinitionError as exc:
                raise FormDefinitionError(f"{path}: {exc}") from None

    def _error(self, problem: str, comp: dict | Component | None = None, **kw) -> FormDefinitionError:
        if isinstance(comp, Component):
            return FormDefinitionError(problem, comp.id, comp.key, comp.type, self.id or None)
        if isinstance(comp, dict):
            key = comp.get("key") if isinstance(comp.get("key"), str) else None
            ctype = comp.get("type") if isinstance(comp.get("type"), str) else None
            cid = comp.get("id") if isinstance(comp.get("id"), str) else kw.get("cid")
            return FormDefinitionError(problem, cid, key, ctype, self.id or None)
        return FormDefinitionError(problem, form_id=self.id or None)

    def _load_list(self, items: list, parent: Component | None, depth: int) -> list[Component]:
        if depth > 20:
            raise self._error("groups are nested too deeply", parent)
        out = []
        for index, item in enumerate(items):
            comp = self._load_component(item, parent, depth, index)
            if comp is not None:
                out.append(comp)
        return out

    def _load_component(self, raw: Any, parent: Component | None, depth: int, index: int) -> Component | None:
        where = f"{parent.id}/" if parent else ""
        if not isinstance(raw, dict):
            raise self._error(f"component #{index + 1} in {where or 'the form'} is not an object")
        ctype = raw.get("type")
        cid = raw.get("id")
        if cid is not None and not isinstance(cid, str):
            raise self._error("'id' must be a string", raw)
        if not cid:  # form-js always writes ids; make one up for hand-written files
            cid = f"{where}{ctype or 'component'}_{index + 1}" if not raw.get("key") else f"Field_{raw['key']}"
            while cid in self._ids:
                cid += "_"
        if not isinstance(ctype, str) or not ctype:
            raise self._error("component has no 'type'", raw, cid=cid)
        if ctype not in INPUT_TYPES and ctype not in LAYOUT_TYPES:
            supported = ", ".join(sorted(INPUT_TYPES | LAYOUT_TYPES))
            raise self._error(f"unknown or unsupported component type {ctype!r} (supported: {supported})",
                              raw, cid=cid)
        comp = Component(type=ctype, id=cid, raw=raw, parent=parent, depth=depth)
        if cid in self._ids:
            raise self._error(f"duplicate component id {cid!r}", comp)
        self._ids[cid] = comp
        if ctype == "button":
            return None  # the task page brings its own buttons
        self.components.append(comp)

        comp.label = self._text(raw, "label", comp)
        comp.description = self._text(raw, "description", comp)

        if ctype in INPUT_TYPES:
            self._load_input(comp, raw)
        elif ctype == "text":
            text = raw.get("text", "")
            if not isinstance(text, str):
                raise self._error("'text' must be a string", comp)
            if text.strip().startswith("="):
                try:
                    comp.text_expr = compile_expression(text)
                except FeelError as exc:
                    raise self._error(f"text expression {text!r}: {exc}", comp) from None
            comp.text = text
        elif ctype == "group":
            path = raw.get("path")
            if path:
                raise self._error("groups with a 'path' (nested data) are not supported", comp)
            children = raw.get("components", [])
            if not isinstance(children, list):
                raise self._error("'components' of a group must be a list", comp)
            comp.children = self._load_list(children, comp, depth + 1)

        cond = raw.get("conditional")
        if cond not in (None, {}):
            if not isinstance(cond, dict):
                raise self._error("'conditional' must be an object", comp)
            hide = cond.get("hide")
            if hide is True:
                comp.hide = compile_expression("true")
            elif hide not in (None, "", False):
                if not isinstance(hide, str) or not hide.strip().startswith("="):
                    raise self._error(f"conditional.hide must be an expression starting with '=' (got {hide!r})", comp)
                try:
                    comp.hide = compile_expression(hide)
                except FeelError as exc:
                    raise self._error(f"conditional.hide {hide!r}: {exc}", comp) from None
        return comp

    def _text(self, raw: dict, prop: str, comp: Component) -> str:
        v = raw.get(prop)
        if v is None:
            return ""
        if not isinstance(v, str):
            raise self._error(f"{prop!r} must be a string", comp)
        return v

    def _number(self, v: Any, prop: str, comp: Component) -> Decimal | None:
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            raise self._error(f"{prop} must be a number (got {v!r})", comp)
        try:
            d = Decimal(str(v))
        except InvalidOperation:
            raise self._error(f"{prop} must be a number (got {v!r})", comp) from None
        if not d.is_finite():
            raise self._error(f"{prop} must be a finite number (got {v!r})", comp)
        return d

    def _int(self, v: Any, prop: str, comp: Component) -> int | None:
        d = self._number(v, prop, comp)
        if d is None:
            return None
        if d != d.to_integral_value() or d < 0:
            raise self._error(f"{prop} must be a whole number >= 0 (got {v!r})", comp)
        return int(d)

    def _load_input(self, comp: Component, raw: dict) -> None:
        key = raw.get("key")
        if key is None or key == "":
            raise self._error("input component has no 'key'", comp)
        if not isinstance(key, str):
            raise self._error(f"'key' must be a string (got {key!r})", comp)
        comp.key = key
        if key == "typename" or key.startswith("_"):
            raise self._error(f"key {key!r} is reserved (no 'typename', nothing starting with '_')", comp)
        if not _KEY_RE.match(key):
            raise self._error(f"key {key!r} must be a plain name (letters, digits, '_'; "
                              "it becomes a process variable)", comp)
        if key in self.fields:
            raise self._error(f"duplicate key {key!r} (already used by component {self.fields[key].id!r})", comp)
        self.fields[key] = comp

        if comp.type == "datetime":
            comp.subtype = raw.get("subtype") or "date"
            if comp.subtype not in ("date", "time", "datetime"):
                raise self._error(f"unknown datetime subtype {comp.subtype!r} (date, time, datetime)", comp)
            if not comp.label:
                comp.label = self._text(raw, "dateLabel" if comp.subtype != "time" else "timeLabel", comp)
            comp.disallow_passed_dates = bool(raw.get("disallowPassedDates"))

        validate = raw.get("validate") or {}
        if not isinstance(validate, dict):
            raise self._error("'validate' must be an object", comp)
        req = validate.get("required", False)
        if not isinstance(req, bool):
            raise self._error(f"validate.required must be true or false (got {req!r})", comp)
        comp.required = req
        if comp.type == "number":
            comp.min = self._number(validate.get("min"), "validate.min", comp)
            comp.max = self._number(validate.get("max"), "validate.max", comp)
            if comp.min is not None and comp.max is not None and comp.min > comp.max:
                raise self._error(f"validate.min ({comp.min}) is greater than validate.max ({comp.max})", comp)
            comp.decimal_digits = self._int(raw.get("decimalDigits"), "decimalDigits", comp)
            inc = self._number(raw.get("increment"), "increment", comp)
            if inc is not None:
                if inc <= 0:
                    raise self._error(f"increment must be positive (got {raw.get('increment')!r})", comp)
                comp.increment = str(inc)
        if comp.type in ("textfield", "textarea"):
            comp.min_length = self._int(validate.get("minLength"), "validate.minLength", comp)
            comp.max_length = self._int(validate.get("maxLength"), "validate.maxLength", comp)
            if comp.min_length is not None and comp.max_length is not None and comp.min_length > comp.max_length:
                raise self._error(f"validate.minLength ({comp.min_length}) is greater than "
                                  f"validate.maxLength ({comp.max_length})", comp)
            pattern = validate.get("pattern")
            if pattern not in (None, ""):
                if not isinstance(pattern, str):
                    raise self._error("validate.pattern must be a string", comp)
                try:
                    comp.pattern = re.compile(pattern)
                except re.error as exc:
                    raise self._error(f"validate.pattern {pattern!r} is not a valid regular expression: {exc}",
                                      comp) from None
                comp.pattern_source = pattern
            vt = validate.get("validationType") or None
            if vt not in (None, "email", "phone"):
                raise self._error(f"unknown validate.validationType {vt!r} (email, phone)", comp)
            comp.validation_type = vt if comp.type == "textfield" else None
        if comp.type in ("textfield", "number"):
            appearance = raw.get("appearance") or {}
            if isinstance(appearance, dict):
                comp.prefix_adorner = str(appearance.get("prefixAdorner") or "")
                comp.suffix_adorner = str(appearance.get("suffixAdorner") or "")

        ro = raw.get("readonly", False)
        if isinstance(ro, str) and ro.strip().startswith("="):
            try:
                comp.readonly_expr = compile_expression(ro)
            except FeelError as exc:
                raise self._error(f"readonly {ro!r}: {exc}", comp) from None
        elif isinstance(ro, bool):
            comp.readonly = ro
        else:
            raise self._error(f"readonly must be true, false or an expression (got {ro!r})", comp)
        dis = raw.get("disabled", False)
        if not isinstance(dis, bool):
            raise self._error(f"disabled must be true or false (got {dis!r})", comp)
        comp.disabled = dis

        if comp.type in CHOICE_TYPES:
            self._load_options(comp, raw)
        comp.default = self._load_default(comp, raw.get("defaultValue"))

    def _load_options(self, comp: Component, raw: dict) -> None:
        if raw.get("valuesExpression"):
            raise self._error("options from 'valuesExpression' are not supported "
                              "(use static 'values' or 'valuesKey')", comp)
        values_key = raw.get("valuesKey")
        values = raw.get("values")
        if values_key:
            if not isinstance(values_key, str) or not _KEY_RE.match(values_key):
                raise self._error(f"valuesKey {values_key!r} must be a plain name", comp)
            comp.values_key = values_key
            if not values:
                return
        if not isinstance(values, list) or not values:
            raise self._error("has no options: give a non-empty 'values' list or a 'valuesKey'", comp)
        opts, seen = [], set()
        for i, item in enumerate(values):
            if not isinstance(item, dict) or "value" not in item:
                raise self._error(f"option #{i + 1} needs a 'value'", comp)
            value = item["value"]
            if not isinstance(value, (str, int, float, bool)) or value == "":
                raise self._error(f"option #{i + 1} has an empty or unsupported value {value!r}", comp)
            label = item.get("label")
            label = str(value) if label in (None, "") else str(label)
            tok = option_token(value)
            if tok in seen:
                raise self._error(f"duplicate option value {value!r}", comp)
            seen.add(tok)
            opts.append(Option(label, value))
        comp.options = opts

    def _load_default(self, comp: Component, default: Any) -> Any:
        if default is None or default == "":
            return None
        if comp.type == "checkbox":
            if not isinstance(default, bool):
                raise self._error(f"defaultValue of a checkbox must be true or false (got {default!r})", comp)
            return default
        if comp.type in MULTI_TYPES:
            if not isinstance(default, list):
                raise self._error(f"defaultValue of a {comp.type} must be a list (got {default!r})", comp)
            if comp.options is not None:
                tokens = {o.token for o in comp.options}
                bad = [d for d in default if option_token(d) not in tokens]
                if bad:
                    raise self._error(f"defaultValue contains {bad[0]!r}, which is not one of the options", comp)
            return list(default)
        if comp.type in CHOICE_TYPES and comp.options is not None:
            if option_token(default) not in {o.token for o in comp.options}:
                raise self._error(f"defaultValue {default!r} is not one of the options", comp)
            return default
        if comp.type == "number":
            d = self._number(default, "defaultValue", comp)
            return number_out(d, comp.decimal_digits)
        if not isinstance(default, str):
            raise self._error(f"defaultValue must be a string (got {default!r})", comp)
        return default

    # -- queries
    def required_with_default(self) -> list[Component]:
        """Required fields whose default value already satisfies 'required' (a salary pre-filled with 0, an
        option chosen in advance): a person could complete the form without looking. Deployment refuses them."""
        def satisfies(comp):
            if comp.type == "checkbox":
                return comp.default is True           # a required checkbox asks for a tick
            return comp.default is not None and comp.default != "" and comp.default != []
        return [comp for comp in self.fields.values() if comp.required and satisfies(comp)]

    def component(self, id_or_key: str) -> Component:
        """The component with this id, or the input with this key."""
        if id_or_key in self.fields:
            return self.fields[id_or_key]
        return self._ids[id_or_key]

    def __repr__(self) -> str:
        return f"<FormDefinition {self.id!r} fields={list(self.fields)}>"
