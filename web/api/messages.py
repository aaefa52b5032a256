"""Messages from outside: into the one waiting case they correlate with, or starting a case."""
from flask import g

from engine import api_actions
from web.api import blueprint
from web.api.cases import case_json
from web.api.schemas import CaseSchema, MessageSchema

bp = blueprint("api_messages", "Messages: correlate into a waiting case, or start a case by message start event")


@bp.route("/messages", methods=["POST"])
@bp.arguments(MessageSchema)
@bp.response(200, CaseSchema)
def correlate(body):
    """Deliver the message `name` to the one active case of the caller's center waiting for it whose
    variables hold `correlation_keys` (409 when several do: name more keys); with none waiting, a process
    that starts with this message starts a case at the caller's center. `data` becomes case data."""
    case = api_actions.correlate(g.api_actor, body["name"], body["correlation_keys"], body["data"])
    return case_json(case)
