"""Cases: start, list (filters, cursor), one case (open tasks, milestones, data), cancel, event log.

A case's ETag is its version; `If-Match` on a change refuses (409) a case changed since it was read."""
from flask import g, request

from engine import api_actions, api_reads, case_list
from web.api import blueprint
from web.api.schemas import (CancelSchema, CaseDetailSchema, CaseListArgs, CaseListSchema, CaseSchema,
                             CaseStartSchema, EventListArgs, EventListSchema)
from web.api.tasks import task_json

bp = blueprint("api_cases", "Cases: start, list, read, cancel, event log")


def case_etag(case) -> str:
    return f'"{case.id}-{case.lock_version}"'


def case_json(case) -> dict:
    definition = case.definition
    return {"reference": case.reference, "process_key": definition.key if definition else "",
            "process_version": definition.version if definition else 0, "subject": case.subject,
            "status": case.status, "has_incident": case.has_incident,
            "employer_id": case.employer_id, "responsible_id": case.responsible_id, "started_at": case.started_at,
            "updated_at": case.updated_at, "ended_at": case.ended_at}


@bp.route("/cases", methods=["POST"])
@bp.arguments(CaseStartSchema)
@bp.response(201, CaseSchema)
def start_case(body):
    """Start a case at the caller's center (staff) with data and a business key."""
    case = api_actions.start_case(g.api_actor, body["process"], subject=body["subject"],
                                  business_key=body["business_key"], data=body["data"],
                                  employer_id=body["employer_id"], responsible_id=body["responsible_id"])
    return case_json(case), 201, {"ETag": case_etag(case), "Location": f"{request.script_root}/api/v1/cases/{case.reference}"}


@bp.route("/cases", methods=["GET"])
@bp.arguments(CaseListArgs, location="query")
@bp.response(200, CaseListSchema)
def list_cases(args):
    """The cases the caller's center holds, newest activity first, filtered as the page "Fälle" filters."""
    query = case_list.CaseQuery(q=args["q"], process=args["process"], status=args["status"], firm=args["firm"],
                                responsible=args["responsible"], incident=args["incident"],
                                page=args["cursor"])
    page = api_reads.case_list_page(g.api_actor, query)
    items = [{"reference": r.reference, "process_key": r.process_key, "subject": r.subject, "status": r.status,
              "has_incident": r.has_incident, "started_at": r.started_at, "updated_at": r.updated_at,
              "responsible_id": r.responsible_id} for r in page.rows]
    return {"items": items, "next_cursor": query.page + 1 if page.has_next else None}


@bp.route("/cases/<reference>", methods=["GET"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.response(200, CaseDetailSchema)
def get_case(reference):
    """A case with its open tasks (those the caller may see), milestones and data (staff only)."""
    detail = api_reads.case_detail(g.api_actor, reference)
    page, journey = detail.page, detail.journey
    reached = [{"key": m.key, "label": m.label, "status": "done", "at": m.reached_at} for m in journey.done]
    ahead = [{"key": m.key, "label": m.label, "status": m.status, "at": None}
             for m in (journey.current, journey.next) if m is not None]
    body = {**case_json(page.case), "business_key": (page.data or {}).get("businessKey"),
            "tasks": [task_json(t) for t in page.tasks], "milestones": reached + ahead,
            "data": page.data if page.view.case_data else None}
    return body, 200, {"ETag": case_etag(page.case)}


@bp.route("/cases/<reference>/cancel", methods=["POST"])
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.arguments(CancelSchema)
@bp.response(200, CaseSchema)
def cancel_case(body, reference):
    """Cancel an active case (staff of its center). `If-Match` with the case's ETag guards against a stale read."""
    case = api_reads.visible_case(g.api_actor, reference)
    api_actions.conflict_if_stale(request.headers.get("If-Match"), case_etag(case))
    case = api_actions.cancel_case(g.api_actor, reference, body["reason"])
    return case_json(case), 200, {"ETag": case_etag(case)}


@bp.route("/cases/<reference>/events", methods=["GET"])
@bp.arguments(EventListArgs, location="query")
@bp.response(200, EventListSchema)
def case_events(args, reference):
    """The case's event log, oldest first (staff); page on with `after`."""
    events = api_reads.case_events(g.api_actor, reference, args["after"], args["limit"])
    items = [{"id": e.id, "at": e.at, "kind": e.kind, "actor": e.actor.username if e.actor else None,
              "task_id": e.task_id, "element_id": e.element_id, "element_name": e.element_name,
              "details": e.details or {}} for e in events]
    return {"items": items, "next_cursor": events[-1].id if len(events) == args["limit"] else None}
