"""DMN decision tables as Camunda users write them, evaluated with Lotse's one FEEL (`engine.feel`).

`read(doc, file)` reads every decision of a DMN 1.1, 1.2 or 1.3 file (any namespace: the element
names are the same) into `Decision`s: their hit policy and aggregation, inputs, outputs and rules,
and the decisions they require (`requiredDecision`, a DRD). Every cell is compiled at deploy:
input entries as FEEL unary tests (`"a","b"`, `not(…)`, `[1..8]`, `< 5`, `date("…")`, `-`), input
and output expressions as FEEL. A problem names the decision, its table and the rule number.

`DecisionEngine.evaluate(data)` evaluates the decision a business rule task names, its required
decisions first (their outputs become variables of the ones that need them), and applies the hit
policy: UNIQUE, FIRST, PRIORITY, ANY, COLLECT (with SUM, MIN, MAX, COUNT), RULE ORDER, OUTPUT ORDER.
`map_result` stores the result as camunda:mapDecisionResult says (singleEntry, singleResult,
collectEntries, resultList) under camunda:resultVariable; without one, the outputs become case
variables (what Lotse's tables always did).

Tables written for SpiffWorkflow's Python reading of DMN (`True`, `None`, `==`, `item['x']`) are
recognised by `is_python_dialect` and left to SpiffWorkflow's own evaluation (engine.parsing).
"""
import re
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from engine.feel import FeelError, compile_expression, compile_unary_tests, temporal


class DecisionError(ValueError):
    """A table that cannot be read, or a decision that cannot be made; the message names table and rule."""


HIT_POLICIES = {"UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"}
AGGREGATIONS = {None, "SUM", "MIN", "MAX", "COUNT"}
_PYTHON_MARKERS = re.compile(r"\b(True|False|None)\b|==|\[\s*'|'")


@dataclass
class Rule:
    number: int
    id: str
    inputs: list            # texts
    outputs: list           # texts


@dataclass
class Decision:
    id: str
    name: str
    table_id: str
    hit_policy: str
    aggregation: str | None
    inputs: list            # (label, expression text, typeRef)
    outputs: list           # (name, label, typeRef, [output values in priority order])
    rules: list
    required: list = field(default_factory=list)    # decision ids

    def where(self, rule=None) -> str:
        text = f"decision {self.id!r} (table {self.table_id!r})"
        return f"{text}, rule {rule.number}{f' ({rule.id})' if rule.id else ''}" if rule is not None else text

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "table_id": self.table_id, "hit_policy": self.hit_policy,
                "aggregation": self.aggregation, "inputs": self.inputs, "outputs": self.outputs,
                "rules": [rule.__dict__ for rule in self.rules], "required": self.required}

    @classmethod
    def from_dict(cls, dct) -> "Decision":
        return cls(**{**dct, "inputs": [tuple(i) for i in dct["inputs"]],
                      "outputs": [(o[0], o[1], o[2], list(o[3])) for o in dct["outputs"]],
                      "rules": [Rule(**rule) for rule in dct["rules"]]})


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(node, name):
    return [child for child in node if _local(child) == name]


def _text(node, name="text") -> str | None:
    found = next((child for child in node.iter() if _local(child) == name), None)
    return found.text.strip() if found is not None and found.text is not None else None


def _literal_values(text) -> list:
    """An outputValues list (`"high","medium","low"`) as values in their priority order."""
    if not text:
        return []
    try:
        tests = compile_unary_tests(text)
    except FeelError:
        return []
    return [test[1][1] for test in tests.tree[1] if test[0] == "equals" and test[1][0] == "lit"] \
        if tests.tree[0] == "tests" else []


def read(doc, file: str) -> dict[str, Decision]:
    """Every decision table of a DMN document, by decision id. Raises DecisionError."""
    decisions = {}
    for node in doc.iter():
        if _local(node) != "decision":
            continue
        tables = _children(node, "decisionTable")
        decision_id = node.get("id")
        if not tables:
            raise DecisionError(f"{file}: decision {decision_id!r} has no decision table (literal expressions and "
                                "other decision logic are not supported)")
        table = tables[0]
        hit_policy = (table.get("hitPolicy") or "UNIQUE").upper().replace("_", " ")
        aggregation = (table.get("aggregation") or "").upper() or None
        where = f"decision {decision_id!r} (table {table.get('id')!r})"
        if hit_policy not in HIT_POLICIES or aggregation not in AGGREGATIONS:
            raise DecisionError(f"{where}: hit policy {hit_policy} {aggregation or ''} is not supported".strip())
        inputs = [(i.get("label") or i.get("id"), _text(_children(i, "inputExpression")[0]) if _children(
            i, "inputExpression") else None, (_children(i, "inputExpression") or [i])[0].get("typeRef"))
            for i in _children(table, "input")]
        outputs = [(o.get("name") or o.get("id"), o.get("label"), o.get("typeRef"),
                    _literal_values(_text(_children(o, "outputValues")[0]) if _children(o, "outputValues") else None))
                   for o in _children(table, "output")]
        rules = [Rule(number, r.get("id"), [_text(e) for e in _children(r, "inputEntry")],
                      [_text(e) for e in _children(r, "outputEntry")])
                 for number, r in enumerate(_children(table, "rule"), start=1)]
        required = [req.get("href", "").lstrip("#") for info in _children(node, "informationRequirement")
                    for req in _children(info, "requiredDecision")]
        decisions[decision_id] = Decision(decision_id, node.get("name") or decision_id, table.get("id") or "",
                                          hit_policy, aggregation, inputs, outputs, rules,
                                          list(dict.fromkeys(r for r in required if r)))
    return decisions


def is_python_dialect(decisions) -> bool:
    """Whether the tables were written for SpiffWorkflow's Python reading (Lotse's tables before FEEL)."""
    for decision in decisions.values():
        texts = [text for _, text, _ in decision.inputs] + \
            [text for rule in decision.rules for text in rule.inputs + rule.outputs]
        for text in texts:
            if text and _PYTHON_MARKERS.search(re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)):
                return True
    return False


_UNDERSCORE_NAME = re.compile(r"(?<![\w.])_\w*|\._\w*")


def _compile(compile_cell, text):
    """A cell compiled by engine.feel; a name starting with "_" is refused, as the sandbox refuses it in scripts
    (FEEL never reaches Python's internals, but a table that names them is a mistake or an attempt)."""
    found = _UNDERSCORE_NAME.search(re.sub(r'"(?:[^"\\]|\\.)*"', '""', text or ""))
    if found:
        raise FeelError(f'the name {found.group(0).lstrip(".")!r} is not allowed: names may not start with "_"')
    return compile_cell(text)


def check(decisions: dict[str, Decision]) -> list[str]:
    """What is wrong with the tables: cells FEEL cannot read, rules of the wrong width, missing decisions."""
    problems = []
    for decision in decisions.values():
        for required in decision.required:
            if required not in decisions:
                problems.append(f"{decision.where()}: the required decision {required!r} is not in this file")
        for label, text, _ in decision.inputs:
            if not text:
                problems.append(f"{decision.where()}: input {label!r} has no input expression")
                continue
            try:
                _compile(compile_expression, text)
            except FeelError as exc:
                problems.append(f"{decision.where()}: input {label!r} expression {text!r}: {exc}")
        if decision.aggregation and len(decision.outputs) != 1:
            problems.append(f"{decision.where()}: COLLECT {decision.aggregation} needs exactly one output")
        for rule in decision.rules:
            if len(rule.inputs) != len(decision.inputs) or len(rule.outputs) != len(decision.outputs):
                problems.append(f"{decision.where(rule)}: the rule has {len(rule.inputs)} input and "
                                f"{len(rule.outputs)} output entries, the table {len(decision.inputs)} and "
                                f"{len(decision.outputs)}")
                continue
            for (label, _, _), text in zip(decision.inputs, rule.inputs):
                try:
                    _compile(compile_unary_tests, text)
                except FeelError as exc:
                    problems.append(f"{decision.where(rule)}, input {label!r}: {text!r}: {exc}")
            for (name, _, _, _), text in zip(decision.outputs, rule.outputs):
                if text:
                    try:
                        _compile(compile_expression, text)
                    except FeelError as exc:
                        problems.append(f"{decision.where(rule)}, output {name!r}: {text!r}: {exc}")
    seen, cycle = set(), []

    def visit(decision_id, path):
        if decision_id in path:
            cycle.append(" → ".join([*path, decision_id]))
            return
        if decision_id in seen or decision_id not in decisions:
            return
        seen.add(decision_id)
        for required in decisions[decision_id].required:
            visit(required, [*path, decision_id])
    for decision_id in decisions:
        visit(decision_id, [])
    problems += [f"the decisions require each other in a cycle: {text}" for text in cycle]
    return problems


def _coerce(value, type_ref):
    kind = (type_ref or "").lower()
    if kind == "date":
        return temporal("date", value)
    if kind in ("datetime", "date and time"):
        return temporal("date and time", value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _storable(value):
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class DecisionEngine:
    """The decision a business rule task names, with the decisions it requires (a serializable value)."""

    def __init__(self, decision_id: str, decisions: dict[str, Decision]):
        self.decision_id, self.decisions = decision_id, decisions
        self._compiled = {}

    @property
    def decision(self) -> Decision:
        return self.decisions[self.decision_id]

    def to_dict(self) -> dict:
        return {"decision_id": self.decision_id,
                "decisions": {key: decision.to_dict() for key, decision in sorted(self.decisions.items())}}

    @classmethod
    def from_dict(cls, dct) -> "DecisionEngine":
        return cls(dct["decision_id"], {key: Decision.from_dict(d) for key, d in dct["decisions"].items()})

    def _cells(self, decision):
        if decision.id not in self._compiled:
            self._compiled[decision.id] = (
                [compile_expression(text) for _, text, _ in decision.inputs],
                [([compile_unary_tests(text) for text in rule.inputs],
                  [compile_expression(text) if text else None for text in rule.outputs]) for rule in decision.rules])
        return self._compiled[decision.id]

    def evaluate(self, data: dict, decision_id: str | None = None) -> list[dict]:
        """The decision's result: one dict of output name -> value per rule the hit policy keeps."""
        decision = self.decisions[decision_id or self.decision_id]
        scope = dict(data)
        for required in decision.required:           # a DRD: what a decision needs is decided first
            results = self.evaluate(scope, required)
            for name, _, _, _ in self.decisions[required].outputs:
                values = [result.get(name) for result in results]
                scope[name] = values[0] if len(values) == 1 else (values or None)
        input_expressions, rules = self._cells(decision)
        values = []
        for (label, _, type_ref), expression in zip(decision.inputs, input_expressions):
            values.append(_coerce(expression.evaluate(scope), type_ref))
        matched = []
        for rule, (tests, outputs) in zip(decision.rules, rules):
            if all(test.matches(value, scope) for test, value in zip(tests, values)):
                result = {}
                for (name, _, _, _), output in zip(decision.outputs, outputs):
                    result[name] = _storable(output.evaluate(scope)) if output is not None else None
                matched.append((rule, result))
        return self._hit_policy(decision, matched)

    def _hit_policy(self, decision, matched) -> list[dict]:
        policy = decision.hit_policy
        if policy == "UNIQUE" and len(matched) > 1:
            raise DecisionError(f"{decision.where()}: rules {', '.join(str(r.number) for r, _ in matched)} all "
                                "match, but the hit policy UNIQUE allows one")
        if policy == "ANY" and len({repr(sorted(result.items())) for _, result in matched}) > 1:
            raise DecisionError(f"{decision.where()}: rules {', '.join(str(r.number) for r, _ in matched)} match "
                                "with different outputs, but the hit policy ANY needs them equal")
        if policy in ("UNIQUE", "FIRST", "ANY"):
            return [matched[0][1]] if matched else []
        if policy in ("PRIORITY", "OUTPUT ORDER"):
            ordered = sorted(matched, key=lambda item: self._priority(decision, item))
            return [ordered[0][1]] if policy == "PRIORITY" and ordered else [result for _, result in ordered]
        results = [result for _, result in matched]         # COLLECT, RULE ORDER
        if decision.aggregation:
            name = decision.outputs[0][0]
            numbers = [r[name] for r in results if r.get(name) is not None]
            if decision.aggregation == "COUNT":
                return [{name: len(numbers)}]
            if not numbers:
                return []
            if decision.aggregation == "SUM":
                if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
                    raise DecisionError(f"{decision.where()}: COLLECT SUM needs numbers, not {numbers!r}")
                return [{name: sum(numbers)}]
            try:
                return [{name: (min if decision.aggregation == "MIN" else max)(numbers)}]
            except TypeError:
                raise DecisionError(f"{decision.where()}: COLLECT {decision.aggregation} cannot compare "
                                    f"{numbers!r}") from None
        return results

    @staticmethod
    def _priority(decision, item):
        rule, result = item
        keys = []
        for name, _, _, values in decision.outputs:
            value = result.get(name)
            keys.append(values.index(value) if value in values else len(values))
        return keys + [rule.number]


MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")


def map_result(results: list[dict], mapping: str | None, where: str):
    """The value camunda:resultVariable receives (camunda:mapDecisionResult, default resultList)."""
    mapping = mapping or "resultList"
    if mapping == "resultList":
        return results
    if mapping == "singleResult":
        if len(results) > 1:
            raise DecisionError(f"{where}: {len(results)} results, but camunda:mapDecisionResult singleResult "
                                "needs at most one")
        return results[0] if results else None
    if any(len(result) > 1 for result in results):
        raise DecisionError(f"{where}: camunda:mapDecisionResult {mapping} needs a table with one output")
    entries = [next(iter(result.values())) for result in results]
    if mapping == "collectEntries":
        return entries
    if len(entries) > 1:
        raise DecisionError(f"{where}: {len(entries)} results, but camunda:mapDecisionResult singleEntry needs at "
                            "most one")
    return entries[0] if entries else None


def as_variables(results: list[dict]) -> dict:
    """Without camunda:resultVariable: one result's outputs as variables, several results' as lists by output."""
    if len(results) == 1:
        return dict(results[0])
    merged = {}
    for result in results:
        for name, value in result.items():
            merged.setdefault(name, []).append(value)
    return merged
