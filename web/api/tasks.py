"""Tasks: the inbox's tabs and filters, one task with its form, claim, unclaim, assign, complete, draft.

A task's ETag changes when it is completed, claimed, handed on or its draft saved; `If-Match` on a
change refuses (409) a task changed since it was read. A task already completed is a 409 too."""
import zlib

from flask import g, json, request

from engine import api_actions, api_reads, cases, inbox
from web.api import blueprint
from web.api.schemas import (AssignSchema, CompletionSchema, TaskDataSchema, TaskDetailSchema, TaskListArgs,
                             TaskListSchema, TaskSchema)

bp = blueprint("api_tasks", "User tasks: list, read with form, claim, unclaim, assign, complete, draft")


def task_etag(row) -> str:
    draft = zlib.crc32(json.dumps(row.draft, sort_keys=True).encode()) if row.draft else 0
    return f'"{row.state}-{row.assignee_id or 0}-{draft:x}"'


def task_json(row) -> dict:
    """A task row (engine.models.HumanTask) or an inbox row (engine.inbox.InboxRow)."""
    assignee = getattr(row, "assignee_name", None)
    if assignee is None and getattr(row, "assignee", None) is not None:
        assignee = row.assignee.display_name
    return {"id": row.id, "title": row.title, "case_reference": row.case_reference, "case_subject": row.case_subject,
            "process_key": row.process_key, "element_id": getattr(row, "element_id", None),
            "state": getattr(row, "state", "open"), "assignee": assignee,
            "candidate_groups": list(row.candidate_groups or []), "candidate_users": list(row.candidate_users or []),
            "priority": row.priority or 0, "due_at": row.due_at, "follow_up_at": row.follow_up_at,
            "created_at": row.created_at,
            "has_draft": bool(getattr(row, "has_draft", None) or getattr(row, "draft", None))}


def _checked(task_id):
    """The If-Match precondition, when sent (it reads the task; without it, the engine's own checks answer)."""
    expected = request.headers.get("If-Match")
    if expected is not None:
        api_actions.conflict_if_stale(expected, task_etag(api_reads.visible_task(g.api_actor, task_id)))


@bp.route("/tasks", methods=["GET"])
@bp.arguments(TaskListArgs, location="query")
@bp.response(200, TaskListSchema)
def list_tasks(args):
    """The caller's tasks ("mine"), their groups' ("group") or, for supervisors, the center's ("all"),
    with the inbox's filters and sort."""
    query = inbox.InboxQuery(view=args["view"], process=args["process"], task=args["task"], due=args["due"],
                             q=args["q"], sort=args["sort"], page=args["page"], followup=args["followup"])
    page = api_reads.task_list_page(g.api_actor, query)
    return {"items": [task_json(row) for row in page.rows], "has_next": page.has_next}


@bp.route("/tasks/<task_id>", methods=["GET"])
@bp.response(200, TaskDetailSchema)
def get_task(task_id):
    """A task with its form definition (form-js), the data it sees and its draft."""
    detail = api_reads.task_detail(g.api_actor, task_id)
    row = detail.row
    body = {**task_json(row), "documentation": row.documentation, "form": detail.form, "data": detail.data,
            "draft": row.draft if row.is_open else None, "can_work": detail.can_work, "can_claim": detail.can_claim}
    return body, 200, {"ETag": task_etag(row)}


def _answer(row):
    return task_json(row), 200, {"ETag": task_etag(row)}


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.response(200, TaskSchema)
def claim(task_id):
    """Take an open group task (a candidate)."""
    _checked(task_id)
    return _answer(cases.claim_task(task_id, g.api_actor))


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.response(200, TaskSchema)
def unclaim(task_id):
    """Hand a claimed task back to its groups (its assignee or a supervisor)."""
    _checked(task_id)
    return _answer(cases.unclaim_task(task_id, g.api_actor))


@bp.route("/tasks/<task_id>/assign", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.arguments(AssignSchema)
@bp.response(200, TaskSchema)
def assign(body, task_id):
    """Hand an open task to a candidate of the center (supervisors)."""
    _checked(task_id)
    return _answer(api_actions.assign_task(g.api_actor, task_id, body["username"]))


@bp.route("/tasks/<task_id>/draft", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.arguments(TaskDataSchema)
@bp.response(200, TaskSchema)
def draft(body, task_id):
    """Keep form values without completing."""
    _checked(task_id)
    return _answer(cases.save_draft(task_id, body["data"], g.api_actor))


@bp.route("/tasks/<task_id>/complete", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.arguments(TaskDataSchema)
@bp.response(200, CompletionSchema)
def complete(body, task_id):
    """Complete a task with its form's values, checked as the task page checks them (422 naming each field).
    The answer holds the case and its next task for the caller, if any."""
    from web.api.cases import case_json
    _checked(task_id)
    case, following = api_actions.complete_task(g.api_actor, task_id, body["data"])
    return {"case": case_json(case), "next_task": task_json(following) if following is not None else None}
