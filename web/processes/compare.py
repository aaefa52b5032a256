"""Comparing two versions of a process side by side, the diagram of a version, and rolling back to
an older version, for process owners only."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import versions
from engine.errors import InvalidData, NotFound
from web.permissions import process_owner_required
from web.processes import bp


@bp.get("/<key>/compare")
@process_owner_required
def compare(key):
    try:
        page = versions.compare_page(key, request.args.get("old", type=int), request.args.get("new", type=int))
    except NotFound:
        abort(404)
    return render_template("processes/compare.html", page=page)


@bp.get("/<key>/v<int:version>/diagram.bpmn")
@process_owner_required
def version_diagram(key, version):
    try:
        source = versions.diagram(key, version)
    except NotFound:
        abort(404)
    # Served as text in a sandbox, as the case diagram: a stored file can never run as a page.
    return Response(source, mimetype="text/plain",
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
                             "Content-Disposition": f"inline; filename={key}-v{version}.bpmn"})


@bp.post("/<key>/rollback")
@process_owner_required
def rollback(key):
    version = request.form.get("version", type=int)
    if version is None:
        abort(400)
    try:
        row = versions.rollback(key, version, actor=current_user._get_current_object())
    except NotFound:
        abort(404)
    except InvalidData as exc:
        flash(_("Nicht bereitgestellt: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("processes.compare", key=key))
    flash(_("Version %(old)s ist als Version %(new)s wieder bereitgestellt. Laufende Fälle bleiben auf ihrer "
            "Version; stellen Sie sie bei Bedarf um.", old=version, new=row.version), "success")
    return redirect(url_for("processes.compare", key=key, old=version, new=row.version))
