"""The restricted environment every diagram expression and script runs in.

SpiffWorkflow's default environment is `eval`/`exec` with full builtins, so a script task
could run `__import__('os').system(...)`. Here every script, gateway condition, timer
expression, DMN cell and message payload is compiled by RestrictedPython (attribute names
starting with `_` are rejected at compile time, attribute access goes through
`safer_getattr`), runs with a short list of builtins and a few pure helpers, and never
sees a module. Values are deep-copied before a script runs: SpiffWorkflow 3.2.0 passes
nested data between tasks by shallow copy, and a script mutating a nested dict would
otherwise rewrite the data of earlier, completed tasks.
"""
import copy
import operator
import threading
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safer_getattr)
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import clock


class SandboxViolation(Exception):
    """Code that the sandbox refuses to compile (not a SyntaxError on purpose: SpiffWorkflow's
    error formatter crashes on a SyntaxError without a line number)."""


# --- helpers available to every diagram expression -------------------------------------------

def _as_datetime(value) -> datetime:
    """A date or date-time value as an aware time: a date is the start of that day in Berlin, a
    date-time without an offset is Berlin time (what people enter; `clock.deadline_instant` agrees)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=clock.BERLIN)


def _day(value) -> date:
    """The calendar day a value falls on in Berlin."""
    return clock.local_date(_as_datetime(value))


def today() -> str:
    """Today's date in Berlin as 'YYYY-MM-DD' (at 00:30 in Berlin it is already the next day there, not in UTC)."""
    return clock.local_date(clock.now()).isoformat()


def now() -> str:
    return clock.now().isoformat()


def parse_date(value) -> str:
    """Normalise a date or date-time text to the Berlin day 'YYYY-MM-DD'."""
    return _day(value).isoformat()


def add_duration(start, duration: str) -> str:
    """`start` plus an ISO 8601 duration ('P14D', 'PT48H', 'P3M'). A date stays a date."""
    parsed = TimerEventDefinition.parse_iso_duration(duration)
    begin = _as_datetime(start)
    result = begin + TimerEventDefinition.get_timedelta_from_start(parsed, begin)
    if isinstance(start, str) and len(start) == 10:
        return result.date().isoformat()
    return result.isoformat()


def subtract_duration(start, duration: str) -> str:
    parsed = TimerEventDefinition.parse_iso_duration(duration)
    end = _as_datetime(start)
    result = end - TimerEventDefinition.get_timedelta_from_end(parsed, end)
    if isinstance(start, str) and len(start) == 10:
        return result.date().isoformat()
    return result.isoformat()


_NRW_HOLIDAYS = holidays.Germany(subdiv="NW")


def is_business_day(value) -> bool:
    day = _day(value)
    return day.weekday() < 5 and day not in _NRW_HOLIDAYS


def add_business_days(start, days: int) -> str:
    """Working days in North Rhine-Westphalia (weekends and public holidays skipped)."""
    day = _day(start)
    step = 1 if days >= 0 else -1
    remaining = abs(int(days))
    while remaining:
        day += timedelta(days=step)
        if day.weekday() < 5 and day not in _NRW_HOLIDAYS:
            remaining -= 1
    return day.isoformat()


def days_between(first, second) -> int:
    return (_day(second) - _day(first)).days


HELPERS = {
    "today": today, "now": now, "parse_date": parse_date, "add_duration": add_duration,
    "subtract_duration": subtract_duration, "add_business_days": add_business_days,
    "is_business_day": is_business_day, "days_between": days_between,
}

# --- print() in scripts: into the case log ------------------------------------------------------

_printed = threading.local()


class ScriptPrint:
    """What RestrictedPython calls for `print(...)` in a script (`_print_`): the text is kept for the
    case log (`take_printed`), never written to the server's output."""

    def __init__(self, _getattr=None):
        self.lines = []

    def _call_print(self, *objects, sep=" ", end="\n", **_ignored):
        line = str(sep).join(str(obj) for obj in objects)
        self.lines.append(line)
        if not hasattr(_printed, "lines"):
            _printed.lines = []
        _printed.lines.append(line[:2000])

    def __call__(self):                      # a script reading `printed` gets what it printed so far
        return "\n".join(self.lines) + ("\n" if self.lines else "")


def take_printed() -> list[str]:
    """The lines scripts printed in this thread since the last call (the case log takes them)."""
    lines, _printed.lines = getattr(_printed, "lines", []), []
    return lines


# --- the environment ----------------------------------------------------------------------------

_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
            "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow}

BUILTINS = {
    **safe_builtins, **limited_builtins,
    "dict": dict, "list": list, "set": set, "frozenset": frozenset, "sum": sum, "min": min, "max": max,
    "any": any, "all": all, "enumerate": enumerate, "sorted": sorted, "map": map, "filter": filter,
    "reversed": reversed,
}
GUARDS = {
    "_getattr_": safer_getattr, "_getitem_": default_guarded_getitem, "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": lambda op, x, y: _INPLACE[op](x, y),
    "_print_": ScriptPrint,
}
_RESERVED = set(BUILTINS) | set(GUARDS) | set(HELPERS) | {"__builtins__"}


@lru_cache(maxsize=4096)
def compile_code(source: str, mode: str):
    """Compile `source` ('exec' for scripts, 'eval' for expressions) or raise SandboxViolation."""
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source)
    if result.errors:
        raise SandboxViolation("; ".join(result.errors))
    return result.code


def check_code(source: str, mode: str) -> str | None:
    """The reason `source` cannot run in the sandbox, or None (used when validating a deployment)."""
    try:
        compile_code(source, mode)
    except SandboxViolation as exc:
        return str(exc)
    return None


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, helpers=None):
        super().__init__({**HELPERS, **(helpers or {})})

    def _globals(self, context, external_context):
        return {"__builtins__": BUILTINS, **GUARDS, **self.globals, **(external_context or {}), **context}

    def evaluate(self, expression, context, external_context=None):
        return eval(compile_code(expression, "eval"), self._globals(copy.deepcopy(context), external_context))

    def execute(self, script, context, external_context=None):
        fresh = copy.deepcopy(context)          # protect earlier tasks' nested data (3.2.0 shallow copy)
        scope = self._globals(fresh, external_context)
        exec(compile_code(script, "exec"), scope)
        skip = _RESERVED | set(self.globals) | set(external_context or {})
        for key in list(context):
            if key not in scope:
                del context[key]
        for key, value in scope.items():
            if key not in skip and not callable(value):
                context[key] = value
        return True


class LotseScriptEngine(PythonScriptEngine):
    """The script engine every workflow runs with."""

    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def call_service(self, context, **kwargs):   # the base class's error path has a NameError
        raise NotImplementedError("service tasks are not supported in Lotse diagrams")


script_engine = LotseScriptEngine()


def evaluate(expression: str, data: dict):
    """Evaluate an expression outside a workflow step (due dates, assignees) in the same sandbox."""
    return script_engine.environment.evaluate(expression, data)
