"""Migration of running cases to another version of their process: the dry run (GET) and the
migration (POST), for process owners only."""
from flask import abort, render_template, request
from flask_login import current_user

from engine import migration
from engine.errors import InvalidData, NotFound
from web.permissions import process_owner_required
from web.processes import bp


def _choice(source) -> dict:
    return {"from_version": source.get("from", type=int), "to_version": source.get("to", type=int),
            "case": (source.get("case") or "").strip()[:64], "mapping_text": (source.get("map") or "")[:4000]}


@bp.get("/<key>/migrate")
@process_owner_required
def migration_page(key):
    try:
        page = migration.migration_page(key, **_choice(request.args))
    except NotFound:
        abort(404)
    return render_template("processes/migration.html", page=page, done=False), 422 if page["error"] else 200


@bp.post("/<key>/migrate")
@process_owner_required
def migrate(key):
    choice = _choice(request.form)
    if choice["from_version"] is None or choice["to_version"] is None:
        abort(400)
    try:
        result = migration.migrate(key, choice["from_version"], choice["to_version"], case_id=choice["case"] or None,
                                   mapping=migration.parse_mapping(choice["mapping_text"].splitlines()),
                                   actor=current_user._get_current_object())
    except NotFound:
        abort(404)
    except InvalidData as exc:
        page = migration.migration_page(key, **choice)
        page["error"] = {exc.field or "case": str(exc)}
        return render_template("processes/migration.html", page=page, done=False), 422
    return render_template("processes/migration.html", page={"key": key, "name": result.target.name, "plan": result,
                                                             "error": {}, **choice}, done=True)
