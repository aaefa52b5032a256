"""Camunda's expression language (JUEL/EL), the subset real diagrams use, translated to Lotse's expressions.

A Camunda 7 diagram writes conditions and attributes as `${amount > 1000 && !empty name}` or
`#{approved}`. At deploy, `translate` turns such a text into the Python expression the sandbox
evaluates (`engine.sandbox`), so it runs exactly like an expression written for Lotse:

- variable references and property access: `a`, `a.b`, `a["b"]`, `a[0]` (`a.b` reads the key `b`);
- comparisons `== != < > <= >=` and `eq ne lt gt le ge`;
- `&& || !` and `and or not`; `empty x` (null, "", empty list or map); `cond ? a : b`;
- arithmetic `+ - * / % div mod`, unary minus; string, number, `true`/`false`/`null` literals.

Anything beyond it raises `JuelError` with the reason, never a SyntaxError: method calls
(`bean.check(x)`, `dateTime()`) and the engine's Java objects (`execution`, `task`,
`authenticatedUserId`), which have no meaning outside Camunda.
"""
import re

__all__ = ["JuelError", "is_juel", "translate", "translate_template"]


class JuelError(ValueError):
    """An expression outside the supported JUEL subset; the message says what and why."""


_WHOLE = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.\[\](),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)
_WORD_OPS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "div": "/", "mod": "%",
             "and": "&&", "or": "||", "not": "!"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
# Camunda's objects of the running engine: nothing in Lotse stands behind them.
ENGINE_OBJECTS = {"execution", "task", "authenticatedUserId", "variableScope", "connector", "S", "XML", "JSON"}
_RESERVED = {"instanceof", "new"}


def is_juel(text) -> bool:
    """Whether a diagram's text is written as a JUEL expression (`${…}` or `#{…}`)."""
    return isinstance(text, str) and "{" in text and bool(re.search(r"[$#]\{", text))


def is_whole(text: str) -> bool:
    """Whether the text is one `${…}` and nothing else."""
    match = _WHOLE.match(text or "")
    return bool(match) and not re.search(r"[$#]\{", match.group(1))


def translate(text: str) -> str:
    """`${…}`/`#{…}` as a Python expression for the sandbox; raises JuelError."""
    match = _WHOLE.match(text or "")
    if not match or re.search(r"[$#]\{", match.group(1)):
        raise JuelError("mixed text and ${…} is not supported here: write the whole value as one ${…} expression")
    return _Translator(match.group(1)).expression()


def translate_template(text: str) -> str:
    """A value that is literal text, one `${…}`, or text with `${…}` parts, as a Python expression."""
    if _WHOLE.match(text or "") and text.count("${") + text.count("#{") == 1:
        return translate(text)
    parts, pos = [], 0
    for found in re.finditer(r"[$#]\{([^}]*)\}", text):
        if found.start() > pos:
            parts.append(repr(text[pos:found.start()]))
        parts.append(f"str({_Translator(found.group(1)).expression()})")
        pos = found.end()
    if pos < len(text):
        parts.append(repr(text[pos:]))
    return " + ".join(parts) or "''"


class _Translator:
    """Recursive descent over EL's grammar, writing Python text as it goes."""

    def __init__(self, source: str):
        self.source = source
        self.tokens = []
        pos = 0
        while pos < len(source):
            found = _TOKEN.match(source, pos)
            if found is None:
                raise JuelError(f"unexpected character {source[pos]!r} in JUEL expression {source.strip()!r}")
            pos = found.end()
            kind, value = found.lastgroup, found.group(found.lastgroup)
            if kind == "ws":
                continue
            if kind == "name" and value in _WORD_OPS:
                kind, value = "op", _WORD_OPS[value]
            self.tokens.append((kind, value))
        self.tokens.append(("end", None))
        self.i = 0

    # -- helpers
    def peek(self, ahead=0):
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, value, ahead=0):
        kind, text = self.peek(ahead)
        return kind == "op" and text == value

    def expect(self, value):
        if not self.at(value):
            found = self.peek()[1]
            raise JuelError(f"expected {value!r} but found {found if found is not None else 'the end'!r} in "
                            f"JUEL expression {self.source.strip()!r}")
        self.take()

    # -- grammar
    def expression(self) -> str:
        if self.peek()[0] == "end":
            raise JuelError("empty JUEL expression")
        text = self.ternary()
        if self.peek()[0] != "end":
            raise JuelError(f"unexpected {self.peek()[1]!r} in JUEL expression {self.source.strip()!r}")
        return text

    def ternary(self):
        condition = self.disjunction()
        if self.at("?"):
            self.take()
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return f"({yes} if {condition} else {no})"
        return condition

    def disjunction(self):
        text = self.conjunction()
        while self.at("||"):
            self.take()
            text = f"({text} or {self.conjunction()})"
        return text

    def conjunction(self):
        text = self.equality()
        while self.at("&&"):
            self.take()
            text = f"({text} and {self.equality()})"
        return text

    def equality(self):
        text = self.relation()
        while self.at("==") or self.at("!="):
            op = self.take()[1]
            text = f"({text} {op} {self.relation()})"
        return text

    def relation(self):
        text = self.additive()
        while any(self.at(op) for op in ("<", ">", "<=", ">=")):
            op = self.take()[1]
            text = f"({text} {op} {self.additive()})"
        return text

    def additive(self):
        text = self.multiplicative()
        while self.at("+") or self.at("-"):
            op = self.take()[1]
            text = f"({text} {op} {self.multiplicative()})"
        return text

    def multiplicative(self):
        text = self.unary()
        while self.at("*") or self.at("/") or self.at("%"):
            op = self.take()[1]
            text = f"({text} {op} {self.unary()})"
        return text

    def unary(self):
        if self.at("!"):
            self.take()
            return f"(not {self.unary()})"
        if self.at("-"):
            self.take()
            return f"(-{self.unary()})"
        if self.peek() == ("name", "empty"):
            self.take()
            value = self.unary()
            return f"({value} is None or {value} in ('', [], {{}}))"
        return self.postfix()

    def postfix(self):
        text, name = self.primary()
        while True:
            if self.at("."):
                self.take()
                kind, prop = self.take()
                if kind != "name":
                    raise JuelError(f"expected a property name after '.' in JUEL expression {self.source.strip()!r}")
                if self.at("("):
                    raise JuelError(f"JUEL method calls are not supported ({name or text}.{prop}(…)); Lotse "
                                    "evaluates variables, properties, comparisons and arithmetic only")
                text = f"{text}[{prop!r}]"
            elif self.at("["):
                self.take()
                index = self.ternary()
                self.expect("]")
                text = f"{text}[{index}]"
            elif self.at("("):
                raise JuelError(f"JUEL method calls are not supported ({name or text}(…)); Lotse evaluates "
                                "variables, properties, comparisons and arithmetic only")
            else:
                return text
            name = None

    def primary(self):
        kind, value = self.take()
        if kind == "num":
            return value, None
        if kind == "str":
            body = value[1:-1]
            return repr(re.sub(r"\\(.)", r"\1", body)), None
        if kind == "op" and value == "(":
            text = self.ternary()
            self.expect(")")
            return f"({text})", None
        if kind == "name":
            if value in _LITERALS:
                return _LITERALS[value], None
            if value in ENGINE_OBJECTS:
                raise JuelError(f"JUEL method calls are not supported: {value!r} is Camunda's engine object, which "
                                "Lotse does not have; use case variables instead")
            if value in _RESERVED or value == "empty":
                raise JuelError(f"{value!r} is not supported in JUEL expressions here")
            if self.at("(") or (self.at(":") and self.peek(1)[0] == "name" and self.at("(", 2)):
                raise JuelError(f"JUEL method calls are not supported ({value}(…)); Lotse evaluates variables, "
                                "properties, comparisons and arithmetic only")
            return value, value
        found = value if value is not None else "the end"
        raise JuelError(f"unexpected {found!r} in JUEL expression {self.source.strip()!r}")
