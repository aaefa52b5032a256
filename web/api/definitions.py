"""Process definitions: the newest versions, one process with its versions, deploying a file set."""
from flask import g

from engine import api_actions, api_reads
from web.api import blueprint
from web.api.schemas import DefinitionDetailSchema, DefinitionSchema, DeployResultSchema, DeploySchema

bp = blueprint("api_definitions", "Process definitions: list, versions, deploy (.bpmn, .dmn, .form)")


@bp.route("/process-definitions", methods=["GET"])
@bp.response(200, DefinitionSchema(many=True))
def list_definitions():
    """The newest version of each deployed process (staff, process owners, admins)."""
    return api_reads.definitions(g.api_actor)


@bp.route("/process-definitions/<key>", methods=["GET"])
@bp.response(200, DefinitionDetailSchema)
def get_definition(key):
    """One process: its newest version and every version."""
    latest, versions = api_reads.definition_versions(g.api_actor, key)
    fields = ("id", "key", "version", "name", "startable", "message_starts", "created_at")
    return {**{name: getattr(latest, name) for name in fields}, "versions": versions}


@bp.route("/deployments", methods=["POST"])
@bp.arguments(DeploySchema)
@bp.response(201, DeployResultSchema)
def deploy(body):
    """Deploy .bpmn, .dmn and .form files as new versions, all or nothing, with the command line's checks
    (process owners and admins). A rejected set answers 422 naming each problem by file and element."""
    files = [(f["name"], f["content"].encode()) for f in body["files"]]
    result = api_actions.deploy(g.api_actor, files, note=body["note"])
    return {"definitions": result.created, "forms": result.forms, "warnings": [str(w) for w in result.warnings]}
