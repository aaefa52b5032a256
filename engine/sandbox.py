"""The restricted environment every diagram expression and script runs in.

SpiffWorkflow's default environment is `eval`/`exec` with full builtins, so a script task
could run `__import__('os').system(...)`. Here every script, gateway condition, timer
expression, DMN cell and message payload is compiled by RestrictedPython (attribute names
starting with `_` are rejected at compile time, attribute access goes through
`safer_getattr`), runs with a short list of builtins and a few pure helpers, and never
sees a module. Values are deep-copied before a script runs: SpiffWorkflow 3.2.0 passes
nested data between tasks by shallow copy, and a script mutating a nested dict would
otherwise rewrite the data of earlier, completed tasks.

Code runs under limits (`Limits`: CPU time, memory, size of the data it leaves), enforced by
a trace function (`_Run`) and guards on the operations that can build a huge value at once.
Whatever it raises, even SystemExit, reaches SpiffWorkflow as an ordinary exception, so a
script's failure is its case's incident and nothing more.
"""
import ast
import builtins
import copy
import json
import operator
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from RestrictedPython import (RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec,
                             limited_builtins, safe_builtins)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safer_getattr)
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import clock
from engine.settings import setting


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


# --- limits ---------------------------------------------------------------------------------------


class ScriptLimitExceeded(Exception):
    """A script went past its CPU time, its memory or the size of a case's data."""


class ScriptAborted(Exception):
    """A script raised SystemExit or another BaseException: reported like any failing script."""


class ScriptResultError(Exception):
    """A script left a value in the case data that cannot be stored (not JSON, or a reserved key)."""


class _Stop(BaseException):
    """Raised inside a script that went past a limit. Not an Exception, and scripts may only catch
    named built-in Exceptions (see `_Policy`), so no script can catch it and carry on."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 2.0
    memory_mb: int = 256
    case_data_kb: int = 1024

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 2**20


def current_limits() -> Limits:
    """The deployment's limits (engine/settings.py)."""
    return Limits(setting("SCRIPT_CPU_SECONDS"), setting("SCRIPT_MEMORY_MB"), setting("CASE_DATA_KB"))


MAX_INT_BITS = 2**16          # C-level big-integer work a single operation may do
MAX_FORMAT_WIDTH = 10_000     # widths and precisions in f-strings and %-formatting
CHECK_EVERY = 0.01            # seconds (wall clock) between the CPU and memory checks of a running script
_local = threading.local()


def _memory_limit() -> int:
    run = getattr(_local, "run", None)
    return (run.limits if run is not None else current_limits()).memory_bytes


def _allocation(nbytes: int):
    """Refuse, before it happens, one operation that would allocate more than a script may use."""
    limit = _memory_limit()
    if nbytes > limit:
        raise _Stop(f"memory limit: one operation would allocate about {nbytes // 2**20} MB; a script may use "
                    f"at most {limit // 2**20} MB")


def _int_bits(bits: int):
    if bits > MAX_INT_BITS:
        raise _Stop(f"an integer of about {bits} bits is too large (at most {MAX_INT_BITS} bits)")


def _payload(value) -> int | None:
    """Approximate bytes of a str, bytes, list or tuple's contents; None for other values."""
    if isinstance(value, str):
        return len(value) * (1 if value.isascii() else 4)
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, (list, tuple)):
        return 8 * len(value)
    return None


_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_widths(numbers, where):
    for number in numbers:
        if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
            raise _Stop(f"memory limit: a {where} width or precision of {number} is too large "
                        f"(at most {MAX_FORMAT_WIDTH})")


def _format_spec(spec: str) -> str:
    """An f-string's format spec, checked (f'{x:>1000000000}' would allocate a gigabyte)."""
    _check_widths(re.findall(r"\d+", spec), "format")
    return spec


def _check_operation(op, a, b):
    """Refuse a `*`, `+`, `**`, `<<` or `%` whose result would be too large to compute or hold."""
    if op == "*":
        if isinstance(a, int) and isinstance(b, int):
            _int_bits(a.bit_length() + b.bit_length())
        elif isinstance(b, int) and _payload(a) is not None:
            _allocation(_payload(a) * b)
        elif isinstance(a, int) and _payload(b) is not None:
            _allocation(_payload(b) * a)
    elif op == "+":
        if _payload(a) is not None and _payload(b) is not None:
            _allocation(_payload(a) + _payload(b))
    elif op == "**":
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            _int_bits(a.bit_length() * b)
    elif op == "<<":
        if isinstance(a, int) and isinstance(b, int) and b > 0:
            _int_bits(a.bit_length() + b)
    elif op == "%" and isinstance(a, (str, bytes)):
        text = a if isinstance(a, str) else a.decode("latin-1")
        _check_widths([n for spec in _PRINTF_SPEC.findall(text) for n in spec], "%-format")


_BINARY = {"*": operator.mul, "+": operator.add, "**": operator.pow, "<<": operator.lshift, "%": operator.mod}
_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
            "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
            ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor}


def _operate(op, a, b):
    _check_operation(op, a, b)
    return _BINARY[op](a, b)


def _inplace(op, a, b):
    _check_operation(op[:-1], a, b)
    return _INPLACE[op](a, b)


def _pow(base, exp, mod=None):
    if mod is None:
        _check_operation("**", base, exp)
    return pow(base, exp, mod)


def _sized_result(obj, name, args, kwargs) -> int:
    """Bytes a str/bytes/int method that is given a size (or builds one string from many) would return."""
    width = 1 if not isinstance(obj, str) or obj.isascii() else 4
    if name in ("center", "ljust", "rjust", "zfill"):
        return int(args[0] if args else kwargs.get("width", 0)) * width
    if name == "expandtabs":
        return (len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t")
                * int(args[0] if args else kwargs.get("tabsize", 8))) * width
    if name == "replace":
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        found = len(obj) + 1 if not old else obj.count(old)
        found = found if count < 0 else min(found, count)
        return (len(obj) + found * max(0, len(new) - len(old))) * width
    if name == "translate":
        table = args[0] if args else None
        longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1) \
            if isinstance(table, dict) else 1
        return len(obj) * max(1, longest) * width
    if name == "to_bytes":
        return int(args[0] if args else kwargs.get("length", 1))
    return 0


_SIZED_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "translate", "to_bytes", "join"}


def _getattr(obj, name, *default):
    value = safer_getattr(obj, name, *default)
    if name in _SIZED_METHODS and isinstance(obj, (str, bytes, int)) and callable(value):
        if name == "join":
            def join(items):
                items = list(items)
                _allocation(sum(_payload(i) or 0 for i in items) + (_payload(obj) or 0) * len(items))
                return value(items)
            return join

        def sized(*args, **kwargs):
            _allocation(_sized_result(obj, name, args, kwargs))
            return value(*args, **kwargs)
        return sized
    return value


# --- the environment ----------------------------------------------------------------------------

BUILTINS = {
    **safe_builtins, **limited_builtins,
    "dict": dict, "list": list, "set": set, "frozenset": frozenset, "sum": sum, "min": min, "max": max,
    "any": any, "all": all, "enumerate": enumerate, "sorted": sorted, "map": map, "filter": filter,
    "reversed": reversed, "pow": _pow,
}
del BUILTINS["KeyboardInterrupt"]     # so a KeyboardInterrupt is always the operator's Ctrl-C, never a script's
GUARDS = {
    "_getattr_": _getattr, "_getitem_": default_guarded_getitem, "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": _inplace, "_operate_": _operate,
    "_format_spec_": _format_spec, "_print_": ScriptPrint,
}
_RESERVED = set(BUILTINS) | set(GUARDS) | set(HELPERS) | {"__builtins__"}
CATCHABLE = sorted(name for name, value in BUILTINS.items()
                   if isinstance(value, type) and issubclass(value, Exception))
_GUARDED_OPS = {ast.Mult: "*", ast.Add: "+", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus what keeps a script inside its limits.

    Operators that can build a huge value in one step go through `_operate_`, and f-string
    format specs through `_format_spec_`. A script may only catch named built-in exceptions and
    has no `finally`: then nothing in it can catch or outlast the `_Stop` that ends it.
    """

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        op = _GUARDED_OPS.get(type(node.op))
        if op is None:
            return node
        call = ast.Call(func=ast.Name("_operate_", ast.Load()), args=[ast.Constant(op), node.left, node.right],
                        keywords=[])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        if node.format_spec is not None:
            checked = ast.Call(func=ast.Name("_format_spec_", ast.Load()), args=[node.format_spec], keywords=[])
            node.format_spec = ast.JoinedStr(values=[ast.FormattedValue(value=checked, conversion=-1)])
            ast.fix_missing_locations(ast.copy_location(node.format_spec, node))
        return node

    def visit_Try(self, node):
        node = self.node_contents_visit(node)
        if node.finalbody:
            self.error(node, "try … finally is not allowed in diagram scripts")
        for handler in node.handlers:
            names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if not all(isinstance(name, ast.Name) and name.id in CATCHABLE for name in names):
                self.error(handler, "except must name built-in exceptions (for example `except (KeyError, "
                                    "ValueError):`); a bare except, BaseException or other names are not allowed")
        return node


@lru_cache(maxsize=4096)
def compile_code(source: str, mode: str):
    """Compile `source` ('exec' for scripts, 'eval' for expressions) or raise SandboxViolation."""
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, policy=_Policy)
    if result.errors:
        raise SandboxViolation("; ".join(result.errors))
    return result.code


@lru_cache(maxsize=4096)       # a redeployment checks mostly the same code again
def check_code(source: str, mode: str) -> str | None:
    """The reason `source` cannot run in the sandbox, or None (used when validating a deployment).

    An expression may call only the sandbox's functions: case data is JSON, so a call of any other
    name fails at run time, which is how a Camunda JUEL or Java expression
    (`${dateTime().plusDays(7)}`, `${execution.getVariable('x')}`) would end: caught here instead."""
    try:
        compile_code(source, mode)
    except SandboxViolation as exc:
        return str(exc)
    if mode == "eval":
        unknown = sorted({node.func.id for node in ast.walk(ast.parse(source, mode="eval"))
                          if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                          and node.func.id not in BUILTINS and node.func.id not in HELPERS})
        if unknown:
            return (f"calls {', '.join(f'{name}()' for name in unknown)}, which Lotse does not have (expressions are "
                    f"Python, not JUEL; functions: {', '.join(sorted(HELPERS))})")
    return None


@lru_cache(maxsize=4096)
def unknown_calls(source: str, mode: str) -> str | None:
    """The functions code calls that it can never have (case data holds no functions), or None.

    A script calling `my_custom_function(…)` (SpiffWorkflow's tests register such functions) would
    fail in every case; saying so at deploy names the function. Names the code defines or assigns
    itself count as known.
    """
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return None                   # check_code reports it
    # Python's own builtins are left to the sandbox, which blocks the unsafe ones when they run (an incident).
    known = set(BUILTINS) | set(HELPERS) | set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)) and hasattr(node, "name"):
            known.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            known.add(node.id)
        elif isinstance(node, ast.arg):
            known.add(node.arg)
    called = sorted({node.func.id for node in ast.walk(tree)
                     if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in known})
    if called:
        return (f"it calls {', '.join(called)}, which no Lotse script has; the functions there are: "
                f"{', '.join(sorted(HELPERS))} and Python's safe builtins")
    return None


def _rss() -> int | None:
    """The process's resident memory in bytes (Linux); None where /proc is missing."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _Run:
    """One script or expression under its limits.

    Its trace function sees every instruction of the code (a loop on one line has no line
    events) and every line of the helpers it calls; every CHECK_EVERY seconds it compares the
    thread's CPU time and the growth of the process's memory with the limits. Tracing works in
    any thread, unlike signals. What one instruction can do in C is bounded by the guards
    above. The memory baseline is taken at the first check, so a short run never reads it.
    Memory is the process's: in a threaded server, another thread's growth during a run
    counts too (rare at this size).
    """

    def __init__(self, scope, limits: Limits):
        self.scope, self.limits = scope, limits
        self.cpu_start = time.thread_time()
        self.rss_start = None
        self.next_check = time.perf_counter() + CHECK_EVERY

    def trace(self, frame, event, arg):
        if event == "call" and frame.f_globals is self.scope:
            frame.f_trace_opcodes = True
        if time.perf_counter() >= self.next_check:
            self.check()
        return self.trace

    def check(self):
        used = time.thread_time() - self.cpu_start
        if used > self.limits.cpu_seconds:
            raise _Stop(f"CPU time limit: the script ran for more than {self.limits.cpu_seconds:g} s")
        rss = _rss()
        if rss is not None and self.rss_start is None:
            self.rss_start = rss
        elif rss is not None and rss - self.rss_start > self.limits.memory_bytes:
            raise _Stop(f"memory limit: the script used more than {self.limits.memory_mb} MB")
        self.next_check = time.perf_counter() + CHECK_EVERY


def _raised_by_script(exc, scope) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_globals is scope


def _run(code, scope):
    """Run compiled code under the limits. Whatever the code raises reaches the caller as an Exception."""
    if getattr(_local, "run", None) is not None:       # already inside a run on this thread
        return eval(code, scope)
    run = _local.run = _Run(scope, current_limits())
    previous = sys.gettrace()
    sys.settrace(run.trace)
    try:
        return eval(code, scope)
    except _Stop as stop:
        raise ScriptLimitExceeded(str(stop)).with_traceback(stop.__traceback__) from None
    except Exception:
        raise
    except BaseException as exc:
        if not _raised_by_script(exc, scope):
            raise                     # a signal (gunicorn's SIGINT, Ctrl-C) or the job timeout: not the script's
        raise ScriptAborted(f"the script raised {type(exc).__name__}{': ' if str(exc) else ''}{exc}") \
            .with_traceback(exc.__traceback__) from None
    finally:
        sys.settrace(previous)
        _local.run = None


def _storable_problem(value, path):
    """Where in `value` something is that the case data cannot store, and what, or None."""
    if value is None or isinstance(value, (str, int, float, bool, date, datetime, timedelta)):
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = _storable_problem(item, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "typename":
                return f"{path}: the key 'typename' is reserved"
            if not isinstance(key, (str, int, float, bool)):
                return f"{path}: a key of type {type(key).__name__} cannot be stored"
            problem = _storable_problem(item, f"{path}[{key!r}]")
            if problem:
                return problem
        return None
    return f"{path} is a {type(value).__name__}, which cannot be stored in the case data"


def _as_json(value):
    if isinstance(value, (date, datetime, timedelta)):
        return str(value)
    raise TypeError(type(value).__name__)


def _check_storable(values: dict):
    """Every value a script leaves must be storable, and the data at most CASE_DATA_KB large as JSON."""
    try:
        text = json.dumps(values, default=_as_json)
    except ValueError:
        raise ScriptResultError("the data contains a value that contains itself") from None
    except TypeError:
        text = None
    if text is None or '"typename"' in text:       # only then look for what and where
        for key, value in values.items():
            problem = _storable_problem(value, key)
            if problem:
                raise ScriptResultError(problem)
    limits = current_limits()
    if len(text) > limits.case_data_kb * 1024:
        biggest = max(values, key=lambda k: len(json.dumps(values[k], default=_as_json)))
        raise ScriptLimitExceeded(f"case data limit: the data would be {len(text) // 1024} KB (largest: "
                                  f"{biggest!r}); a case's data may be at most {limits.case_data_kb} KB")


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, helpers=None):
        super().__init__({**HELPERS, **(helpers or {})})

    def _globals(self, context, external_context):
        return {"__builtins__": BUILTINS, **GUARDS, **self.globals, **(external_context or {}), **context}

    def evaluate(self, expression, context, external_context=None):
        return _run(compile_code(expression, "eval"), self._globals(copy.deepcopy(context), external_context))

    def execute(self, script, context, external_context=None):
        fresh = copy.deepcopy(context)          # protect earlier tasks' nested data (3.2.0 shallow copy)
        scope = self._globals(fresh, external_context)
        _run(compile_code(script, "exec"), scope)
        skip = _RESERVED | set(self.globals) | set(external_context or {})
        results = {key: value for key, value in scope.items() if key not in skip and not callable(value)}
        _check_storable(results)
        for key in list(context):
            if key not in scope:
                del context[key]
        context.update(results)
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
