"""External tasks: service tasks with camunda:type="external" that workers outside Lotse complete.

The operations of Camunda 7's external task API, with its meanings, so the JSON API (a later
issue) only translates requests and responses:

    fetch_and_lock(worker_id, [Topic("charge", lock_ms=60_000, variables=["amount"])], max_tasks=10)
        -> [LockedTask]         tasks of those topics that are open, not locked (or whose lock expired)
                                and have retries left (or never failed), highest priority first, oldest
                                first; each is locked for the worker until now + lock_ms.
    complete(task_id, worker_id, variables=None) -> Case
                                the worker's result becomes case data and the case moves on.
    handle_failure(task_id, worker_id, error_message, error_details=None, retries=0, retry_timeout_ms=0,
                   variables=None)
                                retries > 0: fetchable again after the timeout; retries 0: an incident
                                on the case (its people are told), until `set_retries` or a retry.
                                The variables (Camunda 7.16 on) become case data either way.
    extend_lock(task_id, worker_id, new_duration_ms)
    unlock(task_id)
    bpmn_error(task_id, worker_id, error_code, error_message=None, variables=None) -> Case
                                throws the BPMN error at the task: an error boundary event with that
                                code (or none) catches it; uncaught, it is an incident.
    set_retries(task_id, retries, actor=None)
                                0: an incident, as when the worker gives up; more: resolves the task's
                                incident and makes it fetchable.
    set_priority(task_id, priority)
    find(Query(topic="charge", locked=True), where, first=0, limit=10) / count(query, where)
                                the open tasks a query selects (Camunda's GET /external-task).

Errors: NotFound (no such task), TaskEnded (a Conflict: the task was completed or cancelled),
Conflict (locked by another worker, lock expired), InvalidData (bad arguments). A worker's variables
must be storable case data.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import false, func, or_, select

from engine import casedata, cases, clock, state
from engine.db import db
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import Case, CaseEvent, ExternalTask, Incident
from engine.models.statuses import TaskStatus


class TaskEnded(Conflict):
    """The external task was completed or cancelled (Camunda's REST API: it no longer exists)."""


@dataclass(frozen=True)
class Topic:
    """A topic a worker asks for: how long to lock its tasks, and which variables to send (None: all)."""
    name: str
    lock_ms: int
    variables: list[str] | None = None


@dataclass
class LockedTask:
    """An external task locked for a worker, with what Camunda's fetch-and-lock response holds."""
    id: str
    topic: str
    worker_id: str
    lock_expires_at: datetime
    case_id: int
    case_reference: str
    process_key: str
    element_id: str
    element_name: str | None
    priority: int
    retries: int | None
    error_message: str | None
    error_details: str | None
    variables: dict = field(default_factory=dict)


def _check_worker(worker_id):
    if not isinstance(worker_id, str) or not worker_id.strip() or len(worker_id) > 255:
        raise InvalidData("workerId must be a text of 1 to 255 characters", field="workerId")


def _duration(ms, name) -> timedelta:
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
        raise InvalidData(f"{name} must be a whole number of milliseconds, at least 0", field=name)
    return timedelta(milliseconds=ms)


def fetch_and_lock(worker_id: str, topics: list[Topic], max_tasks: int = 10, where=None) -> list[LockedTask]:
    """Lock up to `max_tasks` open tasks of `topics` for the worker (see module docstring). Commits.

    `where`: a clause limiting the tasks further (the caller's reach, `engine.access.external_task_filter`)."""
    _check_worker(worker_id)
    if not isinstance(max_tasks, int) or max_tasks < 1:
        raise InvalidData("maxTasks must be at least 1", field="maxTasks")
    by_name = {}
    for topic in topics:
        _duration(topic.lock_ms, "lockDuration")
        by_name[topic.name] = topic
    if not by_name:
        return []
    now = clock.now()
    rows = db.session.scalars(
        select(ExternalTask)
        .where(ExternalTask.state == TaskStatus.OPEN, ExternalTask.topic.in_(list(by_name)),
               or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
               or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0),
               *([where] if where is not None else []))
        .order_by(ExternalTask.priority.desc(), ExternalTask.created_at, ExternalTask.id)
        .limit(max_tasks).with_for_update(skip_locked=True)).all()
    locked = []
    for row in rows:
        topic = by_name[row.topic]
        row.worker_id, row.lock_expires_at = worker_id, now + timedelta(milliseconds=topic.lock_ms)
        case = db.session.get(Case, row.case_id)
        locked.append(LockedTask(
            id=row.id, topic=row.topic, worker_id=worker_id, lock_expires_at=row.lock_expires_at,
            case_id=case.id, case_reference=case.reference, process_key=row.process_key,
            element_id=row.element_id, element_name=row.element_name, priority=row.priority, retries=row.retries,
            error_message=row.error_message, error_details=row.error_details,
            variables=_variables(case, row.id, topic.variables)))
    db.session.commit()
    return locked


def _variables(case, task_id, names) -> dict:
    task = state.find_task(state.load(case), task_id)
    data = casedata.seen_by(task) if task is not None else {}
    return data if names is None else {name: data[name] for name in names if name in data}


def _open_row(task_id) -> ExternalTask:
    row = db.session.get(ExternalTask, str(task_id), populate_existing=True)
    if row is None:
        raise NotFound(f"external task {task_id} does not exist")
    if row.state != TaskStatus.OPEN:
        raise TaskEnded(f"external task {task_id} is {row.state}")
    return row


def _locked_row(task_id, worker_id) -> ExternalTask:
    """The task, locked by this worker (Camunda lets the worker finish after its lock ran out, unless another took it)."""
    _check_worker(worker_id)
    row = _open_row(task_id)
    if row.worker_id != worker_id:
        holder = f"by worker {row.worker_id!r}" if row.worker_id else "by no worker"
        raise Conflict(f"external task {task_id} is locked {holder}, not by {worker_id!r}")
    return row


def _checked_variables(variables) -> dict:
    variables = dict(variables or {})
    state.check_storable(variables)
    casedata.refuse_reserved(variables)
    return variables


def complete(task_id: str, worker_id: str, variables: dict | None = None):
    """The worker's result: its variables become case data and the case moves on. Returns the case."""
    variables = _checked_variables(variables)
    row = _locked_row(task_id, worker_id)
    with cases.changing(row.case_id) as change:
        task = _running_task(change, row)
        try:
            casedata.finish_started(task, variables)
        except Exception as exc:             # what the completion sets off failed: an incident
            change._record_incident(exc)
        change.log("external_task_completed", task, {"worker": worker_id, "topic": row.topic,
                                                     "variables": sorted(variables)})
        change.run_engine()
        return change.case


def _running_task(change, row):
    task = state.find_task(change.workflow, row.id)
    if task is None or task.state != TaskState.STARTED:
        raise TaskEnded(f"external task {row.id} is no longer running")
    return task


def handle_failure(task_id: str, worker_id: str, error_message: str, error_details: str | None = None,
                   retries: int = 0, retry_timeout_ms: int = 0, variables: dict | None = None) -> None:
    """A worker could not do the task (see module docstring); its `variables` become case data. Commits."""
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise InvalidData("retries must be a whole number, at least 0", field="retries")
    timeout = _duration(retry_timeout_ms, "retryTimeout")
    variables = _checked_variables(variables)
    row = _locked_row(task_id, worker_id)
    row.retries, row.error_message, row.error_details = retries, (error_message or "")[:2000], error_details
    row.worker_id, row.lock_expires_at = None, (clock.now() + timeout) if retries > 0 and timeout else None
    if retries > 0 and not variables:
        db.session.commit()
        return
    with cases.changing(row.case_id) as change:
        task = _running_task(change, row)
        if variables:
            casedata.write(task, variables)
            change.log("external_task_failed", task, {"worker": worker_id, "variables": sorted(variables)})
        if retries > 0:
            return
        change.add_incident(task=task, task_id=row.id, element_id=row.element_id, element_name=row.element_name,
                            error_type="ExternalTaskFailed",
                            message=f"the worker {worker_id!r} of topic {row.topic!r} gave up: "
                                    f"{error_message or 'no reason given'}")


def extend_lock(task_id: str, worker_id: str, new_duration_ms: int) -> datetime:
    """Lock the task for the worker until now + new_duration_ms; only while its lock holds. Commits."""
    duration = _duration(new_duration_ms, "newDuration")
    row = _locked_row(task_id, worker_id)
    if row.lock_expires_at is None or row.lock_expires_at <= clock.now():
        raise Conflict(f"the lock of external task {task_id} has expired; fetch it again")
    row.lock_expires_at = clock.now() + duration
    db.session.commit()
    return row.lock_expires_at


def unlock(task_id: str) -> None:
    row = _open_row(task_id)
    row.worker_id, row.lock_expires_at = None, None
    db.session.commit()


def bpmn_error(task_id: str, worker_id: str, error_code: str, error_message: str | None = None,
               variables: dict | None = None):
    """Throw a BPMN error at the task: a boundary error event catches it, or it is an incident. Returns the case."""
    if not isinstance(error_code, str) or not error_code.strip():
        raise InvalidData("errorCode must be given", field="errorCode")
    variables = _checked_variables(variables)
    row = _locked_row(task_id, worker_id)
    with cases.changing(row.case_id) as change:
        task = _running_task(change, row)
        casedata.write(task, variables)
        change.log("external_task_error", task, {"worker": worker_id, "error_code": error_code})
        # Spiff matches error events by definition: throw the one of a boundary event that catches this code.
        waiting = task.workflow.top_workflow.event_manager.tasks.values()
        catcher = next((t for t in waiting if t.parent is task.parent and _catches(t.task_spec, error_code)), None)
        if catcher is None:
            change.add_incident(task=task, task_id=row.id, element_id=row.element_id,
                                element_name=row.element_name, error_type="BpmnError",
                                message=f"the worker reported the BPMN error {error_code!r}"
                                        f"{': ' + error_message if error_message else ''}, and no error boundary "
                                        f"event on {row.element_id!r} catches it")
            return change.case
        event = BpmnEvent(catcher.task_spec.event_definition,
                          {"errorCode": error_code, "errorMessage": error_message}, target=task.workflow)
        try:
            change.workflow.top_workflow.catch(event)
        except Exception as exc:
            change._record_incident(exc)
        change.run_engine()
        return change.case


def _catches(spec, code) -> bool:
    definition = getattr(spec, "event_definition", None)
    return isinstance(definition, ErrorEventDefinition) and definition.code in (None, "", code)


def set_retries(task_id: str, retries: int, actor=None) -> None:
    """Camunda's setRetries. 0: no retries left, an incident on the case as when a worker gives up (none more if it
    had none left); workers no longer fetch it. More: a task that had none left or an incident has it resolved
    and is fetchable at once; one still running only gets the new count (its lock stays). Commits."""
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise InvalidData("retries must be a whole number, at least 0", field="retries")
    row = _open_row(task_id)
    if retries == 0:
        if row.retries == 0:
            return
        with cases.changing(row.case_id, actor) as change:
            task = _running_task(change, row)
            row.retries, row.worker_id, row.lock_expires_at = 0, None, None
            change.add_incident(task=task, task_id=row.id, element_id=row.element_id, element_name=row.element_name,
                                error_type="ExternalTaskFailed",
                                message=f"the retries of the task of topic {row.topic!r} were set to 0")
        return
    incidents = db.session.scalars(select(Incident).where(Incident.task_id == row.id,
                                                          Incident.resolved_at.is_(None))).all()
    if not incidents and row.retries != 0:
        row.retries = retries
        db.session.commit()
        return
    with cases.changing(row.case_id, actor) as change:
        row.retries, row.lock_expires_at = retries, None
        for incident in incidents:
            incident.resolved_at, incident.resolved_by_id = clock.now(), change.actor_id
        change.has_incident = db.session.scalar(
            select(Incident.id).where(Incident.case_id == row.case_id, Incident.resolved_at.is_(None),
                                      Incident.task_id != row.id).limit(1)) is not None
        change.log("external_task_retries", details={"task_id": row.id, "retries": retries})


def set_priority(task_id: str, priority: int) -> None:
    """The order workers fetch tasks in (highest first, see fetch_and_lock). Commits."""
    if not isinstance(priority, int) or isinstance(priority, bool) or not -2**31 <= priority < 2**31:
        raise InvalidData("priority must be a whole number of 32 bits", field="priority")
    _open_row(task_id).priority = priority
    db.session.commit()


# --- reading: Camunda's external task query ---------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """Camunda's external task query (GET /external-task): the open tasks, narrowed by each filter given.
    Locked: a lock that has not expired yet; with retries left: more than 0, or no failure reported."""
    ids: tuple[str, ...] | None = None
    topic: str | None = None
    worker_id: str | None = None            # the worker that locked it last
    locked: bool = False
    not_locked: bool = False
    with_retries_left: bool = False
    no_retries_left: bool = False
    lock_expires_after: datetime | None = None
    lock_expires_before: datetime | None = None
    activity_ids: tuple[str, ...] | None = None
    case_references: tuple[str, ...] | None = None     # Camunda's process instance ids
    process_keys: tuple[str, ...] | None = None
    min_priority: int | None = None
    max_priority: int | None = None
    none: bool = False                      # a filter nothing in Lotse matches (a tenant, suspended tasks)
    order: str = "created"                  # a key of ORDERS
    descending: bool = False


ORDERS = {"id": ExternalTask.id, "lock_expires_at": ExternalTask.lock_expires_at, "case": Case.reference,
          "process": ExternalTask.process_key, "priority": ExternalTask.priority, "created": ExternalTask.created_at}


def _matching(columns, query: Query, where):
    now = clock.now()
    task = ExternalTask
    given = [
        (query.ids is not None, lambda: task.id.in_(query.ids)),
        (query.topic is not None, lambda: task.topic == query.topic),
        (query.worker_id is not None, lambda: task.worker_id == query.worker_id),
        (query.locked, lambda: task.lock_expires_at > now),
        (query.not_locked, lambda: or_(task.lock_expires_at.is_(None), task.lock_expires_at <= now)),
        (query.with_retries_left, lambda: or_(task.retries.is_(None), task.retries > 0)),
        (query.no_retries_left, lambda: task.retries == 0),
        (query.lock_expires_after is not None, lambda: task.lock_expires_at > query.lock_expires_after),
        (query.lock_expires_before is not None, lambda: task.lock_expires_at < query.lock_expires_before),
        (query.activity_ids is not None, lambda: task.element_id.in_(query.activity_ids)),
        (query.case_references is not None, lambda: Case.reference.in_(query.case_references)),
        (query.process_keys is not None, lambda: task.process_key.in_(query.process_keys)),
        (query.min_priority is not None, lambda: task.priority >= query.min_priority),
        (query.max_priority is not None, lambda: task.priority <= query.max_priority),
        (query.none, false)]
    return (select(*columns).select_from(task).join(Case, Case.id == task.case_id)
            .where(task.state == TaskStatus.OPEN, where, *[clause() for wanted, clause in given if wanted]))


def find(query: Query, where, first: int = 0, limit: int | None = None) -> list:
    """(task row, its case's reference, its case's business key) of the open tasks `query` selects within `where`
    (the caller's reach, `engine.access.external_task_filter`), in its order, then the oldest first and by id
    (pages do not overlap). The business key is the one the case started with (fetch_and_lock sends the current
    variable): a list reads no workflow."""
    column = ORDERS[query.order]
    rows = db.session.execute(
        _matching((ExternalTask, Case.reference), query, where)
        .order_by((column.desc() if query.descending else column.asc()).nulls_last(), ExternalTask.created_at,
                  ExternalTask.id)
        .offset(first).limit(limit)).all()
    keys = _business_keys({row.case_id for row, _reference in rows})
    return [(row, reference, keys.get(row.case_id)) for row, reference in rows]


def count(query: Query, where) -> int:
    return db.session.scalar(_matching((func.count(),), query, where))


def _business_keys(case_ids) -> dict:
    """{case id: the businessKey it started with} (engine.api_actions.start_case keeps it in the start data)."""
    if not case_ids:
        return {}
    started = db.session.execute(select(CaseEvent.case_id, CaseEvent.details).where(
        CaseEvent.case_id.in_(sorted(case_ids)), CaseEvent.kind == "case_started")).all()
    keys = {case_id: ((details or {}).get("data") or {}).get("businessKey") for case_id, details in started}
    return {case_id: key for case_id, key in keys.items() if isinstance(key, str)}
