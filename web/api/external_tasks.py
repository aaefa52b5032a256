"""External tasks, as Camunda 7's REST API defines them (a worker written for Camunda's external task
client works with its base URL set to …/api/v1): fetch and lock, complete, failure, extend lock, BPMN
error, unlock. Request and response bodies have Camunda's names and shapes, variables Camunda's typed
values ({"value": …, "type": "String"}). A service account reaches the tasks of its topics at its
center; center staff every topic of their center. Errors are problem details with Camunda's statuses
(400: invalid, or not this worker's lock; 404: no such task, or it ended) and its `message` field
(web/api/problems.py)."""

from flask import g, json
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from engine import api_actions
from engine.errors import InvalidData
from engine.external_tasks import Topic
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


class LockedExternalTask(Schema):
    activityId = fields.String()
    activityInstanceId = fields.String()
    errorMessage = fields.String(allow_none=True)
    errorDetails = fields.String(allow_none=True)
    executionId = fields.String()
    id = fields.String()
    lockExpirationTime = fields.String()
    processDefinitionId = fields.String()
    processDefinitionKey = fields.String()
    processDefinitionVersionTag = fields.String(allow_none=True)
    processInstanceId = fields.String()
    tenantId = fields.String(allow_none=True)
    retries = fields.Integer(allow_none=True)
    suspended = fields.Boolean()
    workerId = fields.String()
    topicName = fields.String()
    priority = fields.Integer()
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
