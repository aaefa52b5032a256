"""Incidents: the failed steps of the caller's center's cases, and retrying them with corrected data."""
from flask import g

from engine import api_actions, api_reads
from web.api import blueprint
from web.api.cases import case_json
from web.api.schemas import CaseSchema, IncidentListArgs, IncidentListSchema, RetrySchema

bp = blueprint("api_incidents", "Incidents: list, retry with corrected data")


@bp.route("/incidents", methods=["GET"])
@bp.arguments(IncidentListArgs, location="query")
@bp.response(200, IncidentListSchema)
def list_incidents(args):
    """Open incidents of the cases the caller may retry (staff of their center), oldest first."""
    found = api_reads.incidents(g.api_actor, args["after"], args["limit"])
    items = [{"id": i.id, "case_reference": reference, "task_id": i.task_id, "element_id": i.element_id,
              "element_name": i.element_name, "error_type": i.error_type, "message": i.message,
              "created_at": i.created_at} for i, reference in found]
    return {"items": items, "next_cursor": found[-1][0].id if len(found) == args["limit"] else None}


@bp.route("/incidents/<int:incident_id>/retry", methods=["POST"])
@bp.arguments(RetrySchema)
@bp.response(200, CaseSchema)
def retry(body, incident_id):
    """Run the failed step again after writing the corrected `data` into the case (an external task's
    failure: it becomes fetchable again, with one retry)."""
    return case_json(api_actions.retry_incident(g.api_actor, incident_id, body["data"]))
