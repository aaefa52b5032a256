"""Stand-alone harness for the bundled journeys (bpmn/*.bpmn, bpmn/*.dmn, forms/*.form).

Not a test module itself: tests/scenarios/ import it. It drives the diagrams with plain SpiffWorkflow
3.2.0 and the conventions the Lotse engine implements, so the process content can be checked without
the engine:

* Camunda 7 dialect parsed with SpiffWorkflow's CamundaParser (+ DMN);
* scripts, conditions, timers and DMN cells run in a RestrictedPython environment with the helpers
  ``today() now() add_duration() add_business_days() parse_date() days_between()``;
* a controllable clock (``Clock``) patched into SpiffWorkflow's timer module and the helpers;
* Camunda message events carry correlations computed from the payload (``hire_id``) and the thrower's
  (sub)workflow pins them, as the engine does;
* user-task metadata (candidate groups, due date, form, priority, ``camunda:properties``) read from
  the XML, due dates resolved the way the engine resolves them.

Switching a scenario to the engine means replacing ``Lotse`` below with the engine's case API.
"""
from __future__ import annotations

import glob
import json
import operator
import os
import re
from calendar import monthrange
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from lxml import etree
from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safer_getattr)

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessage
from SpiffWorkflow.camunda.specs.user_task import UserTask

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BPMN_DIR = os.path.join(ROOT, 'bpmn')
FORMS_DIR = os.path.join(ROOT, 'forms')
NS = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL', 'camunda': 'http://camunda.org/schema/1.0/bpmn',
      'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI'}
CAM = '{http://camunda.org/schema/1.0/bpmn}'


# --------------------------------------------------------------------------------------------- clock
class Clock:
    """The one clock of the harness (aware UTC)."""
    current = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    @classmethod
    def set(cls, value):
        cls.current = value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    @classmethod
    def advance(cls, **kw):
        cls.current = cls.current + timedelta(**kw)


class _FakeDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return Clock.current if tz is None else Clock.current.astimezone(tz)




# ------------------------------------------------------------------------------------------ helpers
def parse_iso_duration(text):
    """'P1M', 'P14D', 'PT48H', '-P28D' -> (sign, years, months, timedelta)."""
    sign = -1 if text.startswith('-') else 1
    parsed = TimerEventDefinition.parse_iso_duration(text.lstrip('-+'))
    years, months = parsed.pop('years', 0), parsed.pop('months', 0)
    weeks = parsed.pop('weeks', 0)
    return sign, years, months, timedelta(weeks=weeks, **parsed)


def _add_months(d, months):
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return d.replace(year=y, month=m, day=min(d.day, monthrange(y, m)[1]))


def add_duration(value, duration):
    """ISO date or datetime string + ISO 8601 duration (calendar months, optional leading '-').
    A date stays a date ('YYYY-MM-DD') when the duration has no time part."""
    sign, years, months, delta = parse_iso_duration(duration)
    is_date = len(value) == 10
    dt = datetime.fromisoformat(value) if not is_date else datetime.combine(date.fromisoformat(value), datetime.min.time())
    dt = _add_months(dt, sign * (years * 12 + months))
    dt = dt + sign * delta
    if is_date and delta.seconds == 0 and delta.microseconds == 0:
        return dt.date().isoformat()
    return dt.isoformat()


NRW_FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 3), (11, 1), (12, 25), (12, 26)}


def _easter(year):
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = ((h + l - 7 * m + 114) % 31) + 1
    return date(year, month, day)


def is_nrw_holiday(d):
    if (d.month, d.day) in NRW_FIXED_HOLIDAYS:
        return True
    e = _easter(d.year)
    return d in {e - timedelta(days=2), e + timedelta(days=1), e + timedelta(days=39), e + timedelta(days=50),
                 e + timedelta(days=60)}


def add_business_days(value, n):
    d = date.fromisoformat(value[:10])
    step = 1 if n >= 0 else -1
    left = abs(n)
    while left:
        d += timedelta(days=step)
        if d.weekday() < 5 and not is_nrw_holiday(d):
            left -= 1
    return d.isoformat()


def subtract_duration(value, duration):
    return add_duration(value, '-' + duration)


def is_business_day(value):
    d = date.fromisoformat(str(value)[:10])
    return d.weekday() < 5 and not is_nrw_holiday(d)


def today():
    return Clock.current.date().isoformat()


def now():
    return Clock.current.isoformat()


def parse_date(value):
    return date.fromisoformat(str(value)[:10]).isoformat()


def days_between(a, b):
    return (date.fromisoformat(str(b)[:10]) - date.fromisoformat(str(a)[:10])).days


HELPERS = {'today': today, 'now': now, 'add_duration': add_duration, 'subtract_duration': subtract_duration,
           'add_business_days': add_business_days, 'is_business_day': is_business_day,
           'parse_date': parse_date, 'days_between': days_between}


# -------------------------------------------------------------------------------- restricted scripts
_INPLACE = {'+=': operator.iadd, '-=': operator.isub, '*=': operator.imul, '/=': operator.itruediv,
            '//=': operator.ifloordiv, '%=': operator.imod}
BUILTINS = {**safe_builtins, **limited_builtins, 'dict': dict, 'list': list, 'sum': sum, 'min': min, 'max': max,
            'any': any, 'all': all, 'enumerate': enumerate, 'sorted': sorted}
GUARDS = {'_getattr_': safer_getattr, '_getitem_': default_guarded_getitem, '_getiter_': default_guarded_getiter,
          '_write_': full_write_guard, '_iter_unpack_sequence_': guarded_iter_unpack_sequence,
          '_unpack_sequence_': guarded_unpack_sequence, '_inplacevar_': lambda op, x, y: _INPLACE[op](x, y)}


@lru_cache(maxsize=4096)
def _compile(source, mode):
    res = (compile_restricted_exec if mode == 'exec' else compile_restricted_eval)(source)
    if res.errors:
        raise PermissionError('; '.join(res.errors))
    return res.code


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self):
        super().__init__(dict(HELPERS))

    def _globals(self, context, external_context):
        return {'__builtins__': BUILTINS, **GUARDS, **self.globals, **(external_context or {}), **context}

    def evaluate(self, expression, context, external_context=None):
        return eval(_compile(expression, 'eval'), self._globals(context, external_context))

    def execute(self, script, context, external_context=None):
        g = self._globals(context, external_context)
        exec(_compile(script, 'exec'), g)
        skip = set(BUILTINS) | set(GUARDS) | set(self.globals) | set(external_context or {}) | {'__builtins__'}
        for k in list(context):
            if k not in g:
                context.pop(k)
        context.update({k: v for k, v in g.items() if k not in skip and not callable(v)})
        return True


# ------------------------------------------------------------------ message convention (engine does it)
def _message_correlations(self, script_engine, payload):
    props = self.correlation_properties or []
    return self.calculate_correlations(script_engine, props, payload if isinstance(payload, dict) else {})


def _camunda_throw(self, my_task):
    """Payload = camunda:expression; correlations computed over the payload and pinned on the thrower."""
    result = my_task.workflow.script_engine.evaluate(my_task, self.expression) if self.expression else {}
    correlations = _message_correlations(self, my_task.workflow.script_engine, result)
    my_task.workflow.correlations.update(correlations)
    event = BpmnEvent(self, payload={'payload': result, 'result_var': self.result_var}, correlations=correlations)
    my_task.workflow.top_workflow.catch(event)


def _camunda_get_correlations(self, my_task, payload):
    inner = payload.get('payload') if isinstance(payload, dict) and 'result_var' in payload else payload
    return _message_correlations(self, my_task.workflow.script_engine, inner)


def _camunda_update_internal_data(self, my_task, event):
    """The receiver's camunda:resultVariable names where the payload lands."""
    payload = dict(event.payload)
    payload['result_var'] = self.result_var or payload.get('result_var') or f'{my_task.task_spec.bpmn_id}_message'
    my_task.internal_data[self.name] = payload


class patched:
    """Install the harness clock and message convention into SpiffWorkflow for the duration of a block.
    Nothing is patched at import time, so importing this module next to the engine is harmless."""
    PATCHES = {'throw': _camunda_throw, 'get_correlations': _camunda_get_correlations,
               'update_internal_data': _camunda_update_internal_data}

    def __enter__(self):
        self.saved_datetime = timer_module.datetime
        self.saved = {name: CamundaMessage.__dict__.get(name) for name in self.PATCHES}
        timer_module.datetime = _FakeDatetime
        for name, value in self.PATCHES.items():
            setattr(CamundaMessage, name, value)
        return self

    def __exit__(self, *exc):
        timer_module.datetime = self.saved_datetime
        for name, value in self.saved.items():
            if value is None:
                delattr(CamundaMessage, name)
            else:
                setattr(CamundaMessage, name, value)


# ------------------------------------------------------------------------------------------- parsing
def bpmn_files():
    return sorted(glob.glob(os.path.join(BPMN_DIR, '*.bpmn')))


def dmn_files():
    return sorted(glob.glob(os.path.join(BPMN_DIR, '*.dmn')))


def new_parser():
    parser = CamundaParser()
    parser.add_bpmn_files(bpmn_files())
    parser.add_dmn_files(dmn_files())
    return parser


@lru_cache(maxsize=None)
def element_meta():
    """{bpmn id: {'tag', 'name', 'process', 'groups', 'due', 'follow_up', 'form', 'priority', 'props'}}.
    Ids are unique across the bundled files (checked by check_content)."""
    meta = {}
    for path in bpmn_files():
        tree = etree.parse(path)
        for proc in tree.getroot().findall('bpmn:process', NS):
            for el in proc.iter():
                if not isinstance(el.tag, str) or el.get('id') is None or not el.tag.startswith('{' + NS['bpmn']):
                    continue
                props = {p.get('name'): p.get('value') for p in
                         el.findall('bpmn:extensionElements/camunda:properties/camunda:property', NS)}
                meta[el.get('id')] = {
                    'tag': etree.QName(el).localname, 'name': el.get('name'), 'process': proc.get('id'),
                    'file': os.path.basename(path), 'groups': [g.strip() for g in (el.get(CAM + 'candidateGroups') or '').split(',') if g.strip()],
                    'due': el.get(CAM + 'dueDate'), 'follow_up': el.get(CAM + 'followUpDate'),
                    'form': el.get(CAM + 'formRef'), 'priority': int(el.get(CAM + 'priority') or 50),
                    'props': props,
                }
    return meta


def resolve_date(spec, data, created, env=None):
    """Engine rule for camunda:dueDate/followUpDate: ISO duration from task creation, ISO date(-time), or
    ${python expression} over the case data (whose result is again a duration or date)."""
    if not spec:
        return None
    if spec.startswith('${') and spec.endswith('}'):
        env = env or RestrictedEnvironment()
        spec = env.evaluate(spec[2:-1], dict(data))
        if not spec:
            return None
    spec = str(spec)
    if spec.lstrip('-').startswith('P'):
        return datetime.fromisoformat(add_duration(created.isoformat(), spec))
    value = datetime.fromisoformat(spec)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------------------------------- running
class TaskView:
    def __init__(self, task, created):
        self.task = task
        self.id = task.task_spec.bpmn_id
        self.meta = element_meta().get(self.id, {})
        self.name = self.meta.get('name')
        self.groups = self.meta.get('groups', [])
        self.form = self.meta.get('form')
        self.priority = self.meta.get('priority')
        self.props = self.meta.get('props', {})
        self.actor = self.props.get('actor')
        self.created = created
        self.due = resolve_date(self.meta.get('due'), task.data, created)

    @property
    def data(self):
        return self.task.data

    def __repr__(self):
        return f'<Task {self.id} groups={self.groups} due={self.due}>'


class Lotse:
    """A minimal stand-in for the Lotse engine: one process instance per case, messages routed between
    cases on name + correlation, a shared clock. Use it as a context manager (installs the patches):

        with Lotse() as lotse:
            case = lotse.start_case('employer_journey')
    """

    def __enter__(self):
        self._patch = patched().__enter__()
        return self

    def __exit__(self, *exc):
        self._patch.__exit__(*exc)

    def __init__(self):
        self.parser = new_parser()
        self.cases = {}            # case id -> BpmnWorkflow
        self.case_process = {}
        self.outbox = []           # (case id, message name, payload, correlations) as thrown
        self.delivered = []        # (from case, to case, message name)
        self.unrouted = []
        self.created = {}          # task uuid -> creation time
        self.completed = {}        # case id -> [bpmn ids of completed tasks, in order]
        self._seq = 0
        self.start_processes = self._message_start_processes()

    # ---- deployment facts
    def _message_start_processes(self):
        starts = {}
        for el_id, m in element_meta().items():
            if m['tag'] == 'startEvent':
                path = os.path.join(BPMN_DIR, m['file'])
                tree = etree.parse(path)
                el = tree.getroot().find(f'.//bpmn:startEvent[@id="{el_id}"]/bpmn:messageEventDefinition', NS)
                if el is not None:
                    msg = tree.getroot().find(f'.//bpmn:message[@id="{el.get("messageRef")}"]', NS)
                    starts[msg.get('name')] = m['process']
        return starts

    def _new_workflow(self, process_id):
        spec = self.parser.get_spec(process_id)
        subs = self.parser.get_subprocess_specs(process_id)
        return BpmnWorkflow(spec, subs, script_engine=PythonScriptEngine(environment=RestrictedEnvironment()))

    # ---- cases
    def start_case(self, process_id, data=None):
        self._seq += 1
        cid = f'{process_id}-{self._seq}'
        wf = self._new_workflow(process_id)
        if data:
            wf.get_tasks(state=TaskState.READY)[0].data.update(data)
        self.cases[cid], self.case_process[cid] = wf, process_id
        self.completed[cid] = []
        self._step(cid)
        return cid

    def _step(self, cid):
        wf = self.cases[cid]
        before = {t.id for t in wf.get_tasks(state=TaskState.COMPLETED)}
        wf.refresh_timers()
        wf.do_engine_steps(did_complete_task=lambda t: self.completed[cid].append(t.task_spec.bpmn_id))
        wf.refresh_timers()
        wf.do_engine_steps(did_complete_task=lambda t: self.completed[cid].append(t.task_spec.bpmn_id))
        for t in wf.get_tasks(state=TaskState.READY, manual=True):
            self.created.setdefault(t.id, Clock.current)
        events = wf.get_events()
        for ev in events:
            payload = ev.payload.get('payload') if isinstance(ev.payload, dict) else ev.payload
            self.outbox.append((cid, ev.event_definition.name, payload, ev.correlations))
            self._route(cid, ev)

    def _route(self, from_cid, event):
        name = event.event_definition.name
        for cid, wf in list(self.cases.items()):
            if cid == from_cid or wf.completed:
                continue
            for pending in wf.waiting_events():
                if pending.name != name:
                    continue
                wanted = pending.correlations or {}
                if all(wanted.get(k) == v for k, v in event.correlations.items()) and wanted:
                    wf.send_event(event)
                    self.delivered.append((from_cid, cid, name))
                    self._step(cid)
                    return cid
        if name in self.start_processes:
            self._seq += 1
            cid = f'{self.start_processes[name]}-{self._seq}'
            wf = self._new_workflow(self.start_processes[name])
            self.cases[cid], self.case_process[cid] = wf, self.start_processes[name]
            self.completed[cid] = []
            wf.do_engine_steps()
            wf.send_event(event)
            self.delivered.append((from_cid, cid, name))
            self._step(cid)
            return cid
        self.unrouted.append((from_cid, name, event.payload))
        return None

    def send_message(self, name, payload, from_cid='advisor'):
        """Start/feed a case with a message as if thrown elsewhere (e.g. an advisor starting a worker case)."""
        definition = CamundaMessage(name, self.parser.message_correlations.get(f'Message_{name}', []))
        corr = definition.calculate_correlations(PythonScriptEngine(environment=RestrictedEnvironment()),
                                                 definition.correlation_properties, payload)
        event = BpmnEvent(definition, payload={'payload': payload, 'result_var': None}, correlations=corr)
        self.outbox.append((from_cid, name, payload, corr))
        return self._route(from_cid, event)

    # ---- tasks
    def tasks(self, cid=None):
        out = []
        for c, wf in self.cases.items():
            if cid is not None and c != cid:
                continue
            for t in wf.get_tasks(state=TaskState.READY, manual=True):
                out.append(TaskView(t, self.created.get(t.id, Clock.current)))
        return out

    def task(self, cid, bpmn_id):
        found = [t for t in self.tasks(cid) if t.id == bpmn_id]
        if not found:
            raise AssertionError(f'{bpmn_id} not ready in {cid}; ready: {[t.id for t in self.tasks(cid)]}')
        return found[0]

    def complete(self, cid, bpmn_id, data=None, index=0):
        found = [t for t in self.tasks(cid) if t.id == bpmn_id]
        if len(found) <= index:
            raise AssertionError(f'{bpmn_id} not ready in {cid}; ready: {[t.id for t in self.tasks(cid)]}')
        task = found[index].task
        task.data.update(data or {})
        task.run()
        self.completed[cid].append(bpmn_id)
        self._step(cid)

    # ---- time
    def advance(self, **kw):
        Clock.advance(**kw)
        for cid in list(self.cases):
            if not self.cases[cid].completed:
                self._step(cid)

    # ---- state
    def data(self, cid):
        wf = self.cases[cid]
        return wf.data if wf.completed else wf.get_tasks(state=TaskState.READY)[0].data if wf.get_tasks(state=TaskState.READY) else wf.data

    def is_done(self, cid):
        return self.cases[cid].completed

    def reached(self, cid):
        """Milestone keys of completed elements, in order."""
        out = []
        meta = element_meta()
        for bid in self.completed[cid]:
            ms = meta.get(bid, {}).get('props', {}).get('milestone')
            if ms and ms not in out:
                out.append(ms)
        return out

    def ran(self, cid, bpmn_id):
        return bpmn_id in self.completed[cid]

    def cases_of(self, process_id):
        return [c for c, p in self.case_process.items() if p == process_id]


# ------------------------------------------------------------------------------------ static checks
HIDE_RE = re.compile(r'^=(not\([a-z_][a-z0-9_]*\)|[a-z_][a-z0-9_]* (=|!=) ("[^"]*"|true|false|-?\d+(\.\d+)?))$')
INPUT_TYPES = {'textfield', 'textarea', 'number', 'checkbox', 'checklist', 'radio', 'select', 'datetime', 'taglist'}
ALL_TYPES = INPUT_TYPES | {'text', 'group'}


def iter_components(components):
    for c in components:
        yield c
        if c.get('type') == 'group':
            yield from iter_components(c.get('components', []))


def load_forms():
    forms = {}
    for path in sorted(glob.glob(os.path.join(FORMS_DIR, '*.form'))):
        with open(path, encoding='utf-8') as f:
            forms[os.path.splitext(os.path.basename(path))[0]] = json.load(f)
    return forms


def check_forms():
    problems = []
    for name, form in load_forms().items():
        if form.get('id') != name:
            problems.append(f'{name}: id {form.get("id")!r} != file name')
        if form.get('type') != 'default' or form.get('schemaVersion') != 16:
            problems.append(f'{name}: type/schemaVersion')
        keys, ids = set(), set()
        for c in iter_components(form.get('components', [])):
            if c.get('type') not in ALL_TYPES:
                problems.append(f'{name}: component type {c.get("type")}')
            if c.get('id') in ids:
                problems.append(f'{name}: duplicate id {c.get("id")}')
            ids.add(c.get('id'))
            if c.get('type') in INPUT_TYPES:
                if not c.get('key') or not re.match(r'^[a-z][a-z0-9_]*$', c['key']):
                    problems.append(f'{name}: bad key {c.get("key")}')
                if c.get('key') in keys:
                    problems.append(f'{name}: duplicate key {c.get("key")}')
                keys.add(c.get('key'))
                if not c.get('label'):
                    problems.append(f'{name}: {c.get("key")} has no label')
                if c['type'] in ('radio', 'select', 'checklist') and not c.get('values'):
                    problems.append(f'{name}: {c["key"]} has no values')
            hide = (c.get('conditional') or {}).get('hide')
            if hide and not HIDE_RE.match(hide):
                problems.append(f'{name}: unsupported hide expression {hide!r}')
    return problems


def check_content():
    """Every diagram parses, ids unique across files, every user task has groups/due/form/actor,
    each formRef resolves, every timer/message/user task carries an actor."""
    problems = []
    seen = {}
    for path in bpmn_files():
        for el in etree.parse(path).getroot().iter():
            if isinstance(el.tag, str) and el.get('id') and el.tag.startswith('{' + NS['bpmn']):
                if etree.QName(el).localname in ('definitions', 'collaboration', 'participant', 'message',
                                                 'correlationProperty', 'laneSet'):
                    continue
                if el.get('id') in seen and seen[el.get('id')] != path:
                    problems.append(f'duplicate id {el.get("id")} in {path} and {seen[el.get("id")]}')
                seen[el.get('id')] = path
    forms = load_forms()
    parser = new_parser()
    for pid in parser.get_process_ids():
        parser.get_spec(pid)
        parser.get_subprocess_specs(pid)
    for bid, m in element_meta().items():
        if m['tag'] == 'userTask':
            for key in ('groups', 'due', 'form'):
                if not m[key]:
                    problems.append(f'{bid}: missing {key}')
            if m['form'] and m['form'] not in forms:
                problems.append(f'{bid}: form {m["form"]} not found')
            if m['props'].get('actor') not in ('center', 'employer', 'worker', 'authority'):
                problems.append(f'{bid}: actor {m["props"].get("actor")}')
            unknown = set(m['groups']) - {'advisor', 'supervisor', 'employer', 'worker'}
            if unknown:
                problems.append(f'{bid}: unknown groups {unknown}')
        if m['tag'] in ('intermediateCatchEvent', 'boundaryEvent', 'receiveTask') and not m['props'].get('actor'):
            problems.append(f'{bid}: catch event without actor')
        if m['props'].get('milestone') and not m['props'].get('milestone_label'):
            problems.append(f'{bid}: milestone without label')
    used = {m['form'] for m in element_meta().values() if m.get('form')}
    for name in forms:
        if name not in used:
            problems.append(f'form {name} is not used by any user task')
    return problems


def decide(decision_id, **data):
    """Evaluate one bundled DMN table over `data` (FIRST/UNIQUE: a dict; COLLECT: dict of lists)."""
    from types import SimpleNamespace
    engine = new_parser().get_engine(decision_id, None)
    task = SimpleNamespace(data=dict(data), workflow=SimpleNamespace(
        script_engine=PythonScriptEngine(environment=RestrictedEnvironment())))
    return dict(engine.result(task))
