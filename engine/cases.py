"""Every change to a case, one transaction each: the operations web views, the CLI and jobs call.

Each operation follows the same steps (`_changing`): lock the case row (`SELECT … FOR
UPDATE` on PostgreSQL; the `lock_version` column catches a lost race everywhere), load the
workflow, act, run the engine, sync the derived tables, append to the event log, collect
thrown messages into the outbox, save, commit — and only then hand follow-up work (message
delivery) to the job runner. A failing script leaves its task in ERROR with an incident;
the case is saved in that state and can be retried.
"""
from contextlib import contextmanager
from datetime import timedelta
from uuid import uuid4

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine import access, casedata, clock, forms, jobs, mail, notifications, parsing, report, sandbox, state
from engine.db import JSONText, db, load_direct, loaded_object
from engine.deploy import latest_definition
from engine.errors import Conflict, Forbidden, InvalidData, InvalidFields, NotFound
from engine.models import (Case, CaseComment, CaseMilestone, ExternalTask, HumanTask, Incident, Organisation,
                           OutboxMessage, ProcessDefinition, User)
from engine.settings import setting
from engine.models.statuses import CaseStatus, MessageStatus, OrganisationKind, TaskStatus

MAX_CONNECTOR_ROUNDS = 100      # connectors one change runs in a row (a loop of them stops there)


class CaseChange:
    """What one operation works with; `log` appends to the case's event log."""

    def __init__(self, case, workflow, actor, open_rows):
        self.case, self.workflow, self.actor = case, workflow, actor
        self.open_rows = open_rows                      # task id -> row, as the change began
        self.waiting_before = state.waiting(workflow)   # what the waiting tables hold now
        self.events = []           # rows for case_event, see log()
        self.messaging = False     # set by _save: something to route after commit
        self.next_timer_at = None  # set by _save: the case's earliest waiting timer
        self.has_incident = case.has_incident   # an unresolved incident; written to the case by _save
        self.new_incidents = []    # incidents recorded in this change: their people are told (_saving)
        self.assignments = []      # (task row, person) handed on by someone else: the person is told (_saving)
        self.keep_with = None      # the person the next step stays with (property keep_assignee), see state.sync
        self.mails = 0             # mails queued by the change's connectors (sent after commit)
        self.open_after = []       # set by _save: the case's open task rows after the change
        self.started = []          # changes of cases the lotse-start-case connector started (saved with this one)
        self._running = None       # the task the engine is running, to name it if something fails
        sandbox.take_printed()     # what an earlier change in this thread left unread is not ours

    def task_row(self, task_id) -> HumanTask:
        """An open task of this case; Conflict, saying who closed it, if it is no longer open."""
        row = self.open_rows.get(str(task_id))
        if row is None:
            raise Conflict(_closed_message(db.session.get(HumanTask, str(task_id), populate_existing=True)))
        return row

    @property
    def actor_id(self):
        return getattr(self.actor, "id", None)

    def log(self, kind, task=None, details=None, element_id=None, element_name=None, task_id=None,
            by_engine=False):
        """Append to the case's event log (written in one INSERT when the change is saved).

        `by_engine`: what the engine did on its own (a task it opened) names no actor.
        """
        spec = task.task_spec if task is not None and hasattr(task, "task_spec") else None
        self.events.append(dict(
            case_id=self.case.id, at=clock.now(), actor_id=None if by_engine else self.actor_id,
            kind=kind, task_id=task_id or (str(task.id) if task is not None else None),
            element_id=element_id or (spec.bpmn_id if spec is not None else None),
            element_name=element_name or (spec.bpmn_name if spec is not None else None),
            details=details or {}))

    # --- engine steps ----------------------------------------------------------------------------

    def _log_printed(self, task):
        """What the task's scripts printed, as one entry of the case log."""
        lines = sandbox.take_printed()
        if lines:
            self.log("script_output", task, {"output": "\n".join(lines)[:4000]})

    def _did_complete(self, task):
        self._log_printed(task)
        spec = task.task_spec
        props = state.properties(spec)
        event = getattr(spec, "event_definition", None)
        if isinstance(event, TimerEventDefinition) and spec.bpmn_id:
            self.log("timer_fired", task)
        elif isinstance(event, MessageEventDefinition) and spec.bpmn_id and task.data is not None:
            self.log("message_event", task, {"message": event.name})
        if props.get("milestone"):
            label = props.get("milestone_label") or spec.bpmn_name or props["milestone"]
            db.session.add(CaseMilestone(case_id=self.case.id, key=props["milestone"], label=label,
                                         element_id=spec.bpmn_id, reached_at=clock.now()))
            # the history says which milestone ("Residence route decided"), not the task that reached it
            self.log("milestone", task, {"milestone": props["milestone"]}, element_name=label)

    def _will_run(self, task):
        self._running = task

    def run_engine(self):
        """Fire due timers and run every automatic step; any failure becomes an incident."""
        steps = casedata.EngineSteps(will_complete=self._will_run, did_complete=self._did_complete)
        try:
            self.workflow.refresh_timers()
            parsing.refresh_conditions(self.workflow)
            self.workflow.do_engine_steps(will_complete_task=steps.will_complete_task,
                                          did_complete_task=steps.did_complete_task)
            if parsing.traits(self.workflow).open_hooks:
                for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
                    self._running = task
                    casedata.task_opened(task)  # its create listeners (Camunda's taskListener event="create")
            else:
                casedata.mark_opened(self.workflow)
            if parsing.traits(self.workflow).connectors:
                self._run_connectors(steps)
        except Exception as exc:       # whatever a diagram makes the engine do: never past this point
            self._record_incident(exc)
        self._running = None

    def _run_connectors(self, steps):
        """Lotse's connectors (service tasks with camunda:connector, engine.dialect.CONNECTORS), in this change."""
        for _ in range(MAX_CONNECTOR_ROUNDS):
            waiting = [t for t in self.workflow.get_tasks(state=TaskState.STARTED) if parsing.connector(t.task_spec)]
            if not waiting:
                return
            for task in waiting:
                self._running = task
                inputs = {name: casedata.mapped_value(value, casedata.visible(task))
                          for name, value in task.task_spec.extensions.get("connectorInputs") or []}
                connector = parsing.connector(task.task_spec)
                details, variables = getattr(self, "_" + connector.removeprefix("lotse-").replace("-", "_"))(
                    task, inputs)
                self.log("connector", task, {"connector": connector, **details})
                casedata.finish_started(task, variables)
            self.workflow.do_engine_steps(will_complete_task=steps.will_complete_task,
                                          did_complete_task=steps.did_complete_task)

    # One method per connector of engine.dialect.CONNECTORS: it acts on the inputs and returns the event's
    # details and the variables the task sets.

    def _notify_group(self, task, inputs) -> dict:
        self.mails += notifications.notify_group(self.case, str(inputs["group"]), str(inputs["subject"]),
                                                 str(inputs["message"]))
        return {"group": str(inputs["group"])}, {}

    def _send_mail(self, task, inputs) -> dict:
        """A mail to `to`, else to the case's responsible advisor; queued in this change, sent after commit."""
        to = str(inputs.get("to") or "").strip() or getattr(self.case.responsible, "email", None)
        if not to:
            raise InvalidData(f"the mail of {task.task_spec.bpmn_id} has no recipient: give the input parameter "
                              "'to', or the case a responsible advisor with an e-mail address")
        mail.queue(to, f"{self.case.reference}: {inputs['subject']}", str(inputs["body"]))
        self.mails += 1
        return {"to": to}, {}

    def _start_case(self, task, inputs) -> dict:
        """A case of another process at the same center and employer, saved with this change."""
        data = inputs.get("data") or {}
        if not isinstance(data, dict):
            raise InvalidData(f"the input parameter 'data' of {task.task_spec.bpmn_id} must be a map "
                              f"(camunda:map), not {type(data).__name__}")
        child = _new_case(str(inputs["process"]), center=self.case.center_id, employer=self.case.employer_id,
                          subject=str(inputs.get("subject") or self.case.subject or ""), data=data,
                          actor=self.actor, responsible=self.case.responsible_id, parent_case=self.case)
        child.run_engine()
        self.started.append(child)
        return {"case": child.case.reference, "process": child.case.definition.key}, {}

    def _record_referral(self, task, inputs) -> dict:
        """A referral as employer_referral records them: one item of the case variable `referrals`, which the
        funder's report keeps as a case_referral row (engine.report.keep_facts)."""
        referral = {"topic": str(inputs["topic"]), "partner": str(inputs["partner"]),
                    "partner_type": str(inputs.get("partner_type") or report.UNKNOWN),
                    "referred_on": str(inputs.get("referred_on") or clock.now().astimezone(clock.BERLIN).date()),
                    "contact_made": "yes" if str(inputs.get("contact_made") or "").lower() in ("yes", "true")
                    else "no"}
        referrals = casedata.visible(task).get("referrals")
        return ({"partner": referral["partner"], "topic": referral["topic"]},
                {"referrals": [*(referrals if isinstance(referrals, list) else []), referral]})

    def run_task(self, task, data):
        """Complete a user task with form data: (what it changed, None), or (…, the failure) when
        what its completion sets off failed, which is then an incident."""
        self._running = task
        changes = {}
        try:
            changes = casedata.run_task(task, data)
        except Exception as exc:
            self._record_incident(exc)
            return changes, exc
        finally:
            self._running = None
        return changes, None

    def _record_incident(self, exc):
        """Store the failure as an incident and leave its task in ERROR, so it shows and can be retried."""
        task = getattr(exc, "task", None) or _task_in_traceback(exc) or self._running
        self._log_printed(task)                 # what a failing script printed helps to find why
        if task is not None and not task.has_state(TaskState.FINISHED_MASK | TaskState.ERROR):
            task._set_state(TaskState.ERROR)                              # retry resets it
            task.workflow.top_workflow.event_manager.remove_task(task)    # a failing timer is not refreshed again
        spec = task.task_spec if task is not None else None
        # SpiffWorkflow wraps the diagram's own error (a script's ZeroDivisionError): report that one.
        original = (exc.__context__ or exc) if isinstance(exc, SpiffWorkflowException) else exc
        message = str(original) if original is not exc else str(exc).split("\n")[0]
        self.add_incident(
            task_id=str(task.id) if task is not None else "",
            element_id=(spec.bpmn_id or spec.name) if spec is not None else "",
            element_name=spec.bpmn_name if spec is not None else None,
            error_type=getattr(exc, "error_type", None) or type(original).__name__,
            message=message or type(original).__name__,
            line_number=getattr(exc, "line_number", None) or None, error_line=getattr(exc, "error_line", None),
            task=task)

    def add_incident(self, *, message, task=None, element_id="", **columns):
        incident = Incident(case_id=self.case.id, message=message[:2000], element_id=element_id[:128], **columns)
        db.session.add(incident)
        self.new_incidents.append(incident)
        self.has_incident = True
        self.log("incident", task, {"error": message[:500]}, element_id=element_id or None)


def _task_in_traceback(exc):
    """The innermost SpiffWorkflow task an error passed through (its spec methods call it `my_task`).

    A plain Python error inside the library (a timer date that is no date) names no task; the
    task being updated when it happened is the one to mark and retry.
    """
    found, frame = None, exc.__traceback__
    while frame is not None:
        candidate = frame.tb_frame.f_locals.get("my_task")
        if isinstance(candidate, Task):
            found = candidate
        frame = frame.tb_next
    return found


class _NotMine(Exception):
    """Raised inside `_changing` to leave without saving anything."""


@contextmanager
def _changing(case_id=None, actor=None, *, task_id=None):
    """The one transaction around every change of a case: the case given, or the case of a task.

    One statement finds the case (for a task: only if the actor may see the task) and locks it;
    a second reads its open task rows. That read must come after the lock: on PostgreSQL a
    statement that waited for the lock re-reads the locked case row but not rows it joined,
    so task rows read with the lock could predate the change that made us wait.
    """
    case = _locked_case(*_locking(case_id, actor, task_id))
    if case is None:
        raise NotFound(f"task {task_id} does not exist" if task_id is not None else f"case {case_id} does not exist")
    change, = _changes_of([case], actor)
    with _saving([change]):
        yield change


# The locking statements, built once (SQLAlchemy then keys its cache once, not per call): the case's row by
# the case's id or by a task's id; by a task's id and visible to the actor through
# access.task_filter_parameters, one per clause it gives, built on first use.
_cases = Case.__table__
_LOCK = select(_cases).with_for_update(of=_cases)
_CASE_OF_TASK = select(HumanTask.case_id).where(HumanTask.id == bindparam("task_id"))
_LOCK_BY_ID = _LOCK.where(_cases.c.id == bindparam("case_id"))
_LOCK_BY_TASK = _LOCK.where(_cases.c.id == _CASE_OF_TASK.scalar_subquery())
_lock_by_visible_task = {}


def _locking(case_id, actor, task_id) -> tuple:
    """The statement that finds and locks the case (see `_changing`), its parameters, and whether it is one
    of the statements built once."""
    if task_id is None:
        return _LOCK_BY_ID, {"case_id": case_id}, True
    if actor is None:
        return _LOCK_BY_TASK, {"task_id": str(task_id)}, True
    bound = access.task_filter_parameters(actor)
    if bound is None:
        visible = _CASE_OF_TASK.where(access.task_filter(actor))
        return _LOCK.where(_cases.c.id == visible.scalar_subquery()), {"task_id": str(task_id)}, False
    clause, parameters = bound
    statement = _lock_by_visible_task.get(id(clause))      # the clauses are module constants
    if statement is None:
        statement = _lock_by_visible_task[id(clause)] = _LOCK.where(
            _cases.c.id == _CASE_OF_TASK.where(clause).scalar_subquery())
    return statement, {"task_id": str(task_id), **parameters}, True


def _locked_case(statement, parameters, built_once) -> Case | None:
    """The case the locking statement finds, loaded afresh, with its version's key and number (kept with the
    version's specs: no statement reads them). A statement built once is read on the DBAPI cursor
    (engine.db.load_direct), one built for this call through the ORM."""
    session = db.session()
    found = load_direct(session, statement, parameters, Case) if built_once else None
    if found is None:
        found = session.scalars(select(Case).from_statement(statement).execution_options(populate_existing=True),
                                parameters).all()
    if not found:
        return None
    case, = found
    facts = state.spec_cache.facts(case.definition_id)
    set_committed_value(case, "definition", loaded_object(
        session, ProcessDefinition, {"id": case.definition_id, "key": facts.key, "version": facts.version}))
    return case


def changing(case_id, actor=None):
    """The one transaction around a change of a case, for engine modules that change cases in their own
    way (engine.external_tasks): yields a CaseChange, saves and commits it (see `_changing`)."""
    return _changing(case_id, actor)


# Built once (SQLAlchemy keys its cache once); one case's by equality, read on the DBAPI cursor
# (engine.db.load_direct); several cases' through the ORM: an expanding IN is rendered anew at every execution.
_OPEN_ROWS_OF_CASE = select(HumanTask.__table__).where(HumanTask.state == bindparam("state"),
                                                       HumanTask.case_id == bindparam("case_id"))
_OPEN_ROWS_OF_CASES = (select(HumanTask).where(HumanTask.state == TaskStatus.OPEN,
                                               HumanTask.case_id.in_(bindparam("case_ids", expanding=True)))
                       .execution_options(populate_existing=True))


def _open_rows_of(case_ids) -> list[HumanTask]:
    """The open task rows of these cases, each loaded afresh (see `_changing` for when this runs)."""
    if len(case_ids) == 1:
        rows = load_direct(db.session(), _OPEN_ROWS_OF_CASE, {"state": TaskStatus.OPEN, "case_id": case_ids[0]},
                           HumanTask)
        if rows is not None:
            return rows
    return db.session.scalars(_OPEN_ROWS_OF_CASES, {"case_ids": case_ids}).all()


def _changes_of(locked_cases, actor) -> list[CaseChange]:
    """Load the workflows of cases locked in this transaction, with their open task rows (one statement)."""
    open_rows = {case.id: {} for case in locked_cases}
    rows = _open_rows_of(list(open_rows))
    for row in rows:
        open_rows[row.case_id][row.id] = row
    return [CaseChange(case, state.load(case), actor, open_rows[case.id]) for case in locked_cases]


@contextmanager
def _saving(changes):
    """Run the block, then save every change and commit them together; roll back on any error.

    After the commit, messages thrown by the changes are handed to the job runner.
    """
    try:
        yield
        changes = _with_started(changes)
        writes = state.DerivedWrites()
        for change in changes:
            _save(change, writes)
            writes.events += change.events     # append-only: nobody reads them back in this transaction
            writes.loaded += [change.case, *change.open_rows.values()]
        writes.execute()
        mails = sum(change.mails for change in changes)
        for change in changes:     # people are told in the same transaction
            for incident in change.new_incidents:       # the responsible advisor, the supervisors
                mails += notifications.notify_incident(change.case, incident)
            for row, assignee in change.assignments:
                mails += notifications.notify_assigned(row, assignee, change.actor)
        _commit(changes)                           # the unit of work: the case rows, tasks that closed
    except StaleDataError:
        db.session.rollback()
        raise Conflict(f"case {changes[0].case.reference} was changed by someone else at the same time; "
                       "reload and try again")
    except BaseException:
        db.session.rollback()
        raise
    if any(change.messaging for change in changes):
        jobs.after_commit("deliver_messages")
    if mails:
        mail.after_commit_send_mail()


def _commit(changes):
    """Commit, keeping loaded what this request knows to be current: the changed cases and their task rows
    (the database now holds what the flush wrote, under the case's lock), their process versions, and the
    actor as the request read it. Everything else in the session is expired, as a commit does. An answer
    built from the change (the API's case and next task) then needs no new reads."""
    session = db.session()
    keep = set()
    for change in changes:
        keep.add(change.case)
        keep.update(change.open_rows.values())
        keep.add(inspect(change.case).attrs.definition.loaded_value)
        actor = change.actor
        if isinstance(actor, User):
            keep.add(actor)
            keep.add(inspect(actor).attrs.organisation.loaded_value)
            groups = inspect(actor).attrs.groups.loaded_value
            keep.update(groups if isinstance(groups, list) else ())
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for obj in list(session.identity_map.values()):
        if obj not in keep:
            session.expire(obj)


def _with_started(changes) -> list:
    """The changes and, after each, the changes of the cases its connectors started (see _start_case)."""
    return [c for change in changes for c in (change, *_with_started(change.started))]


def _save(change, writes):
    """Bring the derived tables in line with the workflow and complete the change's event log."""
    thrown = state.collect_thrown_messages(change.case, change.workflow)   # before sync serializes: get_events() drains
    status_before = change.case.status
    outcome = state.sync(change.case, change.workflow, change.waiting_before, change.open_rows, writes,
                         keep_with=change.keep_with)
    change.open_after = [row for row in change.open_rows.values() if row.state == TaskStatus.OPEN] + outcome.opened
    for row in outcome.opened:
        change.log("task_created", task_id=row.id, element_id=row.element_id, element_name=row.title,
                   by_engine=True, details={"due_at": row.due_at.isoformat() if row.due_at else None,
                                           "groups": row.candidate_groups})
    for timer, repetitions in outcome.cycles_fired:
        for _ in range(repetitions):
            change.log("timer_fired", task_id=timer.task_id, element_id=timer.element_id, element_name=timer.name)
    for row in outcome.closed:
        if row.state == TaskStatus.CANCELLED:
            change.log("task_cancelled", element_id=row.element_id, element_name=row.title,
                       details={"task_id": row.id})
    for failure in outcome.failed:
        change._record_incident(failure)
    if change.case.status == CaseStatus.ACTIVE and not outcome.moves and not change.has_incident:
        _record_stall(change)
    change.case.has_incident = change.has_incident
    # what the funder's report counts, kept with the case
    report.keep_facts(change.case, report.case_facts(casedata.current(change.workflow, report.READ_KEYS)))
    change.messaging = bool(thrown or outcome.new_subscriptions)
    if change.case.status != status_before:     # the engine ended the case in this change
        change.log(f"case_{change.case.status}")
    change.next_timer_at = change.case.next_timer_at


def _record_stall(change):
    """An active case with no open task that waits for nothing can never move on by itself: say so."""
    stopped_at = state.stopped_at(change.workflow)
    change.add_incident(
        error_type="Stalled", element_id=stopped_at[0] if stopped_at else "",
        message="the case cannot continue: no task is open and it waits for no timer or message "
                f"(stopped at: {', '.join(stopped_at) or 'no element'})", task_id="")


def _data_diff(before: dict, after: dict) -> dict:
    changed = {k: {"old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v}
    removed = {k: {"old": v, "new": None} for k, v in before.items() if k not in after}
    return {**changed, **removed}


# --- operations ----------------------------------------------------------------------------------

def _refuse_start_by_hand(definition):
    """A process whose start events all wait for a message or a timer is started by that event, not by a person."""
    spec, _ = state.spec_cache.get(definition.id)
    events = [t.event_definition for t in spec.task_specs.values() if isinstance(t, StartEvent)]
    if not events or any(isinstance(e, NoneEventDefinition) for e in events):
        return
    triggers = sorted({f"the message {e.name!r} arrives" if isinstance(e, MessageEventDefinition)
                       else "its timer fires" if isinstance(e, TimerEventDefinition)
                       else f"its {type(e).__name__.removesuffix('EventDefinition').lower()} event occurs"
                       for e in events})
    raise InvalidData(f"process {definition.key!r} starts only when {' or '.join(triggers)}; "
                      "it cannot be started by hand")


def start_case(definition_key_or_row, *, center, employer=None, subject="", data=None, actor=None,
               responsible=None, parent_case=None, by_message=False, fire_start_timer=None, timer_round=None):
    """Start a case on the newest version of a process (or the given version row).

    Only a process with a plain start event is started by hand; `by_message` is the message
    router starting one at its message start event, `fire_start_timer` (the element id of a timer
    start event whose time has come: the sweeper, engine.timer_starts) starts it there, and
    `timer_round` (its TimerStartRound row) is marked done in the case's own transaction.
    """
    change = _new_case(definition_key_or_row, center=center, employer=employer, subject=subject, data=data,
                       actor=actor, responsible=responsible, parent_case=parent_case, by_message=by_message,
                       fire_start_timer=fire_start_timer)
    if timer_round is not None:
        timer_round.done, timer_round.case_id = True, change.case.id
    with _saving([change]):
        change.run_engine()
    return change.case


def _new_case(definition_key_or_row, *, center, employer=None, subject="", data=None, actor=None,
              responsible=None, parent_case=None, by_message=False, fire_start_timer=None) -> CaseChange:
    """The new case row (flushed) and the change that starts it; the caller runs its engine and saves it."""
    definition = definition_key_or_row if isinstance(definition_key_or_row, ProcessDefinition) \
        else latest_definition(definition_key_or_row)
    if definition is None:
        raise NotFound(f"no process {definition_key_or_row!r} is deployed")
    if not by_message:
        _refuse_start_by_hand(definition)
    data = dict(data or {})
    state.check_storable(data)
    center_row = center if isinstance(center, Organisation) else db.session.get(Organisation, center)
    if center_row is None or center_row.kind != OrganisationKind.CENTER:
        raise InvalidData("a case belongs to a Welcome Center; none was given")
    now = clock.now()
    workflow = state.new_workflow(definition)
    casedata.start(workflow, data)
    case = Case(reference=f"new-{uuid4().hex[:24]}", definition_id=definition.id,
                center_id=center_row.id, employer_id=getattr(employer, "id", employer), subject=subject or "",
                status=CaseStatus.ACTIVE, state="{}", serializer_version=state.SERIALIZER_VERSION,
                library_version=state.LIBRARY_VERSION, started_at=now, updated_at=now,
                started_by_id=getattr(actor, "id", None), responsible_id=getattr(responsible, "id", responsible),
                parent_case_id=getattr(parent_case, "id", parent_case))
    case.definition = definition
    db.session.add(case)
    db.session.flush()
    case.reference = f"WC-{center_row.code or 'XX'}-{now.year}-{case.id:05d}"
    if fire_start_timer:
        _fire_start_timer(workflow, fire_start_timer)
    change = CaseChange(case, workflow, actor, open_rows={})
    change.log("case_started", details={"process": definition.key, "version": definition.version,
                                        "data": data})
    return change


def _fire_start_timer(workflow, element_id):
    """The timer of this start event has fired (the schedule said so): the case starts there, once."""
    fired = (clock.now() - timedelta(seconds=1)).isoformat()
    for task in workflow.get_tasks(spec_name=element_id):
        if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
            task._set_internal_data(event_value={"cycles": 1, "next": fired, "duration": 0})   # one round, now
        else:
            task._set_internal_data(event_fired=True, event_value=fired)


def _task_for_change(change, task_id):
    task = state.find_task(change.workflow, task_id)
    if task is None:
        raise NotFound(f"task {task_id} is not part of case {change.case.reference}")
    return task


def _open_row(task_id, actor) -> HumanTask:
    row = db.session.get(HumanTask, str(task_id)) if actor is None else access.visible_task(actor, task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row


def _closed_message(row):
    who = row.completed_by.display_name if row.completed_by is not None else "someone else"
    when = clock.format_local(row.completed_at, "en") if row.completed_at else ""
    if row.state == TaskStatus.COMPLETED:
        return f"“{row.title}” was already completed by {who} ({when})."
    return f"“{row.title}” is no longer open (the case moved on)."


def complete_task(task_id, data=None, actor=None, *, validate=False):
    """Complete an open user task with form data. Raises Conflict if someone was faster.

    `validate`: `data` is a submission (request.form, or a dict of JSON values) to check against the form
    version pinned on the task, with what the task sees as context, under the case's lock (the case is
    loaded once); InvalidFields {field: [messages]} when it does not pass, and nothing changes."""
    return completing_task(task_id, data, actor, validate=validate).case


def completing_task(task_id, data=None, actor=None, *, validate=False) -> CaseChange:
    """`complete_task`, answering the committed change: its case and the task rows it left open
    (`open_after`), still loaded."""
    if not validate:
        data = dict(data or {})
        state.check_storable(data)
    with _changing(actor=actor, task_id=task_id) as change:
        row = change.task_row(task_id)
        if actor is not None and not access.can_work(actor, row):
            if row.assignee_id is not None:
                raise Conflict(f"“{row.title}” is assigned to {row.assignee.display_name}.")
            raise Forbidden(f"you are not a candidate for “{row.title}”.")
        task = _task_for_change(change, task_id)
        if task.state != TaskState.READY:
            raise Conflict(f"“{row.title}” is not ready to be completed (state {TaskState.get_name(task.state)}).")
        if validate:
            data = _validated(row, task, data)
        changes, failure = change.run_task(task, data)
        if failure is not None and task.state != TaskState.COMPLETED:   # the task itself failed: nothing is kept
            raise InvalidData(f"“{row.title}” could not be completed: {str(failure).splitlines()[0]}")
        row.state, row.completed_at, row.completed_by_id = TaskStatus.COMPLETED, clock.now(), change.actor_id
        row.draft = None
        if row.assignee_id is None and change.actor_id is not None:
            # taken from its groups as it is completed: a claim in the log, as the workload reads who held a task
            # when from the changes of hands (the case page shows it as part of the completion)
            row.assignee_id = change.actor_id
            change.log("task_claimed", element_id=row.element_id, element_name=row.title,
                       details={"task_id": row.id, "on_completion": True})
        by_worker = access.is_worker(actor)      # through their personal link: no user to name
        # "submitted" keeps every value of the form, also those handed in unchanged (the completed task shows them)
        change.log("task_completed", task, {"changes": changes, "submitted": data, **({"by": "worker"} if by_worker else {})})
        if actor is not None and not by_worker and str(state.properties(task.task_spec).get("keep_assignee", "")).lower() == "true":
            change.keep_with = actor        # as Camunda's Tasklist can: the next step stays with this person
        if task.task_spec.bpmn_id and state.properties(task.task_spec).get("milestone"):
            change._did_complete(task)
        change.run_engine()
    return change


def _validated(row, task, submitted) -> dict:
    """The submission checked against the task's form (none: nothing is taken), as storable case data."""
    form = state.spec_cache.form(row.form_version_id) if row.form_version_id is not None else None
    if form is None:
        return {}
    data, errors = forms.validate_submission(form, submitted, context=casedata.visible(task))
    if errors:
        raise InvalidFields(errors)
    state.check_storable(data)
    return data


def claim_task(task_id, actor):
    with _changing(actor=actor, task_id=task_id) as change:
        row = change.task_row(task_id)
        if row.assignee_id == actor.id:
            return row
        if row.assignee_id is not None:
            raise Conflict(f"“{row.title}” was already claimed by {row.assignee.display_name}.")
        if not access.is_candidate(actor, row):
            raise Forbidden(f"you are not a candidate for “{row.title}”.")
        row.assignee_id = actor.id
        change.log("task_claimed", element_id=row.element_id, element_name=row.title, details={"task_id": row.id})
    return row


def unclaim_task(task_id, actor):
    with _changing(actor=actor, task_id=task_id) as change:
        row = change.task_row(task_id)
        if row.assignee_id != actor.id and not access.can_assign(actor, row):
            raise Forbidden(f"only the assignee or a supervisor can release “{row.title}”.")
        row.assignee_id = None
        change.log("task_unclaimed", element_id=row.element_id, element_name=row.title, details={"task_id": row.id})
    return row


def release_task(task_id, actor, reason: str):
    """Hand a claimed open task back to its candidate groups, whoever holds it (an administrator
    deactivating its assignee); the case log names the reason."""
    with _changing(actor=actor, task_id=task_id) as change:
        row = change.task_row(task_id)
        if row.assignee_id is None:
            return row
        previous = row.assignee.username if row.assignee else None
        row.assignee_id = None
        change.log("task_unclaimed", element_id=row.element_id, element_name=row.title,
                   details={"task_id": row.id, "from": previous, "reason": reason})
    return row


def assign_task(task_id, assignee, actor):
    """A supervisor hands an open task to a colleague of the same center."""
    with _changing(actor=actor, task_id=task_id) as change:
        row = change.task_row(task_id)
        if actor is not None and not access.can_assign(actor, row):
            raise Forbidden("only supervisors of this center can assign tasks.")
        if not access.can_be_assigned(assignee, row):
            raise InvalidData(f"{assignee.display_name} cannot work on “{row.title}”: only its candidates can "
                              f"({', '.join(row.group_index_names) or 'none'}).")
        row.assignee_id = assignee.id
        change.log("task_assigned", element_id=row.element_id, element_name=row.title,
                   details={"task_id": row.id, "assignee": assignee.username,
                            "assignee_name": assignee.display_name})
        if assignee.id != getattr(actor, "id", None):
            change.assignments.append((row, assignee))
    return row


def change_responsible(case_id, responsible, actor):
    """A supervisor makes another advisor of the center responsible for an active case (in the case log)."""
    with _changing(case_id, actor) as change:
        case = change.case
        if case.status != "active":
            raise Conflict(f"case {case.reference} is already {case.status}.")
        if actor is not None and not access.may_change_responsible(actor, case, responsible):
            raise Forbidden(f"{getattr(responsible, 'display_name', 'nobody')} cannot be made responsible for "
                            f"case {case.reference}: only supervisors of its center hand it to an advisor there.")
        if case.responsible_id == responsible.id:
            return case
        previous = case.responsible
        case.responsible_id = responsible.id
        # usernames identify; display names are what the case page shows
        change.log("responsible_changed", details={
            "from": previous.username if previous else None, "to": responsible.username,
            "from_name": previous.display_name if previous else None, "to_name": responsible.display_name})
        return case


def save_draft(task_id, data, actor):
    """Keep form values without completing (no engine step: drafts are not case data yet), at most
    DRAFT_MAX_BYTES of them. The draft is written by one UPDATE that requires the task still open, so a
    completion that commits between the check here and the write wins, and leaves no draft behind."""
    row = _open_row(task_id, actor)
    if not row.is_open:
        raise Conflict(_closed_message(row))
    if actor is not None and not access.can_work(actor, row):
        raise Forbidden(f"you cannot work on “{row.title}”.")
    draft = dict(data)
    size, limit = len(JSONText().process_bind_param(draft, None).encode()), setting("DRAFT_MAX_BYTES")
    if size > limit:
        raise InvalidData(f"the draft of “{row.title}” has {size // 1024} KB; a draft holds at most "
                          f"{limit // 1024} KB.")
    written = db.session.execute(update(HumanTask).where(HumanTask.id == row.id, HumanTask.state == TaskStatus.OPEN)
                                 .values(draft=draft)).rowcount
    if not written:
        db.session.rollback()
        raise Conflict(_closed_message(_open_row(task_id, None)))
    db.session.commit()
    return row


def cancel_case(case_id, actor=None, reason=""):
    with _changing(case_id, actor) as change:
        if change.case.status != CaseStatus.ACTIVE:
            raise Conflict(f"case {change.case.reference} is already {change.case.status}.")
        change.workflow.cancel()
        _resolve_incidents(change)              # nothing of a cancelled case is retried
        change.case.status, change.case.ended_at = CaseStatus.CANCELLED, clock.now()
        change.log("case_cancelled", details={"reason": reason})
        return change.case


def _resolve_incidents(change):
    for incident in db.session.scalars(select(Incident).where(Incident.case_id == change.case.id,
                                                              Incident.resolved_at.is_(None))):
        incident.resolved_at, incident.resolved_by_id = clock.now(), change.actor_id
    change.has_incident = False


def retry_task(case_id, task_id=None, data=None, actor=None):
    """Run the failed steps of a case again, after optionally correcting case data.

    A task in ERROR is reset and runs with the corrections; a failure that left no task in
    ERROR (or a stalled case) runs the engine again with the corrections on the tasks where the
    case stands. What fails again is a new incident.
    """
    data = dict(data or {})
    state.check_storable(data)
    with _changing(case_id, actor) as change:
        errored = [t for t in change.workflow.get_tasks(state=TaskState.ERROR)
                   if task_id is None or str(t.id) == str(task_id)]
        if not errored and not change.has_incident:
            raise Conflict(f"case {change.case.reference} has no failed step to retry.")
        _resolve_incidents(change)
        # External tasks whose worker gave up can be fetched again (Camunda: retries set to 1).
        db.session.execute(update(ExternalTask).where(ExternalTask.case_id == change.case.id,
                                                      ExternalTask.state == "open", ExternalTask.retries == 0)
                           .values(retries=1, lock_expires_at=None))
        for task in errored:
            # The log keeps what each correction replaced.
            before = casedata.visible(task)
            before = {key: before.get(key) for key in data}
            # Corrections go into the case data, and where the reset task inherits from: it may
            # evaluate them at once as it restarts (a timer's expression).
            casedata.write(task, data)
            task.parent.data.update(data)
            try:
                change.workflow.reset_from_task_id(task.id)
            except Exception as exc:        # the step fails again as it restarts
                change._record_incident(exc)
            change.log("task_retried", task, {"changes": _data_diff(before, data)})
        if not errored and data:
            waiting = change.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
            before = casedata.visible(waiting[0]) if waiting else {}
            before = {key: before.get(key) for key in data}
            if waiting:
                casedata.write(waiting[0], data)
            for task in waiting:
                task.data.update(data)
            change.log("task_retried", details={"changes": _data_diff(before, data)})
        change.run_engine()
        return change.case


def change_version(case_id, actor, move):
    """Move a case onto another version of its process: `move(change)` checks the locked case again and
    rewrites its workflow (engine.migration); the case is saved and its derived rows synced as after any change."""
    with _changing(case_id, actor) as change:
        return move(change)


def add_comment(case_id, body, actor):
    body = (body or "").strip()
    if not body:
        raise InvalidData("a note needs some text", field="body")
    comment = CaseComment(case_id=case_id, author_id=actor.id, body=body[:10000], created_at=clock.now())
    db.session.add(comment)
    db.session.commit()
    return comment


def wake(case_id):
    """Fire whatever timers of the case are due (idempotent: nothing due, nothing changes)."""
    with _changing(case_id) as change:
        if change.case.status != CaseStatus.ACTIVE:
            return change.case
        change.run_engine()
        return change.case


def _due(query, now, skip=()):
    """Active cases whose next timer is before `now`, earliest first, except those in `skip`."""
    query = query.where(Case.status == CaseStatus.ACTIVE, Case.next_timer_at < now)
    if skip:
        query = query.where(Case.id.not_in(list(skip)))
    return query.order_by(Case.next_timer_at, Case.id)


def due_case_ids(now, limit, skip=()) -> list[int]:
    """Ids of the next due cases, as `wake_due` would claim them, without locking them."""
    return db.session.scalars(_due(select(Case.id), now, skip).limit(limit)).all()


def wake_due(now, *, limit=1, case_id=None, skip=(), skip_locked=True) -> dict:
    """Fire the due timers of up to `limit` cases (or of case `case_id`) in one transaction.

    The sweeper's unit of work: one statement claims the earliest-due active cases whose next
    timer is before `now` (`FOR UPDATE SKIP LOCKED`: workers side by side take disjoint cases;
    on SQLite `lock_version` turns a lost race into a Conflict), all are woken, saved and
    committed together. Cases in `skip` are left alone. Returns case id -> (next timer before,
    next timer after); {} when nothing was due. Any error rolls the whole batch back.
    """
    query = _due(select(Case), now, skip)
    if case_id is not None:
        query = query.where(Case.id == case_id)
    claimed = db.session.scalars(
        query.limit(limit).with_for_update(of=Case, skip_locked=skip_locked)
        .execution_options(populate_existing=True)).all()
    if not claimed:
        db.session.rollback()
        return {}
    due_before = {case.id: case.next_timer_at for case in claimed}   # read now: the commit expires the rows
    changes = _changes_of(claimed, None)
    with _saving(changes):
        for change in changes:
            change.run_engine()
    return {case_id: (due, change.next_timer_at) for (case_id, due), change in zip(due_before.items(), changes)}


def receive_message(case_id, name, data, actor=None):
    """A message from outside Lotse reaches the case's event that waits for `name`; `data` becomes case data."""
    with _changing(case_id, actor) as change:
        waiting = [(task, definition) for task in change.workflow.top_workflow.event_manager.tasks.values()
                   for definition in state.awaited(task.task_spec.event_definition)
                   if isinstance(definition, MessageEventDefinition) and definition.name == name]
        if not waiting:
            raise Conflict(f"case {change.case.reference} no longer waits for the message {name!r}")
        task, definition = waiting[0]
        event = BpmnEvent(definition, payload={"payload": data, "result_var": None, "variables": True},
                          correlations=dict(task.workflow.correlations or {}))
        try:
            change.workflow.send_event(event)
        except Exception as exc:            # caught, but catching it failed: the case shows why
            change._record_incident(exc)
        change.log("message_received", details={"message": name, "from": "outside"})
        change.run_engine()
        return change.case


def deliver_message(case_id, event, message_id) -> bool:
    """Hand a thrown message to a waiting case (called by engine.messages).

    The outbox row is claimed again under the case lock: a message start may have committed
    (and so released the row) before delivery, and then another worker may be delivering
    it. Returns False, changing nothing, when the message is taken or already delivered.
    """
    try:
        with _changing(case_id) as change:
            outbox_row = db.session.scalar(
                select(OutboxMessage).where(OutboxMessage.id == message_id,
                                            OutboxMessage.status == MessageStatus.PENDING)
                .with_for_update(skip_locked=True).execution_options(populate_existing=True))
            if outbox_row is None:
                raise _NotMine()
            try:
                change.workflow.send_event(event)
            except WorkflowException as exc:    # not (or no longer) waiting for it: the message stays pending
                raise Conflict(str(exc))
            except Exception as exc:            # caught, but catching it failed: the case shows why
                change._record_incident(exc)
            change.log("message_received", details={"message": event.event_definition.name,
                                                    "from_case": outbox_row.source_case_id})
            outbox_row.status, outbox_row.target_case_id = MessageStatus.DELIVERED, case_id
            outbox_row.delivered_at = clock.now()
            change.run_engine()
    except _NotMine:
        return False
    return True

