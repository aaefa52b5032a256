"""Process owners' pages: the processes, decisions and forms with their versions and files, the editors
(bpmn-js modeler, dmn-js, form-js) on the newest version or a draft, drafts, upload, deploy.

Thin: `process_owner_required` asks engine.access, each view calls one function of engine.processes. Editors
talk JSON (docs/frontend.md, save contract); a deploy answers every problem with its element id.
"""
import json

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from engine import processes
from engine.scenarios import ScenarioError
from engine.errors import DeploymentRejected, InvalidFields
from engine.forms import FormDefinition, FormDefinitionError
from web.forms_html import render_form
from web.permissions import process_owner_required
from web.processes import bp


KIND_LABELS = {"bpmn": _l("Prozess"), "dmn": _l("Entscheidungstabelle"), "form": _l("Formular")}
EDITORS = {"bpmn": "modeler", "dmn": "dmn-editor", "form": "form-editor"}



def _kind(kind: str) -> str:
    if kind not in processes.KINDS:
        abort(404)
    return kind


def _inert(text: str, name: str, download: bool = False) -> Response:
    """A stored file as plain text in a sandbox: whatever it holds, it never runs as a page."""
    disposition = "attachment" if download else "inline"
    safe_name = "".join(c for c in name if c.isalnum() or c in "._-") or "file"
    return Response(text, mimetype="text/plain",
                    headers={"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
                             "Content-Disposition": f"{disposition}; filename={safe_name}"})


def _problems(exc: DeploymentRejected) -> list[dict]:
    return [{"element_id": p.element_id, "message": f"{p.file}: {p.message}" + (f" (line {p.line})" if p.line else ""),
             "file": p.file, "line": p.line} for p in exc.problems]


def _json_body() -> tuple[str, dict]:
    """(content, fields) of an editor's POST: {"xml": …} or {"schema": {…}}, and its text fields (name, note,
    draft_id; anything else than text counts as empty)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    fields = {name: body[name] if isinstance(body.get(name), str) else "" for name in ("name", "note", "draft_id")}
    if isinstance(body.get("xml"), str):
        return body["xml"], fields
    if isinstance(body.get("schema"), dict):
        return json.dumps(body["schema"], ensure_ascii=False, indent=2), fields
    abort(400)


def _refused(exc: DeploymentRejected, message: str):
    return jsonify({"ok": False, "message": message, "errors": _problems(exc)}), 422


# --------------------------------------------------------------------------- lists and files

@bp.route("/")
@process_owner_required
def index():
    rows = processes.overview()
    return render_template("processes/index.html", rows=rows, kind_labels=KIND_LABELS)


@bp.route("/<kind>/<key>")
@process_owner_required
def detail(kind, key):
    row = processes.process(_kind(kind), key)
    if row is None:
        abort(404)
    return render_template("processes/detail.html", row=row, kind_labels=KIND_LABELS)


@bp.route("/<kind>/<key>/v<int:version>/files/<name>")
@process_owner_required
def version_file(kind, key, version, name):
    stored = processes.version_file(_kind(kind), key, version, name)
    if stored is None:
        abort(404)
    return _inert(stored.content, stored.name, download=request.args.get("download") == "1")


@bp.route("/<kind>/<key>/source")
@process_owner_required
def source(kind, key):
    found = processes.newest_source(_kind(kind), key)
    if found is None:
        abort(404)
    name, content = found
    return _inert(content, name)


# --------------------------------------------------------------------------- editors

@bp.route("/<kind>/<key>/edit")
@process_owner_required
def edit(kind, key):
    """The editor on the newest deployed version; saving makes a named draft."""
    row = processes.process(_kind(kind), key)
    found = processes.newest_source(kind, key)
    if row is None or found is None:
        abort(404)
    file_name, _content = found
    return render_template("processes/editor.html", row=row, kind=kind, key=key, draft=None, file_name=file_name,
                           editor=EDITORS[kind], source_url=url_for("processes.source", kind=kind, key=key))


@bp.route("/drafts/<int:draft_id>")
@process_owner_required
def draft(draft_id):
    found = processes.own_draft(current_user, draft_id)
    if found is None:
        abort(404)
    row = processes.process(found.kind, found.key)
    return render_template("processes/editor.html", row=row, kind=found.kind, key=found.key, draft=found,
                           file_name=found.file_name, editor=EDITORS[found.kind],
                           source_url=url_for("processes.draft_source", draft_id=found.id))


@bp.route("/drafts/<int:draft_id>/source")
@process_owner_required
def draft_source(draft_id):
    found = processes.own_draft(current_user, draft_id)
    if found is None:
        abort(404)
    return _inert(found.content, found.file_name)


@bp.route("/<kind>/<key>/drafts", methods=["POST"])
@process_owner_required
def save_draft(kind, key):
    """Save the editor's content as the user's draft with the name given (the same name again overwrites)."""
    content, fields = _json_body()
    try:
        saved = processes.save_draft(current_user, _kind(kind), key, fields["name"], content)
    except InvalidFields as exc:
        return jsonify({"ok": False, "errors": [{"element_id": None, "message": str(m)} for m in exc.errors.values()]}), 422
    except DeploymentRejected as exc:
        return _refused(exc, _("Der Entwurf wurde nicht gespeichert."))
    return jsonify({"ok": True, "draft_id": saved.id, "draft_url": url_for("processes.draft", draft_id=saved.id),
                    "messages": [{"level": "success",
                                  "message": _("Entwurf „%(name)s“ gespeichert.", name=saved.name)}]})


@bp.route("/drafts/<int:draft_id>/delete", methods=["POST"])
@process_owner_required
def delete_draft(draft_id):
    found = processes.own_draft(current_user, draft_id)
    if found is None:
        abort(404)
    kind, key, name = found.kind, found.key, found.name
    processes.delete_draft(current_user, draft_id)
    flash(_("Entwurf „%(name)s“ gelöscht.", name=name), "success")
    if processes.process(kind, key) is None:
        return redirect(url_for("processes.index"))
    return redirect(url_for("processes.detail", kind=kind, key=key))


@bp.route("/<kind>/<key>/deploy", methods=["POST"])
@process_owner_required
def deploy(kind, key):
    """Deploy the editor's content as `lotse deploy <file>` would; the draft it came from (if any) goes."""
    content, fields = _json_body()
    draft_id = fields["draft_id"]
    try:
        result = processes.deploy_content(current_user, _kind(kind), key, content, note=fields["note"],
                                          draft_id=int(draft_id) if draft_id.isdigit() and len(draft_id) < 10 else None)
    except DeploymentRejected as exc:
        return _refused(exc, _("Nicht bereitgestellt: nichts wurde geändert. Bitte beheben Sie die Probleme."))
    created = [f"{row.key} v{row.version}" for row in result.created]
    created += [f"{row.key} v{row.version}" for row in [*result.forms, *result.decisions]]
    message = (_("Bereitgestellt: %(versions)s.", versions=", ".join(created)) if created
               else _("Keine Änderung: die neueste Version hat schon diesen Inhalt."))
    return jsonify({"ok": True, "messages": [{"level": "success", "message": message}],
                    "detail_url": url_for("processes.detail", kind=kind, key=key)})


@bp.route("/<kind>/<key>/scenarios", methods=["POST"])
@process_owner_required
def run_scenarios(kind, key):
    """The process tests of `key` against the editor's content (engine.scenarios): path, deadlines, end state."""
    content, fields = _json_body()
    draft_id = fields["draft_id"]
    try:
        results = processes.run_scenarios(current_user, _kind(kind), key, content,
                                          draft_id=int(draft_id) if draft_id.isdigit() and len(draft_id) < 10 else None)
    except DeploymentRejected as exc:
        return _refused(exc, _("Die Szenarien liefen nicht: der Stand im Editor ist so nicht verwendbar."))
    except ScenarioError as exc:
        return jsonify({"ok": False, "errors": [{"element_id": None, "message": str(exc)}]}), 422
    if not results:
        return jsonify({"ok": True, "messages": [{"level": "info", "message": _(
            "Für diesen Prozess sind keine Szenarien gespeichert (bpmn/scenarios/).")}]})
    messages, errors = [], []
    for result in results:
        deadlines = ", ".join(f"{d['element_id']} {d['due_at'][:10]}" for d in result.deadlines) or "—"
        summary = _("Szenario „%(name)s“: %(verdict)s. Weg: %(path)s. Fristen: %(deadlines)s. Ende: %(status)s%(open)s.",
                    name=result.name, verdict=_("bestanden") if result.passed else _("nicht bestanden"),
                    path=" → ".join(result.path) or "—", deadlines=deadlines, status=result.status or "—",
                    open=(", " + _("offen: %(tasks)s", tasks=", ".join(result.open_tasks))) if result.open_tasks else "")
        (messages if result.passed else errors).append({"level": "success" if result.passed else "error",
                                                        "message": summary})
        errors += [{"element_id": None, "message": f"{result.name}: {failure}"} for failure in result.failures]
    return jsonify({"ok": not errors, "messages": messages, "errors": errors,
                    "results": [{**r.as_dict(), "failures": [str(f) for f in r.failures]} for r in results]})


@bp.route("/upload", methods=["POST"])
@process_owner_required
def upload():
    """A .bpmn, .dmn or .form file made elsewhere (Camunda Modeler) becomes a draft, opened in its editor."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Bitte wählen Sie eine Datei aus."), "error")
        return redirect(url_for("processes.index"))
    kind = upload.filename.rsplit(".", 1)[-1].lower()
    data = upload.stream.read(processes.upload_limit() + 1)
    try:
        saved = processes.upload_draft(current_user, kind, upload.filename, data, request.form.get("name"))
    except (DeploymentRejected, InvalidFields) as exc:
        problems = exc.problems if isinstance(exc, DeploymentRejected) else []
        return render_template("processes/index.html", rows=processes.overview(), kind_labels=KIND_LABELS,
                               upload_problems=problems or [str(exc)]), 422
    flash(_("„%(file)s“ ist als Entwurf gespeichert.", file=saved.file_name), "success")
    return redirect(url_for("processes.draft", draft_id=saved.id))


@bp.route("/form/<key>/preview", methods=["POST"])
@process_owner_required
def form_preview(key):
    """The form as advisors will see it (web/forms_html.py), in German and in English."""
    body = request.get_json(silent=True)
    schema = body.get("schema") if isinstance(body, dict) else None
    try:
        definition = FormDefinition.from_json(schema)
    except (TypeError, ValueError, FormDefinitionError) as exc:
        return jsonify({"ok": False, "errors": [{"element_id": None, "message": str(exc)}]}), 422
    previews = {}
    for language in ("de", "en"):
        with force_locale(language):
            previews[language] = str(render_form(definition, prefix=f"preview-{language}-"))
    return jsonify({"ok": True, "html": previews})
