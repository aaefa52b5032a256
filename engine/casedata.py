"""Case data: one set of variables per case, with the semantics of Camunda's process variables.

SpiffWorkflow 3.2.0 copies task data along each branch and merges the copies where branches
meet, so a branch that finishes late carries a stale copy forward and overwrites what another
branch decided. Lotse does not use those copies as the case's data. Instead:

- **Scopes.** A case's variables live in its top-level workflow's `data` (Spiff keeps BPMN data
  objects there under `data_objects`, which is not a variable). A called process (call activity)
  has its own scope, its subworkflow's `data`: it starts with a copy of what the calling task
  sees and, when it ends, gives back the keys it changed or deleted. Embedded and event
  subprocesses share the scope of the process around them.
- **Locals.** A multi-instance instance keeps its item variable (`camunda:elementVariable`) to
  itself, and the tasks inside it (an embedded subprocess) see it too; the item goes into the
  collection when the instance completes. Data objects stay with Spiff's data-object machinery.
- **Each task run** (`will_run` → `task.run()` → `did_run`, or `run_task` for a person's
  completion) sees a fresh copy of its scope plus its locals, and afterwards writes back exactly
  the keys it changed or deleted: the form's keys, a script's assignments, a message's result
  variable, a called process's changes. A catching error, escalation or signal event writes
  nothing (their payload is a copy of the thrower's data). Gateways, conditions and the
  expressions of the tasks that open read the data as it is then.

The hooks are stateless between calls except for the snapshot `will_run` returns, so the
engine's own steps (`EngineSteps`) and a person's completion (`run_task`) share them.
"""
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin

from engine import sandbox
from engine.errors import InvalidData

DATA_OBJECTS = "data_objects"        # SpiffWorkflow's BPMN data objects in a workflow's `data`; not a variable
CALL_INPUT = "lotse_call_input"      # a call activity task's internal data: what its called process was given
FORMAT = 1                           # stored with the state; cases saved before it are adopted on load


def _copy(value):
    """A deep copy of JSON-like data (dates and other scalars are immutable), without deepcopy's memo and dispatch."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, (set, tuple)):
        return type(value)(_copy(item) for item in value)
    return value


def _copied(data: dict) -> dict:
    return {key: _copy(value) for key, value in data.items() if key != DATA_OBJECTS}


def _diff(before: dict, after: dict, skip=frozenset()) -> tuple[dict, set]:
    """(keys set or changed, keys deleted); a value of another type is a change (False → 0)."""
    changed = {key: value for key, value in after.items()
               if key not in skip and (key not in before or type(before[key]) is not type(value)
                                       or before[key] != value)}
    deleted = {key for key in before if key not in after and key not in skip}
    return changed, deleted


# --- where a task's data lives --------------------------------------------------------------------

def _caller(workflow):
    """The task that runs `workflow` as a subprocess, or None for the top-level workflow."""
    if workflow.parent_task_id is None:
        return None
    return workflow.top_workflow.get_task_from_id(workflow.parent_task_id)


def _calls(spec) -> bool:
    """A call activity (its own scope), not an embedded subprocess.

    The Camunda parser gives embedded subprocesses the CallActivity class too; their process
    is named after the element itself, a called process after `calledElement`.
    """
    return isinstance(spec, CallActivity) and spec.spec != spec.bpmn_id


def _is_call(workflow) -> bool:
    caller = _caller(workflow)
    return caller is not None and _calls(caller.task_spec)


def _local_names(task) -> set:
    """The item variables of a multi-instance instance (none for any other task)."""
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    if isinstance(spec, MultiInstanceTask) and task.task_spec.name == spec.task_spec:
        return {ref.bpmn_id for ref in (spec.input_item, spec.output_item) if ref is not None}
    return set()


def _owner_and_holders(task):
    """(the workflow whose `data` is the task's scope, [(task holding locals, names)] innermost first)."""
    holders = []
    while True:
        names = _local_names(task)
        if names:
            holders.append((task, names))
        workflow = task.workflow
        if workflow.parent_task_id is None or _is_call(workflow):
            return workflow, holders
        task = _caller(workflow)


def _scope(workflow) -> dict:
    """A scope's variables; a called process gets its copy of the caller's data when first needed."""
    caller = _caller(workflow)
    if caller is not None and CALL_INPUT not in caller.internal_data:
        _enter_call(workflow, caller)
    return workflow.data


def _object_ids(spec) -> set:
    return {obj.bpmn_id for obj in (getattr(spec, "data_input_associations", None) or [])
            + (getattr(spec, "data_output_associations", None) or [])}


def visible(task) -> dict:
    """What `task` sees: a fresh copy of its scope's variables with its locals (the inner ones win)."""
    owner, holders = _owner_and_holders(task)
    view = _copied(_scope(owner))
    for holder, names in reversed(holders):
        view.update({name: _copy(holder.data[name]) for name in names if name in holder.data})
    io = getattr(task.task_spec, "io_specification", None)
    if io is not None and io.data_inputs:       # a BPMN ioSpecification: the task sees its inputs only
        view = {var.bpmn_id: view[var.bpmn_id] for var in io.data_inputs if var.bpmn_id in view}
    return view


def _write(task, changed: dict, deleted: set) -> None:
    """Apply a task's writes: to the local that holds a name, else to its scope."""
    owner, holders = _owner_and_holders(task)
    scope = _scope(owner)
    for key, value in changed.items():
        target = next((holder.data for holder, names in holders if key in names), scope)
        target[key] = _copy(value)
    for key in deleted:
        next((holder.data for holder, names in holders if key in names), scope).pop(key, None)


# --- called processes ------------------------------------------------------------------------------

def _extensions(task) -> dict:
    return getattr(task.task_spec, "extensions", None) or {}


def mapped_value(value: dict, data: dict):
    """A camunda:inputOutput value (engine.parsing._mapping) over `data`."""
    if "expr" in value:
        return sandbox.evaluate(value["expr"], data)
    if "list" in value:
        return [mapped_value(item, data) for item in value["list"]]
    if "map" in value:
        return {key: mapped_value(item, data) for key, item in value["map"]}
    return value.get("text")


def _mapped_call(mappings, data: dict, full: dict) -> dict:
    """camunda:in/out of a call activity: all variables, or named ones (source → target, sourceExpression)."""
    result = {}
    for mapping in mappings:
        if mapping.get("all"):
            result.update(full)
        elif mapping.get("expr"):
            result[mapping["target"]] = sandbox.evaluate(mapping["expr"], data)
        elif mapping.get("source") in data:
            result[mapping["target"]] = _copy(data[mapping["source"]])
    return result


def run_listeners(task, event: str) -> None:
    """Run the task's listeners of `event` ("start", "end", "task:create", "task:complete") on its data."""
    for listener in _extensions(task).get("listeners") or []:
        if listener["event"] != event:
            continue
        if listener["mode"] == "exec":
            sandbox.script_engine.environment.execute(listener["code"], task.data)
        else:
            sandbox.script_engine.environment.evaluate(listener["code"], task.data)


OPENED = "lotse_opened"           # a person's task's internal data: its create listeners ran
OPENED_INPUTS = "lotse_inputs"    # … and its camunda:inputParameters as they were when it opened


def _inputs(task, data=None) -> dict:
    """The task's camunda:inputParameters: as evaluated when it opened (Camunda's activity start), else now
    over `data` (default: what the task sees)."""
    kept = task.internal_data.get(OPENED_INPUTS)
    if kept is not None:
        return _copied(kept)
    data, inputs = _copied(data) if data is not None else visible(task), {}
    for name, value in _extensions(task).get("inputs") or []:     # a later input may read an earlier one
        data[name] = inputs[name] = mapped_value(value, data)
    return inputs


def seen_by(task) -> dict:
    """What an open task's form or worker sees: the case data with the task's input mappings."""
    return {**visible(task), **_inputs(task)}


def task_opened(task) -> None:
    """A person's task has opened: its input mappings are evaluated, its create task listeners and start
    execution listeners run, once."""
    if task.internal_data.get(OPENED):
        return
    task.internal_data[OPENED] = True
    if _extensions(task).get("inputs"):
        task.internal_data[OPENED_INPUTS] = _copied(_inputs(task))
    if not _extensions(task).get("listeners"):
        return
    before = visible(task)
    task.data = _copied(before)
    run_listeners(task, "start")
    run_listeners(task, "task:create")
    _write(task, *_diff(before, task.data, _object_ids(task.task_spec) | {DATA_OBJECTS}))


def mark_opened(workflow) -> None:
    """`task_opened` of every ready person's task, for a process version whose persons' tasks have no input
    mappings or listeners (engine.parsing.traits): only the mark is left to set, so no ordered walk of the tree."""
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            if task.state == TaskState.READY and task.task_spec.manual:
                task.internal_data[OPENED] = True


def _enter_call(subworkflow, caller) -> None:
    """A called process starts with what its calling task sees (or the inputs its process declares, or
    the variables its camunda:in mappings name)."""
    given = visible(caller)
    if _extensions(caller).get("callIn"):
        given = _mapped_call(_extensions(caller)["callIn"], given, given)
    io = subworkflow.spec.io_specification
    if io is not None and io.data_inputs:
        given = {var.bpmn_id: given[var.bpmn_id] for var in io.data_inputs if var.bpmn_id in given}
    caller.internal_data[CALL_INPUT] = _copied(given)
    subworkflow.data.update(_copied(given))


def _returned(caller) -> tuple[dict, set]:
    """What a finished called process gives back: the keys it changed or deleted (or its declared outputs)."""
    subworkflow = caller.workflow.top_workflow.subprocesses.get(caller.id)
    given = caller.internal_data.get(CALL_INPUT)
    if subworkflow is None or given is None or not subworkflow.completed:
        return {}, set()
    changed, deleted = _diff(given, subworkflow.data, {DATA_OBJECTS})
    if _extensions(caller).get("callOut"):
        return _mapped_call(_extensions(caller)["callOut"], _copied(subworkflow.data), changed), \
            (deleted if any(m.get("all") for m in _extensions(caller)["callOut"]) else set())
    io = subworkflow.spec.io_specification
    if io is not None and io.data_outputs:
        outputs = {var.bpmn_id for var in io.data_outputs}
        changed = {key: value for key, value in changed.items() if key in outputs}
        deleted &= outputs
    return changed, deleted


# --- running a task ---------------------------------------------------------------------------------

def will_run(task) -> dict:
    """Give the task the current data; returns the snapshot `did_run` compares with."""
    before = visible(task)
    task.data = _copied(before)
    if _calls(task.task_spec):
        changed, deleted = _returned(task)
        task.data.update(_copied(changed))
        for key in deleted:
            task.data.pop(key, None)
    for obj in getattr(task.task_spec, "data_input_associations", None) or []:
        obj.get(task)                           # data objects as they are now
    task.data.update(_inputs(task, task.data))  # camunda:inputParameter: local to the task
    if not task.task_spec.manual:               # a person's task ran its start listeners when it opened
        run_listeners(task, "start")
    return before


def did_run(task, before: dict) -> None:
    """Write back what the run changed, then what a multi-instance instance adds to its collection."""
    if task.state == TaskState.ERROR:
        return                                  # a failed step writes nothing
    ext = _extensions(task)
    if task.state == TaskState.COMPLETED:
        run_listeners(task, "end")
    if ext.get("inputs") or ext.get("outputs"):
        outputs = {name: mapped_value(value, task.data) for name, value in ext.get("outputs") or []} \
            if task.state == TaskState.COMPLETED else {}
        for name, _ in ext.get("inputs") or []:   # locals end with the task; a variable they hid stays as it was
            if name in before:
                task.data[name] = _copy(before[name])
            else:
                task.data.pop(name, None)
        task.data.update(outputs)
    spec = task.task_spec
    if isinstance(spec, CatchingEvent) and not _carries_message(spec.event_definition):
        changed, deleted = {}, set()
    else:
        changed, deleted = _diff(before, task.data, _object_ids(spec) | {DATA_OBJECTS})
        io = getattr(spec, "io_specification", None)
        if io is not None and io.data_outputs:  # Spiff leaves only the declared outputs in the task's data
            changed = {var.bpmn_id: task.data[var.bpmn_id] for var in io.data_outputs if var.bpmn_id in task.data}
            deleted = set()
    _write(task, changed, deleted)
    _collect(task)


def _carries_message(event_definition) -> bool:
    definitions = getattr(event_definition, "event_definitions", None) or [event_definition]
    return any(isinstance(definition, MessageEventDefinition) for definition in definitions)


def _collect(task) -> None:
    """The collection of a multi-instance activity, as Spiff has just merged this instance into it."""
    if not _local_names(task) or task.state != TaskState.COMPLETED:
        return
    parent = task.parent
    output = parent.task_spec.data_output
    if output is not None and output.bpmn_id in parent.data:
        _write(parent, {output.bpmn_id: parent.data[output.bpmn_id]}, set())


class EngineSteps:
    """`do_engine_steps` hooks: each step runs on the current data and writes back only its changes."""

    def __init__(self, will_complete=None, did_complete=None):
        self.will_complete, self.did_complete = will_complete, did_complete
        self.before = {}
        self.subprocesses = set()

    def will_complete_task(self, task):
        if self.will_complete is not None:
            self.will_complete(task)
        self.subprocesses = set(task.workflow.top_workflow.subprocesses)
        self.before[task.id] = will_run(task)

    def did_complete_task(self, task):
        did_run(task, self.before.pop(task.id))
        _enter_new_calls(task.workflow.top_workflow, self.subprocesses)
        if self.did_complete is not None:
            self.did_complete(task)


def _enter_new_calls(top, known) -> None:
    """Called processes started by this step get their data now, not when their first step runs."""
    for task_id, subworkflow in top.subprocesses.items():
        if task_id not in known:
            _scope(subworkflow)


def run_task(task, data: dict) -> dict:
    """Complete a person's task with form data; returns {key: {"old", "new"}} for what it changed."""
    refuse_reserved(data)
    known = set(task.workflow.top_workflow.subprocesses)
    before = will_run(task)
    task.data.update(_copied(data))      # replace top-level keys only: never mutate nested data in place
    run_listeners(task, "task:complete")
    try:
        task.run()
    finally:
        # The task may complete and what it sets off fail after (an incident): its writes still count.
        if task.has_state(TaskState.COMPLETED):
            did_run(task, before)
            _enter_new_calls(task.workflow.top_workflow, known)
    return {key: {"old": before.get(key), "new": value} for key, value in data.items() if before.get(key) != value}


def finish_started(task, data: dict) -> None:
    """Complete a task that waited STARTED (an external task) with a worker's variables."""
    refuse_reserved(data)
    known = set(task.workflow.top_workflow.subprocesses)
    before = will_run(task)
    task.data.update(_copied(data))
    try:
        task.complete()
    finally:
        if task.has_state(TaskState.COMPLETED):
            did_run(task, before)
            _enter_new_calls(task.workflow.top_workflow, known)


def write(task, data: dict) -> None:
    """Set variables as `task` would (corrected data on a retry)."""
    refuse_reserved(data)
    _write(task, data, set())


def refuse_reserved(data: dict) -> None:
    if DATA_OBJECTS in data:
        raise InvalidData(f"the field name '{DATA_OBJECTS}' is reserved", field=DATA_OBJECTS)


# --- reading -----------------------------------------------------------------------------------------

def start(workflow, data: dict) -> None:
    """A new case's variables."""
    refuse_reserved(data)
    workflow.data.update(_copied(data))


def variables(workflow) -> dict:
    """The case's variables (top-level scope)."""
    return _copied(workflow.data)


def _only(data: dict, keys) -> dict:
    return data if keys is None else {key: data[key] for key in keys if key in data}


def current(workflow, keys=None) -> dict:
    """What the case page shows: the case's variables and what called processes still running have
    changed so far (not their copies of the rest, which may be older). `keys`: only these (copying less)."""
    data = _copied(_only(workflow.data, keys))
    running = [sub for sub in workflow.subprocesses.values() if _is_call(sub) and not sub.completed]
    for sub in sorted(running, key=lambda sub: sub.depth):
        changed, _ = _diff(_caller(sub).internal_data.get(CALL_INPUT) or {}, _scope(sub), {DATA_OBJECTS})
        data.update(_copied(_only(changed, keys)))
    return data


# --- cases stored before this format -----------------------------------------------------------------

def adopt(workflow) -> None:
    """Rebuild the scopes of a case stored with per-branch copies, by replaying what its steps wrote.

    A step that records data (a person's task, a script, a decision table, a caught message) wrote
    the difference between its data and its parent step's; a multi-instance activity wrote its
    collection. Those writes are applied in the order they happened to the scope of the step (a
    finished called process's to its caller's). Copies carried along a branch or merged at a join
    are not writes, so a stale copy no longer wins. A finished case keeps what Spiff merged at its end.
    """
    for sub in workflow.subprocesses.values():
        if _is_call(sub):
            start = sub.get_next_task(sub.task_tree, spec_name="Start")   # Spiff copied the caller's data here
            given = _copied(start.data if start is not None else {})
            _caller(sub).internal_data[CALL_INPUT] = given
            sub.data.update(_copied(given))
    if not workflow.completed:
        workflow.data.update(_copied(workflow.task_tree.data))     # what the case was started with
    for task in sorted(filter(_wrote, workflow.get_tasks()), key=lambda task: task.last_state_change):
        owner, holders = _owner_and_holders(task)
        while owner.completed and owner.parent_task_id is not None:   # a finished call gave its writes back
            owner, _ = _owner_and_holders(_caller(owner))
        if owner.completed:
            continue
        if isinstance(task.task_spec, MultiInstanceTask):
            collection = task.task_spec.data_output.bpmn_id
            changed, deleted = {collection: task.data[collection]}, set()
        else:
            local = {name for _, names in holders for name in names}
            changed, deleted = _diff(task.parent.data, task.data, local | {DATA_OBJECTS})
        owner.data.update(_copied(changed))
        for key in deleted:
            owner.data.pop(key, None)


def _wrote(task) -> bool:
    spec = task.task_spec
    if isinstance(spec, MultiInstanceTask):
        return (spec.data_output is not None and spec.data_output.bpmn_id in task.data
                and task.state in (TaskState.STARTED, TaskState.COMPLETED))
    if task.state != TaskState.COMPLETED or task.parent is None:
        return False
    if isinstance(spec, CatchingEvent):
        return _carries_message(spec.event_definition)
    return spec.manual or isinstance(spec, (ScriptEngineTask, BusinessRuleTaskMixin))
