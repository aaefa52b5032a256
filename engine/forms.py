"""bpmn.io form-js schemas (`forms/*.form`): loading, conditions and validation.

A form definition is the JSON the form-js editor writes. This module is pure and
request-independent (no Flask): it loads and checks a definition (`FormDefinition`), decides
which components are hidden for given data (`evaluate`, a small, safe evaluator for the FEEL
subset form-js conditions use -- nothing here calls Python's `eval`), and builds a marshmallow
schema that validates a submission (`build_schema`, `validate_submission`).

Error messages are `FormMessage` objects: a `str` (German default text, German being the
primary language) that also carries a `code` and `params`, so the web layer can show them in
the user's language (`web.forms_html.message_text`).

What the server accepts is decided here, never by the browser: hidden fields are neither
required nor taken over, read-only and disabled fields are never taken from a submission,
options of select/radio/checklist/taglist are checked against the definition (or against the
case data named by `valuesKey`, never against anything the client sends).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields

__all__ = [
    "FormDefinitionError", "FormDefinition", "Component", "Option", "FormMessage", "FormState",
    "FeelError", "compile_expression", "evaluate_expression", "evaluate", "build_schema",
    "validate_submission", "submission_values", "parse_draft", "MESSAGES", "INPUT_TYPES",
    "LAYOUT_TYPES", "option_token", "read_submitted", "TRUE_STRINGS", "submission_state", "parse_number",
    "parse_date", "parse_time",
]


def N_(text: str) -> str:
    """Marks a message id for extraction (pybabel's default keywords include `N_`)."""
    return text


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


# --------------------------------------------------------------------------- FEEL subset

class FeelError(ValueError):
    """An expression outside the supported FEEL subset."""


_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>!=|<=|>=|=|<|>|\(|\)|\[|\]|,|\.|\+|-|\*|/)
  | (?P<name>[^\W\d]\w*)
""", re.VERBOSE | re.UNICODE)

_KEYWORDS = {"and", "or", "true", "false", "null", "is", "in", "not", "between"}
_MAX_EXPR = 2000


def _tokenize(text: str) -> list[tuple[str, Any]]:
    if len(text) > _MAX_EXPR:
        raise FeelError("expression is too long")
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise FeelError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "ws":
            continue
        if kind == "num":
            val = Decimal(val)
            val = int(val) if val == val.to_integral_value() and "." not in m.group(kind) else float(val)
        elif kind == "str":
            val = _unescape(val[1:-1])
        out.append((kind, val))
    out.append(("end", None))
    return out


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), s)


class _Parser:
    """Recursive descent parser producing tuples: ('lit', v), ('var', path), (op, a, b), ..."""

    def __init__(self, text: str):
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self, k: int = 0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, val: Any = None, k: int = 0) -> bool:
        t = self.peek(k)
        return t[0] == kind and (val is None or t[1] == val)

    def expect(self, kind: str, val: Any = None):
        if not self.at(kind, val):
            got = self.peek()
            raise FeelError(f"expected {val or kind!s} but found {got[1] if got[0] != 'end' else 'end of expression'!s}")
        return self.next()

    def parse(self):
        node = self.disjunction()
        if not self.at("end"):
            raise FeelError(f"unexpected {self.peek()[1]!s}")
        return node

    def disjunction(self):
        node = self.conjunction()
        while self.at("name", "or"):
            self.next()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.comparison()
        while self.at("name", "and"):
            self.next()
            node = ("and", node, self.comparison())
        return node

    def comparison(self):
        node = self.additive()
        t = self.peek()
        if t[0] == "op" and t[1] in ("=", "!=", "<", "<=", ">", ">="):
            self.next()
            return ("cmp", t[1], node, self.additive())
        if self.at("name", "is"):
            self.next()
            negate = False
            if self.at("name", "not"):
                self.next()
                negate = True
            self.expect("name", "null")
            node = ("isnull", node)
            return ("not", node) if negate else node
        if self.at("name", "between"):
            self.next()
            low = self.additive()
            self.expect("name", "and")
            high = self.additive()
            return ("and", ("cmp", ">=", node, low), ("cmp", "<=", node, high))
        if self.at("name", "in"):
            self.next()
            if self.at("op", "("):
                self.next()
                items = self.expr_list(")")
                return ("in", node, ("list", items))
            return ("in", node, self.additive())
        return node

    def additive(self):
        node = self.multiplicative()
        while self.at("op", "+") or self.at("op", "-"):
            op = self.next()[1]
            node = ("arith", op, node, self.multiplicative())
        return node

    def multiplicative(self):
        node = self.unary()
        while self.at("op", "*") or self.at("op", "/"):
            op = self.next()[1]
            node = ("arith", op, node, self.unary())
        return node

    def unary(self):
        if self.at("op", "-"):
            self.next()
            return ("neg", self.unary())
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while self.at("op", "."):
            self.next()
            name = self.expect("name")[1]
            node = ("get", node, name)
        return node

    def expr_list(self, close: str):
        items = []
        if self.at("op", close):
            self.next()
            return items
        while True:
            items.append(self.disjunction())
            if self.at("op", ","):
                self.next()
                continue
            self.expect("op", close)
            return items

    def call_args(self, name: str, count: int):
        self.expect("op", "(")
        args = self.expr_list(")")
        if len(args) != count:
            raise FeelError(f"{name}() takes {count} argument(s), got {len(args)}")
        return args

    def primary(self):
        kind, val = self.peek()
        if kind == "num" or kind == "str":
            self.next()
            return ("lit", val)
        if kind == "op" and val == "(":
            self.next()
            node = self.disjunction()
            self.expect("op", ")")
            return node
        if kind == "op" and val == "[":
            self.next()
            return ("list", self.expr_list("]"))
        if kind == "name":
            if val in ("true", "false"):
                self.next()
                return ("lit", val == "true")
            if val == "null":
                self.next()
                return ("lit", None)
            if val == "not" and self.at("op", "(", 1):
                self.next()
                (arg,) = self.call_args("not", 1)
                return ("not", arg)
            if val == "list" and self.at("name", "contains", 1) and self.at("op", "(", 2):
                self.next(); self.next()
                lst, item = self.call_args("list contains", 2)
                return ("in", item, lst)
            if val == "count" and self.at("op", "(", 1):
                self.next()
                (arg,) = self.call_args("count", 1)
                return ("count", arg)
            if val == "string" and self.at("name", "length", 1) and self.at("op", "(", 2):
                self.next(); self.next()
                (arg,) = self.call_args("string length", 1)
                return ("strlen", arg)
            if val == "is" and self.at("name", "defined", 1) and self.at("op", "(", 2):
                self.next(); self.next()
                (arg,) = self.call_args("is defined", 1)
                return ("not", ("isnull", arg))
            if val in _KEYWORDS:
                raise FeelError(f"unexpected keyword {val!r}")
            if self.at("op", "(", 1):
                raise FeelError(f"unsupported function {val!r}")
            if self.at("name", k=1):
                nxt = self.peek(1)[1]
                if nxt not in _KEYWORDS:
                    raise FeelError(f"unsupported name {val + ' ' + nxt!r} (names with spaces are not supported)")
            self.next()
            return ("var", val)
        if kind == "end":
            raise FeelError("expression is incomplete")
        raise FeelError(f"unexpected {val!s}")


@dataclass(frozen=True)
class Expression:
    """A compiled FEEL-subset expression (`source` without the leading '=')."""
    source: str
    tree: tuple
    names: frozenset

    def evaluate(self, data: Mapping[str, Any] | None) -> Any:
        return _eval(self.tree, data or {})


def _names(node) -> set:
    if not isinstance(node, tuple):
        return set()
    if node[0] == "var":
        return {node[1]}
    out = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            out |= _names(part)
        elif isinstance(part, list):
            for p in part:
                out |= _names(p)
    return out


def compile_expression(text: str) -> Expression:
    """Compile `=expr` (or `expr`) in the supported FEEL subset; raises FeelError."""
    if not isinstance(text, str):
        raise FeelError("expression must be a string")
    src = text.strip()
    if src.startswith("="):
        src = src[1:].strip()
    if not src:
        raise FeelError("expression is empty")
    tree = _Parser(src).parse()
    return Expression(src, tree, frozenset(_names(tree)))


def evaluate_expression(text: str, data: Mapping[str, Any] | None = None) -> Any:
    """Compile and evaluate an expression against `data` (FEEL null semantics: None)."""
    return compile_expression(text).evaluate(data)


def _is_num(v) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _feel_eq(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b if isinstance(a, bool) and isinstance(b, bool) else None
    if _is_num(a) and _is_num(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return False
        results = [_feel_eq(x, y) for x, y in zip(a, b)]
        if any(r is False for r in results):
            return False
        return True if all(r is True for r in results) else None
    if isinstance(a, dict) and isinstance(b, dict):
        return a == b
    if type(a) is type(b):  # dates, times
        return a == b
    return None


def _comparable(a, b) -> bool:
    if _is_num(a) and _is_num(b):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return True
    return type(a) is type(b) and isinstance(a, (date, datetime, time))


def _eval(node, data):
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "var":
        return data.get(node[1]) if isinstance(data, Mapping) else None
    if op == "get":
        base = _eval(node[1], data)
        return base.get(node[2]) if isinstance(base, Mapping) else None
    if op == "list":
        return [_eval(n, data) for n in node[1]]
    if op == "and":
        a = _eval(node[1], data)
        if a is False:
            return False
        b = _eval(node[2], data)
        if b is False:
            return False
        return True if a is True and b is True else None
    if op == "or":
        a = _eval(node[1], data)
        if a is True:
            return True
        b = _eval(node[2], data)
        if b is True:
            return True
        return False if a is False and b is False else None
    if op == "not":
        v = _eval(node[1], data)
        return (not v) if isinstance(v, bool) else None
    if op == "isnull":
        return _eval(node[1], data) is None
    if op == "cmp":
        a, b = _eval(node[2], data), _eval(node[3], data)
        rel = node[1]
        if rel == "=":
            return _feel_eq(a, b)
        if rel == "!=":
            r = _feel_eq(a, b)
            return None if r is None else not r
        if a is None or b is None or not _comparable(a, b):
            return None
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[rel]
    if op == "in":
        item, lst = _eval(node[1], data), _eval(node[2], data)
        if not isinstance(lst, (list, tuple)):
            return None
        results = [_feel_eq(x, item) for x in lst]
        if any(r is True for r in results):
            return True
        return False if all(r is False for r in results) else None
    if op == "count":
        v = _eval(node[1], data)
        return len(v) if isinstance(v, (list, tuple)) else None
    if op == "strlen":
        v = _eval(node[1], data)
        return len(v) if isinstance(v, str) else None
    if op == "neg":
        v = _eval(node[1], data)
        return -v if _is_num(v) else None
    if op == "arith":
        a, b, rel = _eval(node[2], data), _eval(node[3], data), node[1]
        if rel == "+" and isinstance(a, str) and isinstance(b, str):
            return a + b
        if not (_is_num(a) and _is_num(b)):
            return None
        if rel == "+":
            return a + b
        if rel == "-":
            return a - b
        if rel == "*":
            return a * b
        if b == 0:
            return None
        r = a / b
        return int(r) if isinstance(r, float) and r.is_integer() else r
    raise FeelError(f"unknown node {op}")  # pragma: no cover


# --------------------------------------------------------------------------- definition

INPUT_TYPES = frozenset({"textfield", "textarea", "number", "checkbox", "checklist", "radio",
                         "select", "datetime", "taglist"})
LAYOUT_TYPES = frozenset({"text", "group", "separator", "spacer", "button"})
CHOICE_TYPES = frozenset({"checklist", "radio", "select", "taglist"})
MULTI_TYPES = frozenset({"checklist", "taglist"})
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MAX_TEXT = 100_000  # longest string value taken from a submission


@dataclass(frozen=True)
class Option:
    label: str
    value: Any

    @property
    def token(self) -> str:
        """The string the HTML form submits for this option."""
        return _token(self.value)


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


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
            tok = _token(value)
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
                bad = [d for d in default if _token(d) not in tokens]
                if bad:
                    raise self._error(f"defaultValue contains {bad[0]!r}, which is not one of the options", comp)
            return list(default)
        if comp.type in CHOICE_TYPES and comp.options is not None:
            if _token(default) not in {o.token for o in comp.options}:
                raise self._error(f"defaultValue {default!r} is not one of the options", comp)
            return default
        if comp.type == "number":
            d = self._number(default, "defaultValue", comp)
            return _number_out(d, comp.decimal_digits)
        if not isinstance(default, str):
            raise self._error(f"defaultValue must be a string (got {default!r})", comp)
        return default

    # -- queries
    def component(self, id_or_key: str) -> Component:
        """The component with this id, or the input with this key."""
        if id_or_key in self.fields:
            return self.fields[id_or_key]
        return self._ids[id_or_key]

    def __repr__(self) -> str:
        return f"<FormDefinition {self.id!r} fields={list(self.fields)}>"


# --------------------------------------------------------------------------- state

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
            if not isinstance(value, (str, int, float, bool)) or _token(value) in seen or value == "":
                continue
            seen.add(_token(value))
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
        elif comp.hide is not None and comp.hide.evaluate(data) is True:
            hidden.add(comp.id)
        if comp.id in hidden and comp.is_input:
            data.pop(comp.key, None)
    readonly = set()
    options = {}
    for key, comp in definition.fields.items():
        if comp.readonly or comp.disabled or (comp.readonly_expr is not None
                                               and comp.readonly_expr.evaluate(data) is True):
            readonly.add(key)
        if comp.type in CHOICE_TYPES:
            options[key] = _options_from_context(comp, context)
    return FormState(hidden, readonly, options, data)


# --------------------------------------------------------------------------- validation

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 ()/.\-]{4,30}$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_TRUE = {"true", "on", "1", "yes", "ja"}
_FALSE = {"false", "off", "0", "no", "nein"}


def _number_out(d: Decimal | None, digits: int | None):
    if d is None:
        return None
    if digits == 0 or (digits is None and d == d.to_integral_value()):
        return int(d)
    return float(d)


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


def parse_number(value: Any) -> Decimal:
    """A submitted number (accepts '3.5', '3,5', ints and floats) as a Decimal; ValueError if not."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(value)
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise ValueError(value)
    s = value.strip().replace(" ", "").replace("\u00a0", "")
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    if not _NUMBER_RE.match(s) or len(s) > 40:
        raise ValueError(value)
    return Decimal(s)


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
        return _number_out(d, c.decimal_digits)


class CheckboxInput(_FormField):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE:
            result = True
        elif isinstance(value, str) and value.strip().lower() in _FALSE:
            result = False
        else:
            raise self.make_error("invalid")
        if self.comp.required and not result:
            raise self.make_error("required")
        return result


class ChoiceInput(_FormField):
    def _match(self, value) -> Any:
        tok = _token(value) if not isinstance(value, str) else value.strip()
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
            if _token(v) not in seen:
                seen.add(_token(v))
                out.append(v)
        if self.comp.required and not out:
            raise self.make_error("required")
        return out


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DE_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def parse_date(s: str) -> date:
    """'2026-12-31' or '31.12.2026' as a date; ValueError otherwise."""
    s = s.strip()
    m = _ISO_DATE.match(s)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _DE_DATE.match(s)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    raise ValueError(s)


def parse_time(s: str) -> time:
    m = _TIME.match(s.strip())
    if not m:
        raise ValueError(s)
    return time(int(m[1]), int(m[2]), int(m[3] or 0))


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


def _get(form: Any, name: str, multiple: bool):
    """Read one field from a MultiDict (request.form) or a plain dict."""
    if multiple and hasattr(form, "getlist"):
        return form.getlist(name) if name in form else None
    if hasattr(form, "getlist") and not multiple:
        vals = form.getlist(name)
        if not vals:
            return None
        # e.g. a hidden "false" before a checkbox: the last value wins
        return vals[-1]
    return form.get(name) if isinstance(form, Mapping) else None


def submission_values(definition: FormDefinition, form: Any, prefix: str = "") -> dict:
    """The form's fields from a submission (MultiDict or dict), unvalidated and normalised:
    strings stripped, empty strings and empty lists left out, unknown keys ignored. Suitable to
    store as a draft and to re-render (`render_form(values=..., submitted=True)`)."""
    out: dict[str, Any] = {}
    if form is None:
        return out
    for key, comp in definition.fields.items():
        v = _get(form, prefix + key, comp.multiple)
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
                out[key] = _number_out(parse_number(v), None)
            elif comp.type == "checkbox":
                out[key] = v if isinstance(v, bool) else str(v).strip().lower() in _TRUE
            elif comp.type in CHOICE_TYPES and comp.options is not None:
                tokens = {o.token: o.value for o in comp.options}
                if comp.multiple:
                    out[key] = [tokens.get(_token(x), x) for x in (v if isinstance(v, list) else [v])]
                else:
                    out[key] = tokens.get(_token(v), v)
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


def validate_submission(definition: FormDefinition, form: Any, context: Mapping | None = None,
                        prefix: str = "", today: date | None = None) -> tuple[dict, dict]:
    """Validate a submission (request.form, or a dict of strings or JSON values).

    Returns (clean_data, errors). clean_data holds a typed value for every visible, editable
    field (hidden, read-only and disabled fields are left out); errors is {key: [FormMessage]}
    and empty when the submission is valid (clean_data then holds only the valid fields).
    """
    raw = submission_values(definition, form, prefix)
    state = submission_state(definition, form, context, prefix, raw=raw)
    schema = build_schema(definition, state, today=today)
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
option_token = _token            # the string an option submits
read_submitted = _get            # one field's raw value from a MultiDict or dict
TRUE_STRINGS = frozenset(_TRUE)  # submitted strings that tick a checkbox
