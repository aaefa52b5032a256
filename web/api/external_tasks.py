"""External tasks, as Camunda 7's REST API defines them (a worker written for Camunda's external task
client works with its base URL set to …/api/v1): fetch and lock, complete, failure, extend lock, BPMN
error, unlock; and to read and administer them: the query (GET /external-task, /count), one task, set
retries, set priority. Request and response bodies have Camunda's names and shapes, variables Camunda's
typed values ({"value": …, "type": "String"}). A service account reaches the tasks of its topics at its
center; center staff every topic of their center. Errors are problem details with Camunda's statuses
(400: invalid, or not this worker's lock; 404: no such task, or it ended) and its `message` field
(web/api/problems.py)."""

from datetime import datetime, timezone

from flask import g, json
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from engine import api_actions, api_reads
from engine.errors import InvalidData
from engine.external_tasks import Query, Topic
from web.api import blueprint
from web.dates import camunda_time

bp = blueprint("api_external_tasks", "External tasks as Camunda 7's REST API defines them")
INVALID = 400           # Camunda answers an invalid request with 400 (InvalidRequestException), not 422

MAX_MS = 2**31 - 1


class Variable(Schema):
    class Meta:
        unknown = EXCLUDE
    value = fields.Raw(allow_none=True, load_default=None)
    type = fields.String(load_default=None, allow_none=True)
    valueInfo = fields.Dict(load_default=None, allow_none=True)


Variables = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=255)), values=fields.Nested(Variable),
                        load_default=None, allow_none=True)


# Camunda's filters of a topic that Lotse does not apply: sent with a value, they are refused (400), since
# ignoring one would lock tasks the worker did not ask for. Camunda's client sends them as null when unset.
UNSUPPORTED_FILTERS = ("businessKey", "processDefinitionId", "processDefinitionIdIn", "processDefinitionKey",
                       "processDefinitionKeyIn", "processDefinitionVersionTag", "processVariables", "tenantIdIn")


class FetchTopic(Schema):
    class Meta:
        unknown = EXCLUDE       # options of later Camunda versions that do not choose tasks
    topicName = fields.String(required=True, validate=validate.Length(min=1, max=255))
    lockDuration = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_MS))
    variables = fields.List(fields.String(), load_default=None, allow_none=True)
    localVariables = fields.Boolean(load_default=False)
    deserializeValues = fields.Boolean(load_default=False)
    includeExtensionProperties = fields.Boolean(load_default=False)
    withoutTenantId = fields.Boolean(load_default=False, metadata={"description": "Lotse has no tenants"})
    businessKey, processDefinitionId, processDefinitionIdIn, processDefinitionKey, processDefinitionKeyIn, \
        processDefinitionVersionTag, processVariables, tenantIdIn = (
            fields.Raw(load_default=None, allow_none=True, metadata={"description": "not supported: null or absent"})
            for _name in UNSUPPORTED_FILTERS)

    @validates_schema
    def _filters(self, data, **_kwargs):
        used = [name for name in UNSUPPORTED_FILTERS if data.get(name) not in (None, [], {}, "")]
        if used:
            raise ValidationError({name: ["Lotse does not filter external tasks by this; send null"] for name in used})


class FetchAndLock(Schema):
    class Meta:
        unknown = EXCLUDE
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    maxTasks = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    usePriority = fields.Boolean(load_default=True)
    asyncResponseTimeout = fields.Integer(load_default=None, allow_none=True, strict=True,
                                          validate=validate.Range(min=0, max=1_800_000),
                                          metadata={"description": "accepted; the answer comes at once"})
    topics = fields.List(fields.Nested(FetchTopic), required=True)


class _ExternalTaskFields(Schema):
    """What Camunda's LockedExternalTaskDto and ExternalTaskDto share."""
    activityId = fields.String()
    activityInstanceId = fields.String()
    errorMessage = fields.String(allow_none=True)
    executionId = fields.String()
    id = fields.String()
    processDefinitionId = fields.String()
    processDefinitionKey = fields.String()
    processDefinitionVersionTag = fields.String(allow_none=True)
    processInstanceId = fields.String()
    tenantId = fields.String(allow_none=True)
    retries = fields.Integer(allow_none=True)
    suspended = fields.Boolean()
    topicName = fields.String()
    priority = fields.Integer()


class LockedExternalTask(_ExternalTaskFields):
    errorDetails = fields.String(allow_none=True)
    lockExpirationTime = fields.String()
    workerId = fields.String()
    businessKey = fields.String(allow_none=True)
    variables = fields.Dict()
    extensionProperties = fields.Dict()


class Complete(Schema):
    class Meta:
        unknown = EXCLUDE
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    variables = Variables
    localVariables = Variables


class Failure(Schema):
    class Meta:
        unknown = EXCLUDE
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorMessage = fields.String(load_default="", allow_none=True, validate=validate.Length(max=10_000))
    errorDetails = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100_000))
    retries = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=MAX_MS))
    retryTimeout = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=MAX_MS))
    variables = Variables
    localVariables = Variables


class ExtendLock(Schema):
    class Meta:
        unknown = EXCLUDE
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    newDuration = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_MS))


class BpmnError(Schema):
    class Meta:
        unknown = EXCLUDE
    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorCode = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorMessage = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10_000))
    variables = Variables

    @validates_schema
    def _code(self, data, **_kwargs):
        if not data["errorCode"].strip():
            raise ValidationError("errorCode must not be blank", "errorCode")


class CommaList(fields.String):
    """Camunda's list parameters of a query: one text, its items separated by commas."""

    def _deserialize(self, value, attr, data, **kwargs):
        items = tuple(item for item in super()._deserialize(value, attr, data, **kwargs).split(",") if item)
        if not items or any(len(item) > 255 for item in items):
            raise ValidationError("give one or more names of at most 255 characters, separated by commas")
        return items


class CamundaDate(fields.String):
    """Camunda's date parameter: 2026-12-06T10:00:00.000+0100 (a `+` sent unescaped arrives as a space)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().replace(" ", "+")
        try:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                return moment.astimezone(timezone.utc)
        except (ValueError, OverflowError):     # not a date, or outside the years 1 to 9999 in UTC
            pass
        raise ValidationError("a date with its offset, as yyyy-MM-dd'T'HH:mm:ss.SSSZ: 2026-12-06T10:00:00.000+0100")


# Camunda's sortBy values and what they order by (no task has a tenant: that order is the default one)
SORTS = {"id": "id", "lockExpirationTime": "lock_expires_at", "processInstanceId": "case",
         "processDefinitionId": "process", "processDefinitionKey": "process", "tenantId": "created",
         "taskPriority": "priority", "createTime": "created"}
FLAG = "Only `true` narrows the result; `false` matches any external task."


class TaskFilters(Schema):
    """Camunda's query parameters of GET /external-task and /external-task/count."""
    class Meta:
        unknown = EXCLUDE
    externalTaskId = fields.String(validate=validate.Length(max=255))
    externalTaskIdIn = CommaList()
    topicName = fields.String(validate=validate.Length(max=255))
    workerId = fields.String(validate=validate.Length(max=255), metadata={"description": "the worker that locked it last"})
    locked = fields.Boolean(metadata={"description": "a lock that has not expired. " + FLAG})
    notLocked = fields.Boolean(metadata={"description": "no lock, or one that has expired. " + FLAG})
    withRetriesLeft = fields.Boolean(metadata={"description": "retries above 0, or no failure reported. " + FLAG})
    noRetriesLeft = fields.Boolean(metadata={"description": "0 retries (an incident). " + FLAG})
    lockExpirationAfter = CamundaDate()
    lockExpirationBefore = CamundaDate()
    activityId = fields.String(validate=validate.Length(max=255))
    activityIdIn = CommaList()
    executionId = fields.String(validate=validate.Length(max=255), metadata={"description": "the task's id in Lotse"})
    processInstanceId = fields.String(validate=validate.Length(max=255), metadata={"description": "a case's reference"})
    processInstanceIdIn = CommaList()
    processDefinitionId = fields.String(validate=validate.Length(max=255),
                                        metadata={"description": "a process key (Lotse names versions by key)"})
    tenantIdIn = CommaList(metadata={"description": "Lotse has no tenants: any value matches nothing"})
    active = fields.Boolean(metadata={"description": "Lotse never suspends a task: every task is active"})
    suspended = fields.Boolean(metadata={"description": "Lotse never suspends a task: `true` matches nothing"})
    priorityHigherThanOrEquals = fields.Integer(validate=validate.Range(min=-2**31, max=2**31 - 1))
    priorityLowerThanOrEquals = fields.Integer(validate=validate.Range(min=-2**31, max=2**31 - 1))


class TaskQueryArgs(TaskFilters):
    sortBy = fields.String(validate=validate.OneOf(list(SORTS)), metadata={"description": "with sortOrder"})
    sortOrder = fields.String(validate=validate.OneOf(["asc", "desc"]), metadata={"description": "with sortBy"})
    firstResult = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_MS))
    maxResults = fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_MS),
                                metadata={"description": "none: every task from firstResult on"})

    @validates_schema
    def _sorting(self, data, **_kwargs):
        if ("sortBy" in data) != ("sortOrder" in data):
            raise ValidationError("sortBy and sortOrder are given together", "sortOrder" if "sortBy" in data else "sortBy")


class ExternalTaskOut(_ExternalTaskFields):
    """Camunda's ExternalTaskDto."""
    lockExpirationTime = fields.String(allow_none=True)
    createTime = fields.String()
    workerId = fields.String(allow_none=True)
    businessKey = fields.String(allow_none=True, metadata={"description": "the one the case started with"})


class Count(Schema):
    count = fields.Integer()


class Retries(Schema):
    class Meta:
        unknown = EXCLUDE
    retries = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_MS),
                             metadata={"description": "0: an incident, and workers no longer fetch the task; more: "
                                                      "its incident resolved and workers fetch it again"})


class Priority(Schema):
    class Meta:
        unknown = EXCLUDE
    priority = fields.Integer(required=True, strict=True, validate=validate.Range(min=-2**31, max=2**31 - 1))


# --- Camunda's typed values -------------------------------------------------------------------------------

def typed(value) -> dict:
    """A case value as Camunda's typed variable."""
    if value is None:
        return {"value": None, "type": "Null", "valueInfo": {}}
    if isinstance(value, bool):
        return {"value": value, "type": "Boolean", "valueInfo": {}}
    if isinstance(value, int):
        return {"value": value, "type": "Integer" if -2**31 <= value < 2**31 else "Long", "valueInfo": {}}
    if isinstance(value, float):
        return {"value": value, "type": "Double", "valueInfo": {}}
    if isinstance(value, str):
        return {"value": value, "type": "String", "valueInfo": {}}
    return {"value": json.dumps(value), "type": "Json", "valueInfo": {}}


def untyped(variables: dict | None) -> dict:
    """Camunda's typed variables as case values (Json and Object values are parsed from their text)."""
    out = {}
    for name, variable in (variables or {}).items():
        value, kind = variable.get("value"), (variable.get("type") or "").lower()
        if kind in ("json", "object") and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise InvalidData(f"variable {name!r} of type {variable.get('type')} holds no JSON",
                                  field=f"variables.{name}")
        out[name] = value
    return out


def _within(args, *names) -> tuple | None:
    """What the filters `names` on one column let through together: the values each given one names."""
    given = [set(args[name]) if isinstance(args[name], tuple) else {args[name]} for name in names if name in args]
    return tuple(sorted(set.intersection(*given))) if given else None


def _query(args) -> Query:
    """Camunda's query parameters as the engine's query (a task's execution is the task itself here)."""
    return Query(
        ids=_within(args, "externalTaskId", "externalTaskIdIn", "executionId"), topic=args.get("topicName"),
        worker_id=args.get("workerId"), locked=args.get("locked", False), not_locked=args.get("notLocked", False),
        with_retries_left=args.get("withRetriesLeft", False), no_retries_left=args.get("noRetriesLeft", False),
        lock_expires_after=args.get("lockExpirationAfter"), lock_expires_before=args.get("lockExpirationBefore"),
        activity_ids=_within(args, "activityId", "activityIdIn"),
        case_references=_within(args, "processInstanceId", "processInstanceIdIn"),
        process_keys=_within(args, "processDefinitionId"), min_priority=args.get("priorityHigherThanOrEquals"),
        max_priority=args.get("priorityLowerThanOrEquals"),
        none=bool(args.get("tenantIdIn")) or args.get("suspended", False),
        order=SORTS[args["sortBy"]] if "sortBy" in args else "created", descending=args.get("sortOrder") == "desc")


def _task(found) -> dict:
    task, reference, business_key = found
    return {"activityId": task.element_id, "activityInstanceId": f"{task.element_id}:{task.id}",
            "errorMessage": task.error_message, "executionId": task.id, "id": task.id,
            "lockExpirationTime": camunda_time(task.lock_expires_at) if task.lock_expires_at else None,
            "createTime": camunda_time(task.created_at), "processDefinitionId": task.process_key,
            "processDefinitionKey": task.process_key, "processDefinitionVersionTag": None,
            "processInstanceId": reference, "tenantId": None, "retries": task.retries, "suspended": False,
            "workerId": task.worker_id, "topicName": task.topic, "priority": task.priority, "businessKey": business_key}


def _locked(task) -> dict:
    return {"activityId": task.element_id, "activityInstanceId": f"{task.element_id}:{task.id}",
            "errorMessage": task.error_message, "errorDetails": task.error_details, "executionId": task.id,
            "id": task.id, "lockExpirationTime": camunda_time(task.lock_expires_at),
            "processDefinitionId": task.process_key, "processDefinitionKey": task.process_key,
            "processDefinitionVersionTag": None, "processInstanceId": task.case_reference, "tenantId": None,
            "retries": task.retries, "suspended": False, "workerId": task.worker_id, "topicName": task.topic,
            "priority": task.priority, "businessKey": task.variables.get("businessKey") if isinstance(
                task.variables.get("businessKey"), str) else None,
            "variables": {name: typed(value) for name, value in task.variables.items()}, "extensionProperties": {}}


@bp.route("/external-task/fetchAndLock", methods=["POST"])
@bp.arguments(FetchAndLock, error_status_code=INVALID)
@bp.response(200, LockedExternalTask(many=True))
def fetch_and_lock(body):
    """Lock up to `maxTasks` open tasks of the topics for the worker, each for its topic's `lockDuration` ms."""
    topics = [Topic(t["topicName"], t["lockDuration"], t["variables"]) for t in body["topics"]]
    return [_locked(task) for task in
            api_actions.fetch_and_lock(g.api_actor, body["workerId"], topics, body["maxTasks"])]


@bp.route("/external-task/<task_id>/complete", methods=["POST"])
@bp.arguments(Complete, error_status_code=INVALID)
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def complete(body, task_id):
    """Complete the task locked by `workerId`; its variables become case data."""
    variables = {**untyped(body["variables"]), **untyped(body["localVariables"])}
    api_actions.complete_external(g.api_actor, task_id, body["workerId"], variables)
    return ""


@bp.route("/external-task/<task_id>/failure", methods=["POST"])
@bp.arguments(Failure, error_status_code=INVALID)
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def handle_failure(body, task_id):
    """The worker failed: with `retries` > 0 the task is fetchable again after `retryTimeout` ms; with 0,
    an incident on the case. Its variables become case data."""
    api_actions.fail_external(g.api_actor, task_id, body["workerId"], body["errorMessage"] or "",
                              body["errorDetails"], body["retries"], body["retryTimeout"],
                              {**untyped(body["variables"]), **untyped(body["localVariables"])})
    return ""


@bp.route("/external-task/<task_id>/extendLock", methods=["POST"])
@bp.arguments(ExtendLock, error_status_code=INVALID)
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def extend_lock(body, task_id):
    """Lock the task for `newDuration` ms from now (only while the worker's lock holds)."""
    api_actions.extend_external_lock(g.api_actor, task_id, body["workerId"], body["newDuration"])
    return ""


@bp.route("/external-task/<task_id>/bpmnError", methods=["POST"])
@bp.arguments(BpmnError, error_status_code=INVALID)
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def bpmn_error(body, task_id):
    """Throw the BPMN error `errorCode` at the task: an error boundary event catches it, else an incident."""
    api_actions.bpmn_error(g.api_actor, task_id, body["workerId"], body["errorCode"], body["errorMessage"],
                           untyped(body["variables"]))
    return ""


@bp.route("/external-task/<task_id>/unlock", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def unlock(task_id):
    """Release the task's lock: any worker may fetch it."""
    api_actions.unlock_external(g.api_actor, task_id)
    return ""


@bp.route("/external-task", methods=["GET"])
@bp.arguments(TaskQueryArgs, location="query", error_status_code=INVALID)
@bp.response(200, ExternalTaskOut(many=True))
def query(args):
    """The open external tasks the filters select (each given narrows them), in `sortBy`'s order (default: the
    oldest first), from `firstResult` on, at most `maxResults`."""
    return [_task(found) for found in api_reads.external_tasks(g.api_actor, _query(args), args["firstResult"],
                                                              args["maxResults"])]


@bp.route("/external-task/count", methods=["GET"])
@bp.arguments(TaskFilters, location="query", error_status_code=INVALID)
@bp.response(200, Count)
def count(args):
    """How many open external tasks the filters select."""
    return {"count": api_reads.external_task_count(g.api_actor, _query(args))}


@bp.route("/external-task/<task_id>", methods=["GET"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(200, ExternalTaskOut)
def get(task_id):
    """One open external task (an ended one no longer exists, as in Camunda)."""
    return _task(api_reads.external_task(g.api_actor, task_id))


@bp.route("/external-task/<task_id>/retries", methods=["PUT"])
@bp.arguments(Retries, error_status_code=INVALID)
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def set_retries(body, task_id):
    """Set the task's retries. 0: an incident on the case, as when its worker gives up, and workers no longer
    fetch it; more on a task with none left or an incident: the incident is resolved and workers fetch it again."""
    api_actions.set_external_retries(g.api_actor, task_id, body["retries"])
    return ""


@bp.route("/external-task/<task_id>/priority", methods=["PUT"])
@bp.arguments(Priority, error_status_code=INVALID)
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(204)
def set_priority(body, task_id):
    """Set the task's priority: workers asking with usePriority fetch the highest first."""
    api_actions.set_external_priority(g.api_actor, task_id, body["priority"])
    return ""
