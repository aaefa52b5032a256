"""The expression language of form-js forms: a safe subset of FEEL, evaluated as form-js does.

form-js evaluates expressions with feelin (`@bpmn-io/feelin`); the live script of the task page
does too (`assets/form-conditionals.js`). This module gives the server the same answers for the
subset Lotse accepts, and rejects everything else when a form is deployed: comparisons, `and`,
`or`, `not()`, `between`, `in`, `list contains()`, `count()`, `string length()`, `+ - * /`,
paths `a.b`, lists and literals. Nothing here calls Python's `eval`.

An expression has two readings (`tests/fixtures/feel_cases.json` holds cases of both, run against
this module and against feelin in Chromium):

- `Expression.evaluate(data)`: its value (texts `=expr` and `{{ expr }}` templates);
- `Expression.test(data)`: the yes/no form-js makes of a condition (`conditional.hide`, `readonly`).
  form-js reads a condition as a FEEL unary test with no input value, so a condition whose value
  is null counts as met: `=amount > 1000` hides its component while `amount` is empty.

Where feelin departs from the FEEL specification, this module follows the specification, and the
case file records feelin's answer: `1 != "1"` is null here, true in feelin (both met as a
condition); ordering a string against a number is null here, while feelin coerces like JavaScript
(`"4" > 3` true, `"abc" > 3` false). So a number field holding text may show a component live
that the server hides when the form comes back; the server's answer is the one that counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Mapping

__all__ = ["FeelError", "Expression", "UnaryTests", "compile_expression", "compile_unary_tests",
           "evaluate_expression", "temporal"]


class FeelError(ValueError):
    """An expression outside the supported FEEL subset."""


_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>\.\.|!=|<=|>=|=|<|>|\(|\)|\[|\]|,|\.|\+|-|\*|/|\?)
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
            raise FeelError("'is null' is not FEEL: write 'x = null' or 'x != null'")
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
            if val in ("date", "time") and self.at("op", "(", 1):
                self.next()
                (arg,) = self.call_args(val, 1)
                return ("temporal", val, arg)
            if val == "date" and self.at("name", "and", 1) and self.at("name", "time", 2) and self.at("op", "(", 3):
                self.next(); self.next(); self.next()
                (arg,) = self.call_args("date and time", 1)
                return ("temporal", "date and time", arg)
            if val == "is" and self.at("name", "defined", 1):
                raise FeelError("'is defined()' is not a function of form-js's FEEL: write 'x != null'")
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
        if kind == "op" and val == "?" and self.input_symbol:
            self.next()
            return ("input",)
        if kind == "end":
            raise FeelError("expression is incomplete")
        raise FeelError(f"unexpected {val!s}")

    # -- unary tests (DMN input entries): `-`, `"a","b"`, `not(…)`, `< 5`, `[1..8]`, `? > 3`, expressions
    input_symbol = False

    def unary_tests(self):
        if self.at("op", "-") and self.at("end", k=1):
            self.next()
            return ("any",)
        if self.at("name", "not") and self.at("op", "(", 1):
            self.next(); self.next()
            tests = self.positive_tests(")")
            self.expect("op", ")")
            node = ("not_tests", tests)
        else:
            node = ("tests", self.positive_tests(None))
        if not self.at("end"):
            raise FeelError(f"unexpected {self.peek()[1]!s}")
        return node

    def positive_tests(self, close):
        tests = [self.positive_test()]
        while self.at("op", ","):
            self.next()
            tests.append(self.positive_test())
        return tests

    def positive_test(self):
        kind, val = self.peek()
        if kind == "op" and val in ("<", "<=", ">", ">=", "=", "!="):
            self.next()
            return ("compare", val, self.additive())
        if kind == "op" and val in ("[", "]", "("):
            start = self.i
            try:
                return self.interval()
            except FeelError:
                self.i = start
        if kind == "name" and val == "null" and (self.at("op", ",", 1) or self.at("end", k=1) or self.at("op", ")", 1)):
            self.next()
            return ("equals", ("lit", None))
        return ("equals", self.disjunction())

    def interval(self):
        opening = self.next()[1]
        low = self.additive()
        self.expect("op", "..")
        high = self.additive()
        closing = self.peek()[1] if self.peek()[0] == "op" else None
        if closing not in ("]", "[", ")"):
            raise FeelError("an interval ends with ], [ or )")
        self.next()
        return ("interval", opening == "[", low, high, closing == "]")


_INPUT = "\x00input"          # where a unary test's input value sits in the evaluation data (no name can be it)


def temporal(kind: str, value):
    """FEEL's date("2027-03-01"), time("09:00") and date and time("…"); texts from forms and JSON read as ISO 8601.
    null for a value that is not one."""
    if isinstance(value, (date, datetime, time)) or value is None:
        if kind == "date" and isinstance(value, datetime):
            return value.date()
        return value
    if not isinstance(value, str):
        return None
    try:
        if kind == "date":
            return date.fromisoformat(value[:10])
        if kind == "time":
            return time.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class UnaryTests:
    """A DMN input entry: tests its input value (`matches`) against the data, as FEEL's unary tests do."""
    source: str
    tree: tuple

    def matches(self, value, data: Mapping[str, Any] | None = None) -> bool:
        scope = {**(data or {}), _INPUT: value}
        if self.tree[0] == "any":
            return True
        hits = [_test(test, value, scope) for test in self.tree[1]]
        if self.tree[0] == "not_tests":
            return not any(hits)
        return any(hits)


def _test(test, value, scope) -> bool:
    kind = test[0]
    if kind == "compare":
        return _eval(("cmp", test[1], ("input",), test[2]), scope) is True
    if kind == "interval":
        _, closed_low, low, high, closed_high = test
        lower = _eval(("cmp", ">=" if closed_low else ">", ("input",), low), scope)
        upper = _eval(("cmp", "<=" if closed_high else "<", ("input",), high), scope)
        return lower is True and upper is True
    expected = _eval(test[1], scope)
    if isinstance(expected, bool) and _mentions_input(test[1]):
        return expected                                  # `? > 3`, `? in (…)`: the expression is the test
    if isinstance(expected, list) and not isinstance(value, list):
        return any(_feel_eq(value, item) is True for item in expected)
    return _feel_eq(value, expected) is True


def _mentions_input(node) -> bool:
    if not isinstance(node, tuple):
        return False
    if node[:1] == ("input",):
        return True
    return any(_mentions_input(part) for part in node[1:]) or \
        any(_mentions_input(item) for part in node[1:] if isinstance(part, list) for item in part)


def compile_unary_tests(text: str | None) -> UnaryTests:
    """A DMN input entry (FEEL unary tests); empty text or `-` matches anything. Raises FeelError."""
    src = (text or "").strip() or "-"
    parser = _Parser(src)
    parser.input_symbol = True
    return UnaryTests(src, parser.unary_tests())


def compile_input_expression(text: str) -> Expression:
    """A DMN input or output expression: a FEEL expression (may not use `?`)."""
    return compile_expression(text)


@dataclass(frozen=True)
class Expression:
    """A compiled FEEL-subset expression (`source` without the leading '=')."""
    source: str
    tree: tuple
    names: frozenset
    negated_test: bool = False  # the whole source is `not(...)`: a negated unary test

    def evaluate(self, data: Mapping[str, Any] | None) -> Any:
        """The expression's value (None for FEEL's null)."""
        return _eval(self.tree, data or {})

    def test(self, data: Mapping[str, Any] | None) -> bool:
        """Whether the condition is met, as form-js decides it (feelin's `unaryTest` with no input
        value): the value is true, null, or a list holding null; a `not(...)` around the whole
        expression negates that instead of evaluating FEEL's not()."""
        if self.negated_test:
            return not _met(_eval(self.tree[1], data or {}))
        return _met(self.evaluate(data))


def _met(value) -> bool:
    # a unary test compares its input (here null) with the value unless that is a boolean
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return any(item is None for item in value)
    return value is None


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
    parser = _Parser(src)
    tree = parser.parse()
    negated = tree[0] == "not" and parser.toks[0] == ("name", "not")
    return Expression(src, tree, frozenset(_names(tree)), negated)


def evaluate_expression(text: str, data: Mapping[str, Any] | None = None) -> Any:
    """Compile and evaluate an expression against `data` (FEEL null semantics: None)."""
    return compile_expression(text).evaluate(data)


def _is_num(v) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _feel_eq(a, b):
    if a is None or b is None:
        return a is None and b is None
    # FEEL reads a singleton list as its element and the other way round: [1] = 1
    if isinstance(a, list) and len(a) == 1:
        a = a[0]
    if isinstance(b, list) and len(b) == 1:
        b = b[0]
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
    if op == "input":
        return data.get(_INPUT) if isinstance(data, Mapping) else None
    if op == "temporal":
        return temporal(node[1], _eval(node[2], data))
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
        if v is None:
            return None
        return len(v) if isinstance(v, (list, tuple)) else 1  # a single value is a singleton list
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


