"""Loading and saving a case's workflow, and keeping the derived tables in step with it.

A case row stores SpiffWorkflow's serialization *without* the process spec: the spec is
restored from the pinned `ProcessDefinition` (parsed once at deploy time, cached per
process). `sync` rewrites what lists read — open human tasks, waiting timers, message
subscriptions, the next due time — from the workflow, in the caller's transaction.
"""
import copy
import hashlib
import json
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import version as package_version
from typing import NamedTuple
from uuid import UUID

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import (BpmnTaskSpecConverter, EventJoinConverter,
                                                             MultiInstanceTaskConverter)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition,
                                                              TimeDateEventDefinition, TimerEventDefinition)
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter
from sqlalchemy import bindparam, delete, inspect, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ColumnProperty, undefer
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlalchemy.orm.base import PASSIVE_NO_INITIALIZE
from sqlalchemy.orm.exc import StaleDataError

from engine import access, casedata, clock, dmn, notifications, parsing, sandbox, task_counts
from engine.db import db, execute_direct
from engine.errors import InvalidData, UnreadableDefinition
from engine.forms import FormDefinition
from engine.parsing import CorrelatedMessageEventDefinition, DeadlineTimeDateEventDefinition
from engine.models import (Case, CaseEvent, ExternalTask, FormVersion, HumanTask, HumanTaskGroup, MessageSubscription,
                           OutboxMessage, ProcessDefinition, User, WaitingTimer)
from engine.models.statuses import CaseStatus, MessageStatus, TaskStatus

LIBRARY_VERSION = package_version("SpiffWorkflow")
TIMER_KINDS = {TimeDateEventDefinition: "date", DeadlineTimeDateEventDefinition: "date",
               DurationTimerEventDefinition: "duration", CycleTimerEventDefinition: "cycle",
               parsing.CronCycleTimerEventDefinition: "cycle"}


# --- serialization ------------------------------------------------------------------------------

class DefinitionFacts(NamedTuple):
    """What `sync` copies from a process version into task rows, and its number; immutable like the version."""
    key: str
    name: str
    forms: dict
    version: int


class _SpecCache:
    """definition id -> (spec, subprocess specs) and its facts; versions are immutable, so a small LRU is enough.

    A process test runs the engine on a scratch database whose definition ids repeat the real one's:
    inside `private()` this context (thread) has a cache of its own, and every other keeps the shared one.
    Beneath the ids, the restored specs are kept by their stored JSON: `forget_ids()` (a database whose ids now
    name other versions, as the tests' emptied one) keeps them, as a long-lived process would; `clear()` forgets
    everything, as a fresh process finds it.
    """

    def __init__(self, size=64):
        self.size, self._shared = size, (OrderedDict(), OrderedDict(), OrderedDict())
        self._private = ContextVar("lotse_private_spec_cache", default=None)

    @property
    def items(self) -> OrderedDict:
        """definition id -> (specs, facts)."""
        return (self._private.get() or self._shared)[0]

    @property
    def forms(self) -> OrderedDict:
        """form version id -> its parsed FormDefinition (versions never change)."""
        return (self._private.get() or self._shared)[1]

    @property
    def by_json(self) -> OrderedDict:
        """the digest of a stored spec JSON -> its restored specs (equal JSON restores to equal specs)."""
        return (self._private.get() or self._shared)[2]

    @contextmanager
    def private(self):
        token = self._private.set((OrderedDict(), OrderedDict(), OrderedDict()))
        try:
            yield
        finally:
            self._private.reset(token)

    def _entry(self, definition_id):
        return _kept(self.items, definition_id, lambda: self._read(definition_id), self.size)

    def _read(self, definition_id):
        # with its specs' JSON, which a miss always reads: one statement, not a second for the deferred column
        definition = db.session.get(ProcessDefinition, definition_id, options=[undefer(ProcessDefinition.spec_json)])
        if definition is None:
            raise UnreadableDefinition(f"process version {definition_id} does not exist")
        try:
            specs = _kept(self.by_json, hashlib.sha256(definition.spec_json.encode()).digest(),
                          lambda: restore_specs(definition.spec_json), self.size)
        except Exception as exc:        # stored data: whatever the serializer trips over, the caller hears one error
            raise UnreadableDefinition(f"the stored process {definition.key} v{definition.version} cannot be "
                                       f"read: {type(exc).__name__}: {exc}") from exc
        return specs, DefinitionFacts(definition.key, definition.name, dict(definition.forms or {}), definition.version)

    def get(self, definition_id):
        return self._entry(definition_id)[0]

    def readable(self, definition_id) -> bool:
        """Whether the version's specs can be restored (see UnreadableDefinition)."""
        try:
            self._entry(definition_id)
        except UnreadableDefinition:
            return False
        return True

    def facts(self, definition_id) -> DefinitionFacts:
        return self._entry(definition_id)[1]

    def form(self, form_version_id):
        """The parsed form of a form version (None: no such version), kept like the specs."""
        def read():
            version = db.session.get(FormVersion, form_version_id)
            return FormDefinition.from_json(version.schema) if version is not None else None
        return _kept(self.forms, form_version_id, read, self.size * 4)

    def forget_ids(self):
        self.items.clear()
        self.forms.clear()

    def clear(self):
        self.forget_ids()
        self.by_json.clear()


spec_cache = _SpecCache()


def _kept(cache: OrderedDict, key, make, size: int):
    """cache[key], made by make() on a miss (nothing kept if it raises); past `size` entries the least recently
    used one goes."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = make()
    if len(cache) > size:
        cache.popitem(last=False)
    return value


class SpecByReferenceConverter(BpmnWorkflowConverter):
    """Writes `definition_id` instead of the specs; restores them from the spec cache."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["definition_id"] = workflow.definition_id
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        dct["case_data"] = casedata.FORMAT
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = spec_cache.get(dct["definition_id"])
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.definition_id = dct.pop("definition_id")
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        workflow.case_data_format = dct.pop("case_data", None)
        return workflow


class BusinessRuleTaskConverter(BaseBusinessRuleTaskConverter):
    """A business rule task with a FEEL decision (engine.dmn) keeps its decisions; a Python-dialect one its table."""

    def to_dict(self, spec):
        if isinstance(spec.dmnEngine, dmn.DecisionEngine):
            dct = self.get_default_attributes(spec)
            dct["decisions"] = spec.dmnEngine.to_dict()
            return dct
        return super().to_dict(spec)

    def from_dict(self, dct):
        if "decisions" in dct:
            dct["dmnEngine"] = dmn.DecisionEngine.from_dict(dct.pop("decisions"))
            return self.task_spec_from_dict(dct)
        return super().from_dict(dct)


def _registry(config):
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda value: {"value": value.isoformat()},
                      lambda dct: date.fromisoformat(dct["value"]))
    return registry


_config = dict(DEFAULT_CONFIG)          # never mutate the library's module-level config
_config[BpmnWorkflow] = SpecByReferenceConverter
_config[CorrelatedMessageEventDefinition] = MessageEventDefinitionConverter
# After the library's classes of the same names: stored specs are restored as Lotse's (engine.parsing).
_config[parsing.BoundaryEventJoin] = EventJoinConverter
_config[parsing.ParallelMultiInstanceTask] = MultiInstanceTaskConverter
_config[parsing.SequentialMultiInstanceTask] = MultiInstanceTaskConverter
_config[parsing.ServiceTask] = BpmnTaskSpecConverter
_config[parsing.BusinessRuleTask] = BusinessRuleTaskConverter
registry = _registry(_config)
# A timeDate timer is restored as a deadline (end of day in Berlin), the specs of earlier deployments too.
TimerConditionalEventDefinitionConverter(DeadlineTimeDateEventDefinition, registry, typename="TimeDateEventDefinition")
TimerConditionalEventDefinitionConverter(parsing.CronCycleTimerEventDefinition, registry)
TimerConditionalEventDefinitionConverter(parsing.ConditionalEventDefinition, registry,
                                         typename="ConditionalEventDefinition")
serializer = BpmnWorkflowSerializer(registry)
SERIALIZER_VERSION = serializer.VERSION


def dump_specs(spec, subprocess_specs) -> str:
    return json.dumps({"spec": registry.convert(spec),
                       "subprocess_specs": {k: registry.convert(v) for k, v in sorted(subprocess_specs.items())}},
                      sort_keys=True)


def restore_specs(spec_json: str):
    dct = json.loads(spec_json)
    spec = registry.restore(dct["spec"])
    subprocess_specs = {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()}
    for process_spec in (spec, *subprocess_specs.values()):
        parsing.link_event_subprocesses(process_spec)
    return spec, subprocess_specs


def new_workflow(definition: ProcessDefinition) -> BpmnWorkflow:
    spec, subprocess_specs = spec_cache.get(definition.id)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=sandbox.script_engine)
    workflow.definition_id = definition.id
    return workflow


def load(case) -> BpmnWorkflow:
    workflow = serializer.deserialize_json(case.state)
    workflow.script_engine = sandbox.script_engine
    if workflow.case_data_format != casedata.FORMAT:    # stored with per-branch copies of the data
        casedata.adopt(workflow)
    return workflow


def dump(workflow) -> str:
    return serializer.serialize_json(workflow)


def find_task(workflow, task_id):
    """The task with this id in the workflow or any of its subprocesses, or None if the engine dropped it.

    SpiffWorkflow's `get_task_from_id` raises instead, and in 3.2.0 stops at the first subprocess
    that does not hold the task. A task can vanish: cancelling a repeating timer removes the
    reminder tasks it spawned.
    """
    task_id = task_id if isinstance(task_id, UUID) else UUID(str(task_id))
    for candidate in (workflow, *workflow.subprocesses.values()):
        if task_id in candidate.tasks:
            return candidate.tasks[task_id]
    return None


def check_storable(data: dict, path="") -> None:
    """Refuse data the serializer cannot round-trip: a `typename` key breaks deserialization."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise InvalidData(f"{path or 'data'}: keys must be text, not {key!r}", field=path)
            if key == "typename":
                raise InvalidData(f"the field name 'typename' is reserved ({path + key})", field=path + key)
            check_storable(value, f"{path}{key}.")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            check_storable(item, f"{path}{index}.")
    elif data is not None and not isinstance(data, (str, int, float, bool, date, datetime)):
        raise InvalidData(f"{path.rstrip('.') or 'data'}: values of type {type(data).__name__} cannot be stored",
                          field=path.rstrip("."))


# --- deadlines on user tasks ---------------------------------------------------------------------

def resolve_expression(value, data):
    """A camunda attribute value: `${python expression}` over task data, or the literal text."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return sandbox.evaluate(value[2:-1], data)
    return value


def resolve_date(value, data, created: datetime) -> datetime | None:
    """camunda:dueDate/followUpDate: an ISO duration from task creation, an ISO date(-time), or `${expr}`.
    A date is due at the end of that day in Berlin, as a timer on it fires (`clock.deadline_instant`)."""
    value = resolve_expression(value, data)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().startswith("P"):
        duration = TimerEventDefinition.parse_iso_duration(value.strip())
        return created + TimerEventDefinition.get_timedelta_from_start(duration, created)
    return clock.deadline_instant(value)


DEFAULT_CANDIDATE_GROUP = "advisor"     # of a user task that names no candidate and no known assignee


# --- keeping the derived tables in step -----------------------------------------------------------

def properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


class TaskAttributeError(Exception):
    """A user task's attribute (candidate groups, assignee, due date, …) could not be resolved from case data."""

    def __init__(self, task, attribute, cause):
        self.task, self.error_type = task, type(cause).__name__
        super().__init__(f"camunda:{attribute} of “{task.task_spec.bpmn_name or task.task_spec.bpmn_id}” "
                         f"could not be resolved: {cause}")


def _attribute(task, attribute, resolve):
    try:
        return resolve()
    except Exception as exc:        # any failure of a diagram's expression over case data
        raise TaskAttributeError(task, attribute, exc) from exc


def _open_human_task(case, task, definition, now) -> HumanTask:
    """The row of a task that opened: a transient object (never added to the session), see DerivedWrites.

    Raises TaskAttributeError if an attribute cannot be resolved from the task's data.
    """
    spec = task.task_spec
    ext = getattr(spec, "extensions", None) or {}
    data = casedata.visible(task)
    groups = _attribute(task, "candidateGroups",
                        lambda: resolve_expression(ext.get("candidateGroups", []), data)) or []
    users = _attribute(task, "candidateUsers", lambda: resolve_expression(ext.get("candidateUsers", []), data)) or []
    if isinstance(groups, str):
        groups = [g.strip() for g in groups.split(",") if g.strip()]
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    if not isinstance(groups, (list, tuple, set)) or not isinstance(users, (list, tuple, set)):
        raise TaskAttributeError(task, "candidateGroups", TypeError("expected a list or comma-separated text"))
    groups, users = [str(g) for g in groups], [str(u) for u in users]
    limit = HumanTaskGroup.group_name.type.length      # literal names are checked at deploy, these came from data
    for name in groups + [f"user:{u}" for u in users]:
        if len(name) > limit:
            raise TaskAttributeError(task, "candidateGroups", ValueError(
                f"the candidate group or user {name[:40]!r}… is longer than {limit} characters"))
    assignee_name = _attribute(task, "assignee", lambda: resolve_expression(ext.get("assignee"), data))
    assignee_id = None
    if assignee_name:
        assignee_id = db.session.scalar(select(User.id).where(User.username == str(assignee_name)))
    if not groups and not users and assignee_id is None:
        groups = [DEFAULT_CANDIDATE_GROUP]      # Camunda lets anyone work such a task; here the center's advisors
    try:
        priority = int(_attribute(task, "priority", lambda: resolve_expression(ext.get("priority", 50), data)))
    except (TypeError, ValueError):
        priority = 50
    due_at = _attribute(task, "dueDate", lambda: resolve_date(ext.get("dueDate"), data, now))
    follow_up_at = _attribute(task, "followUpDate", lambda: resolve_date(ext.get("followUpDate"), data, now))
    form_key = ext.get("formRef")
    row = HumanTask(
        id=str(task.id), case_id=case.id, center_id=case.center_id, employer_id=case.employer_id,
        case_reference=case.reference, case_subject=case.subject, process_key=definition.key,
        process_name=definition.name, element_id=spec.bpmn_id or spec.name,
        title=spec.bpmn_name or spec.bpmn_id or spec.name, documentation=spec.documentation,
        lane=spec.lane, actor=properties(spec).get("actor"), candidate_groups=list(groups),
        candidate_users=list(users), assignee_id=assignee_id,
        due_at=due_at, follow_up_at=follow_up_at,
        priority=priority, form_key=form_key, notice_kinds=ext.get("notices"),
        form_version_id=(definition.forms or {}).get(form_key) if form_key else None,
        state=TaskStatus.OPEN, created_at=now, notices_sent=[],
    )
    notifications.update_next_notice(row)      # what the mapper hook does for rows the session writes
    return row


def awaited(event) -> list:
    """The event definitions a waiting task listens for: an event-based gateway (or a multiple
    event) holds one per outgoing event, each of which may be a timer or a message."""
    return list(event.event_definitions) if isinstance(event, MultipleEventDefinition) else [event]


class AwaitedTimer(NamedTuple):
    """A timer the case waits for (a row of `waiting_timer`)."""
    task_id: str
    element_id: str
    name: str
    kind: str                   # date | duration | cycle | timer
    actor: str | None
    due: datetime
    cycles_left: int | None     # a cycle timer's repetitions left (-1 unbounded); None for other timers


class AwaitedMessage(NamedTuple):
    """A message the case waits for (a row of `message_subscription`)."""
    message_name: str
    element_id: str
    correlations: dict


class AwaitedExternal(NamedTuple):
    """An external task waiting for a worker (a row of `external_task`, engine.external_tasks)."""
    task_id: str
    element_id: str
    name: str
    topic: str
    priority: int


class CycleFired(NamedTuple):
    timer: AwaitedTimer
    repetitions: int


@dataclass
class SyncOutcome:
    """What `sync` changed."""
    opened: list                # task rows that opened
    closed: list                # task rows that closed (completed or cancelled)
    new_subscriptions: set      # message names the case newly waits for
    cycles_fired: list[CycleFired]
    failed: list                # task attribute errors: those tasks wait in ERROR
    moves: bool                 # the case has a ready task or waits for something


def waiting(workflow) -> list[AwaitedTimer | AwaitedMessage | AwaitedExternal]:
    """What the case waits for, as comparable rows: timers with their due time, message subscriptions,
    external tasks.

    `sync` compares this before and after a change and rewrites the waiting tables only when
    it differs (most task completions change nothing here). Correlations are copied, because
    the workflow's dicts change in place.
    """
    rows = []
    for task in workflow.event_manager.tasks.values():
        spec = task.task_spec
        element_id = spec.bpmn_id or spec.name
        for event in awaited(spec.event_definition):
            if isinstance(event, TimerEventDefinition):
                pending = event.details(task)
                if isinstance(pending.value, str):
                    cycle = task._get_internal_data("event_value") \
                        if isinstance(event, CycleTimerEventDefinition) else None
                    rows.append(AwaitedTimer(str(task.id), element_id, spec.bpmn_name or element_id,
                                             TIMER_KINDS.get(type(event), "timer"), properties(spec).get("actor"),
                                             clock.deadline_instant(pending.value),
                                             cycle["cycles"] if cycle else None))
            elif isinstance(event, MessageEventDefinition):
                correlations = task.workflow.correlations or workflow.correlations or {}
                rows.append(AwaitedMessage(event.name, element_id, copy.deepcopy(correlations)))
    started = workflow.get_tasks(state=TaskState.STARTED) if parsing.traits(workflow).external else []
    for task in started:
        if parsing.is_external(task.task_spec):      # waits for a worker (engine.external_tasks)
            spec = task.task_spec
            service = spec.extensions["service"]
            rows.append(AwaitedExternal(str(task.id), spec.bpmn_id, spec.bpmn_name, service["topic"],
                                        _priority(service.get("priority"))))
    return rows


def _priority(value) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def stopped_at(workflow) -> list[str]:
    """Elements where an unfinished workflow stands (joins waiting for a path, running activities)."""
    return sorted({task.task_spec.bpmn_id for task in workflow.get_tasks(state=TaskState.WAITING | TaskState.STARTED)
                   if task.task_spec.bpmn_id})


class DerivedWrites:
    """Derived rows a save (or a batch of saves) adds and retires, written with Core statements.

    `sync` collects what it retires (group rows of tasks that closed, the old waiting rows of a
    case whose waiting changed) and what it adds (rows of tasks that opened with their group
    rows, new waiting rows); the caller adds the events and the objects the change loaded (`loaded`:
    its cases and task rows). `execute` sends one statement per table, deletes first, and the
    loaded task rows' changed columns, in a single round trip on PostgreSQL (psycopg's pipeline
    mode; none of them returns anything we read); then each changed case's UPDATE, which checks
    and bumps `lock_version` as the flush would (its row count is read, so it is not pipelined).
    The loaded objects' changes are then marked written, and the flush at commit has nothing
    left of them: the unit of work costs several times the Core statements. What the flush's hooks do
    for such an object is done here (`_written_by_core`). An object with a changed relationship
    (a case's referrals) is left to the flush. Nothing inserted is an ORM object, so no autoflush
    can send an insert before its delete.
    """

    def __init__(self):
        self.groups_of_tasks, self.timers_of_cases, self.subscriptions_of_cases = [], [], []
        self.tasks, self.task_groups, self.timers, self.subscriptions, self.events = [], [], [], [], []
        self.external_tasks, self.external_ended = [], {"completed": [], "cancelled": []}
        self.loaded = []

    def execute(self):
        task_updates, case_updates, written = [], [], []
        for obj in self.loaded:
            values = _written_by_core(obj)
            if values is None:
                continue
            written.append(obj)
            if not values:
                continue
            if isinstance(obj, Case):
                case_updates.append((obj, {**values, "b_id": obj.id, "b_version": obj.lock_version,
                                           "lock_version": obj.lock_version + 1}))
            else:
                task_updates.append({**values, "b_id": obj.id})
        statements = [(statement, [{"b_id": key} for key in ids]) for statement, ids in (
            (_DELETE_TASK_GROUPS, self.groups_of_tasks), (_DELETE_TIMERS, self.timers_of_cases),
            (_DELETE_SUBSCRIPTIONS, self.subscriptions_of_cases)) if ids]
        statements += [(_END_EXTERNAL, [{"b_id": key, "state": ended, "ended_at": clock.now(), "worker_id": None,
                                         "lock_expires_at": None} for key in ids])
                       for ended, ids in self.external_ended.items() if ids]
        statements += [(_INSERT[model], rows) for model, rows in (
            (HumanTask, self.tasks), (HumanTaskGroup, self.task_groups), (WaitingTimer, self.timers),
            (MessageSubscription, self.subscriptions), (ExternalTask, self.external_tasks),
            (CaseEvent, self.events)) if rows]
        names = {}
        for group_row in self.task_groups:
            names.setdefault(group_row["task_id"], []).append(group_row["group_name"])
        for task_row in self.tasks:
            task_counts.note_opened(db.session, task_row, names.get(task_row["id"], ()))
        connection = db.session.connection()
        pipeline = getattr(connection.connection.driver_connection, "pipeline", None)   # psycopg only
        dbapi_error = connection.dialect.loaded_dbapi.Error
        statements += [(_UPDATE_TASK, [row]) for row in task_updates]   # one each: their columns differ
        try:
            with pipeline() if pipeline is not None and len(statements) > 1 else nullcontext():
                for statement, rows in statements:
                    execute_direct(connection, statement, rows)
        except dbapi_error as exc:   # raised as the pipeline ends, outside SQLAlchemy: wrap it as SQLAlchemy would
            raise DBAPIError.instance(None, None, exc, dbapi_error) from exc
        for case, row in case_updates:
            if execute_direct(connection, _UPDATE_CASE, [row]) != 1:
                raise StaleDataError(f"case {case.id} was changed by someone else (lock_version)")
        for case, row in case_updates:
            set_committed_value(case, "lock_version", row["lock_version"])
        for obj in written:
            # What the flush does after its own UPDATE (SQLAlchemy's InstanceState._commit_all): the values
            # are the loaded ones now, and the object is no longer among the session's modified ones, so the
            # commit finds nothing to flush.
            info = inspect(obj)
            info._commit_all(info.dict, info.session.identity_map)


# The statements of DerivedWrites, built once: SQLAlchemy then computes each one's cache key once, not per save.
_cases, _tasks = Case.__table__, HumanTask.__table__
_UPDATE_CASE = update(_cases).where(_cases.c.id == bindparam("b_id"), _cases.c.lock_version == bindparam("b_version"))
_UPDATE_TASK = update(_tasks).where(_tasks.c.id == bindparam("b_id"))   # SET: the parameters' other keys
# One execution per key (executemany), not an IN list: an expanding IN is rendered anew at every execution.
_DELETE_TASK_GROUPS, _DELETE_TIMERS, _DELETE_SUBSCRIPTIONS = (
    delete(column.table).where(column == bindparam("b_id"))
    for column in (HumanTaskGroup.__table__.c.task_id, WaitingTimer.__table__.c.case_id,
                   MessageSubscription.__table__.c.case_id))
_END_EXTERNAL = update(ExternalTask.__table__).where(ExternalTask.__table__.c.id == bindparam("b_id"))
_INSERT = {model: insert(model.__table__).inline()     # inline: no RETURNING
           for model in (HumanTask, HumanTaskGroup, WaitingTimer, MessageSubscription, ExternalTask, CaseEvent)}


def note_wake(session, case) -> None:
    """A case whose next timer moved is woken after commit (engine.timers.schedule_wakes_after_commit)."""
    history = get_history(case, "next_timer_at", passive=PASSIVE_NO_INITIALIZE)   # not `attrs`: see _changed
    if history.added and history.added[0] is not None and case.id is not None:
        session.info.setdefault(WAKES, {})[case.id] = history.added[0]


WAKES = "lotse_wakes"       # session.info key: case id -> its new next timer


def _written_by_core(obj) -> dict | None:
    """{column: value} of a loaded case or task row whose changes are all in its own columns ({}: none), after
    doing what the flush's hooks do for it (engine.wiring); None when it is the flush's to write (not
    persistent, or a relationship changed) or was not touched."""
    info = inspect(obj)
    if not info.persistent or not info.modified:
        return None
    changed = _changed(info)
    if any(not isinstance(info.mapper.get_property(key), ColumnProperty) for key in changed):
        return None
    if not changed:
        return {}
    if isinstance(obj, HumanTask):
        task_counts.note_changed(info.session, obj)
        notifications.update_next_notice(obj)        # the mapper hook notifications.schedule_notices
        changed = _changed(info)
    else:
        note_wake(info.session, obj)
    return {info.mapper.get_property(key).columns[0].key: info.dict[key] for key in changed}


def _changed(info) -> list[str]:
    """The attributes of an object that hold a value other than the one loaded.

    The history is asked of the modified attributes only, and not through `info.attrs`, which builds a
    state object for each of the mapper's attributes on first use."""
    modified, obj = info.committed_state, info.obj()
    return [key for key in info.mapper.attrs.keys()
            if key in modified and get_history(obj, key, passive=PASSIVE_NO_INITIALIZE).has_changes()]


def _row(obj) -> dict:
    """Every column value of a transient ORM object, for a Core INSERT.

    A key given as None is inserted as NULL, not as the column's default, so `_open_human_task`
    sets every column that has a default.
    """
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


def _rewrite_waiting(case, workflow, before, rows, writes, process_key) -> None:
    if any(isinstance(row, AwaitedTimer) for row in before):
        writes.timers_of_cases.append(case.id)
    if any(isinstance(row, AwaitedMessage) for row in before):
        writes.subscriptions_of_cases.append(case.id)
    # External task rows keep their lock and retries while the task runs: only what started or ended changes.
    external_before = {row.task_id for row in before if isinstance(row, AwaitedExternal)}
    external_now = {row.task_id for row in rows if isinstance(row, AwaitedExternal)}
    for task_id in external_before - external_now:
        task = find_task(workflow, task_id)
        done = task is not None and task.state == TaskState.COMPLETED
        writes.external_ended["completed" if done else "cancelled"].append(task_id)
    for row in rows:
        if isinstance(row, AwaitedExternal):
            if row.task_id not in external_before:
                writes.external_tasks.append(dict(
                    id=row.task_id, case_id=case.id, center_id=case.center_id, topic=row.topic,
                    element_id=row.element_id, element_name=row.name, process_key=process_key,
                    priority=row.priority, state="open", worker_id=None, lock_expires_at=None, retries=None,
                    error_message=None, error_details=None, created_at=clock.now(), ended_at=None))
        elif isinstance(row, AwaitedTimer):
            writes.timers.append(dict(case_id=case.id, center_id=case.center_id, task_id=row.task_id,
                                      element_id=row.element_id, name=row.name, kind=row.kind, actor=row.actor,
                                      due_at=row.due))
        else:
            writes.subscriptions.append(dict(case_id=case.id, message_name=row.message_name,
                                             element_id=row.element_id, correlations=row.correlations))


def sync(case, workflow, waiting_before: list, open_rows: dict, writes: DerivedWrites,
         keep_with=None) -> SyncOutcome:
    """Bring the case row and its derived tables in line with `workflow`. Returns what changed.

    `waiting_before` is `waiting()` of the workflow as it was loaded (the derived tables
    match it, being written in the same transactions); `open_rows` the case's task rows
    that were open when it was loaded (task id -> row; some may have been closed since).
    New and retired derived rows go to `writes`, which the caller executes; the case row and
    the rows in `open_rows` are updated by the flush at commit. Runs without autoflush.

    `keep_with`: a person whose completed task says the next step stays with them (property
    `keep_assignee`): each task that opens without an assignee of its own and has them as a candidate
    is theirs.
    """
    with db.session.no_autoflush:
        return _sync(case, workflow, waiting_before, open_rows, writes, keep_with)


def _sync(case, workflow, waiting_before, open_rows, writes, keep_with=None):
    now = clock.now()
    facts = spec_cache.facts(case.definition_id)
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}

    opened, closed, failed = [], [], []
    for task_id, task in list(ready.items()):
        if task_id not in open_rows:
            try:
                row = _open_human_task(case, task, facts, now)
            except TaskAttributeError as exc:    # the task waits in ERROR (an incident) until data is corrected
                task._set_state(TaskState.ERROR)
                del ready[task_id]
                failed.append(exc)
                continue
            if keep_with is not None and row.assignee_id is None and access.is_candidate(keep_with, row):
                row.assignee_id = keep_with.id
            writes.tasks.append(_row(row))
            writes.task_groups += [dict(task_id=row.id, group_name=group, center_id=case.center_id)
                                   for group in row.group_index_names]
            opened.append(row)
    for task_id, row in open_rows.items():
        if task_id in ready:
            continue
        if row.state == TaskStatus.OPEN:
            spiff_task = find_task(workflow, task_id)
            done = spiff_task is not None and spiff_task.state == TaskState.COMPLETED
            row.state = TaskStatus.COMPLETED if done else TaskStatus.CANCELLED
        row.completed_at = row.completed_at or now
        closed.append(row)
    writes.groups_of_tasks += [row.id for row in closed]   # the group index holds open tasks only

    waiting_now = waiting(workflow)
    if waiting_now != waiting_before:
        _rewrite_waiting(case, workflow, waiting_before, waiting_now, writes, facts.key)
    subscribed_before = {row.message_name for row in waiting_before if isinstance(row, AwaitedMessage)}
    subscribed = {row.message_name for row in waiting_now if isinstance(row, AwaitedMessage)}
    case.next_timer_at = min((row.due for row in waiting_now if isinstance(row, AwaitedTimer)), default=None)
    if workflow.completed and case.status == CaseStatus.ACTIVE:
        case.status = CaseStatus.COMPLETED if workflow.success else CaseStatus.CANCELLED
        case.ended_at = now
    case.updated_at = now
    case.state = dump(workflow)
    case.serializer_version = SERIALIZER_VERSION
    case.library_version = LIBRARY_VERSION
    return SyncOutcome(opened=opened, closed=closed, new_subscriptions=subscribed - subscribed_before,
                       cycles_fired=_cycles_fired(waiting_before, waiting_now, now), failed=failed,
                       moves=bool(ready) or bool(waiting_now))


def _cycles_fired(before, after, now) -> list[CycleFired]:
    """The cycle timers that fired in this change, with how often.

    A repeating timer's task does not complete between repetitions, so the engine reports
    nothing to log; the repetitions left (`cycles_left`; -1 unbounded) tell how often it fired.
    """
    later_rows = {row.task_id: row for row in after if isinstance(row, AwaitedTimer)}
    fired = []
    for row in before:
        if not isinstance(row, AwaitedTimer) or row.kind != "cycle":
            continue
        later, bounded = later_rows.get(row.task_id), row.cycles_left > 0
        if later is not None:
            count = row.cycles_left - later.cycles_left if bounded else int(later.due != row.due)
        elif row.due > now:
            count = 0                      # cancelled before it was due
        else:
            count = row.cycles_left if bounded else 1   # ran out (or its activity ended) after firing
        if count > 0:
            fired.append(CycleFired(row, count))
    return fired


def collect_thrown_messages(case, workflow):
    """Move thrown, uncaught messages from the workflow into the outbox (same transaction)."""
    count = 0
    for event in workflow.get_events():
        if not isinstance(event.event_definition, MessageEventDefinition):
            continue
        db.session.add(OutboxMessage(source_case_id=case.id, name=event.event_definition.name,
                                     event=registry.convert(event), correlations=event.correlations or {},
                                     status=MessageStatus.PENDING, created_at=clock.now()))
        count += 1
    return count
