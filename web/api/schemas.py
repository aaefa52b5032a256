"""The API's marshmallow schemas: what requests carry and responses hold (the OpenAPI document is made
from them). Names in JSON are camelCase only where Camunda's external task API defines them."""
import base64

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

Text = fields.String
MAX_TEXT = validate.Length(max=10_000)
ROW_ID = validate.Range(min=1, max=2**31 - 1)          # a row's id (an integer column)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ProblemErrorSchema(Schema):
    location = Text(metadata={"description": "json, query, path or header"})
    field = Text(allow_none=True)
    detail = Text()
    file = Text(allow_none=True)
    element_id = Text(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = Text(allow_none=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""
    type = Text()
    title = Text()
    status = fields.Integer()
    detail = Text()
    errors = fields.List(fields.Nested(ProblemErrorSchema))
    message = Text(metadata={"description": "the detail again, on the external task routes (Camunda's name)"})


# --- process definitions -----------------------------------------------------------------------------

class DefinitionSchema(Schema):
    id = fields.Integer()
    key = Text()
    version = fields.Integer()
    name = Text()
    startable = fields.Boolean()
    message_starts = fields.List(Text())
    created_at = fields.DateTime()


class DefinitionDetailSchema(DefinitionSchema):
    versions = fields.List(fields.Nested(DefinitionSchema))


class DeployFileSchema(Strict):
    name = Text(required=True, validate=validate.Length(min=1, max=255),
                metadata={"description": "file name ending in .bpmn, .dmn or .form"})
    content = Text(required=True, validate=validate.Length(max=2_000_000))


class DeploySchema(Strict):
    files = fields.List(fields.Nested(DeployFileSchema), required=True, validate=validate.Length(min=1, max=100))
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                metadata={"description": "what changed (the command line's --note)"})


class DeployedFormSchema(Schema):
    key = Text()
    version = fields.Integer()


class DeployResultSchema(Schema):
    definitions = fields.List(fields.Nested(DefinitionSchema))
    forms = fields.List(fields.Nested(DeployedFormSchema))
    warnings = fields.List(Text())


# --- cases ---------------------------------------------------------------------------------------------

class CaseSchema(Schema):
    reference = Text()
    process_key = Text()
    process_version = fields.Integer()
    subject = Text()
    status = Text()
    has_incident = fields.Boolean()
    employer_id = fields.Integer(allow_none=True)
    responsible_id = fields.Integer(allow_none=True)
    started_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)


class TaskSchema(Schema):
    id = Text()
    title = Text()
    case_reference = Text()
    case_subject = Text()
    process_key = Text()
    element_id = Text(allow_none=True)
    state = Text()
    assignee = Text(allow_none=True, metadata={"description": "username"})
    candidate_groups = fields.List(Text())
    candidate_users = fields.List(Text())
    priority = fields.Integer()
    due_at = fields.DateTime(allow_none=True)
    follow_up_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    has_draft = fields.Boolean()


class MilestoneSchema(Schema):
    key = Text()
    label = Text()
    status = Text(metadata={"description": "done, current or next"})
    at = fields.DateTime(allow_none=True)


class CaseDetailSchema(CaseSchema):
    business_key = Text(allow_none=True, metadata={"description": "the case variable businessKey (staff only)"})
    tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "open tasks the caller may see"})
    milestones = fields.List(fields.Nested(MilestoneSchema))
    data = fields.Dict(allow_none=True, metadata={"description": "the case data (null: not the caller's to see)"})


class CaseStartSchema(Strict):
    process = Text(required=True, validate=validate.Length(min=1, max=128), metadata={"description": "process key"})
    subject = Text(load_default="", validate=validate.Length(max=200))
    business_key = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    data = fields.Dict(keys=Text(), load_default=dict)
    employer_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ROW_ID)
    responsible_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ROW_ID)


class PageCursor(fields.String):
    """A list's cursor as the API gives it out (`next_cursor`): the page number, opaque to callers."""

    def _serialize(self, page, attr, obj, **kwargs):
        return base64.urlsafe_b64encode(f"p{page}".encode()).decode() if page else None

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 40:
            raise ValidationError("not a cursor this API gave out")
        try:
            page = int(base64.urlsafe_b64decode(text.encode()).decode().removeprefix("p"))
        except (ValueError, UnicodeError):
            page = 0
        if not 1 <= page <= 10_000:
            raise ValidationError("not a cursor this API gave out")
        return page


class CaseListArgs(Schema):
    class Meta:
        unknown = EXCLUDE
    q = Text(load_default="", validate=validate.Length(max=100))
    process = Text(load_default="", validate=validate.Length(max=128))
    status = Text(load_default="active", validate=validate.OneOf(["active", "completed", "cancelled", "all"]))
    firm = fields.Integer(load_default=None, validate=ROW_ID)
    responsible = fields.Integer(load_default=None, validate=ROW_ID)
    incident = fields.Boolean(load_default=False)
    cursor = PageCursor(load_default=1, metadata={"description": "a `next_cursor` of the list"})


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    next_cursor = PageCursor(allow_none=True, metadata={"description": "pass as `cursor` for the next page"})


class CancelSchema(Strict):
    reason = Text(load_default="", validate=validate.Length(max=2000))


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = Text()
    actor = Text(allow_none=True)
    task_id = Text(allow_none=True)
    element_id = Text(allow_none=True)
    element_name = Text(allow_none=True)
    details = fields.Dict()


class EventListArgs(Schema):
    class Meta:
        unknown = EXCLUDE
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    next_cursor = fields.Integer(allow_none=True, metadata={"description": "pass as `after` for the next page"})


# --- tasks ---------------------------------------------------------------------------------------------

class TaskListArgs(Schema):
    class Meta:
        unknown = EXCLUDE
    view = Text(load_default="mine", validate=validate.OneOf(["mine", "group", "all"]))
    process = Text(load_default="", validate=validate.Length(max=128))
    task = Text(load_default="", validate=validate.Length(max=100))
    due = Text(load_default="", validate=validate.OneOf(["", "overdue", "today", "week"]))
    q = Text(load_default="", validate=validate.Length(max=100))
    sort = Text(load_default="due", validate=validate.OneOf(["due", "-due", "created", "-created", "priority"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    followup = fields.Boolean(load_default=False,
                              metadata={"description": "also tasks whose follow-up date is still ahead"})


class TaskListSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    has_next = fields.Boolean()


class TaskDetailSchema(TaskSchema):
    documentation = Text(allow_none=True)
    form = fields.Dict(allow_none=True, metadata={"description": "the task's form-js schema (null: none)"})
    data = fields.Dict(metadata={"description": "what the task sees of the case data"})
    draft = fields.Dict(allow_none=True)
    can_work = fields.Boolean()
    can_claim = fields.Boolean()


class TaskDataSchema(Strict):
    data = fields.Dict(keys=Text(), load_default=dict, metadata={"description": "the form's values by key"})


class AssignSchema(Strict):
    username = Text(required=True, validate=validate.Length(min=1, max=64))


class CompletionSchema(Schema):
    case = fields.Nested(CaseSchema)
    next_task = fields.Nested(TaskSchema, allow_none=True,
                              metadata={"description": "the case's next task for the caller, if any"})


# --- messages and incidents ----------------------------------------------------------------------------

class MessageSchema(Strict):
    name = Text(required=True, validate=validate.Length(min=1, max=255))
    correlation_keys = fields.Dict(keys=Text(), load_default=dict)
    data = fields.Dict(keys=Text(), load_default=dict)


class IncidentSchema(Schema):
    id = fields.Integer()
    case_reference = Text()
    task_id = Text()
    element_id = Text()
    element_name = Text(allow_none=True)
    error_type = Text()
    message = Text()
    created_at = fields.DateTime()


class IncidentListArgs(Schema):
    class Meta:
        unknown = EXCLUDE
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class IncidentListSchema(Schema):
    items = fields.List(fields.Nested(IncidentSchema))
    next_cursor = fields.Integer(allow_none=True)


class RetrySchema(Strict):
    data = fields.Dict(keys=Text(), load_default=dict, metadata={"description": "corrected case data"})
