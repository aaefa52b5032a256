"""The case view (header, tasks, deadlines, diagram, timeline, data, notes, incidents) and starting cases.

The case page asks `engine.snapshot` for the diagram's markers and the current data (it
loads this one case's workflow; lists never do). The diagram's XML comes from a route that checks the user may see
the case, like every other object here: a case of another organisation is a 404.
"""
from __future__ import annotations

import json
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from engine import access, cases, clock, health, inbox as queries, snapshot
from engine.db import db
from engine.deploy import latest_definitions
from engine.errors import Conflict, InvalidData, LotseError, NotFound
from engine.forms import validate_submission
from engine.models import (CaseComment, CaseEvent, CaseMilestone, HumanTask, Incident, Organisation,
                           ProcessDefinition, User)
from web.advisor import bp
from web.advisor.helpers import (field_labels, humanize_key, display_value, labelled, load_form, is_staff,
                                 staff_required, translate_label, workspace_required)
from web.forms_html import render_form

def _case_or_404(reference):
    case = access.visible_case_by_reference(current_user, reference)
    if case is None:
        abort(404)
    return case


def _timeline(case, labels):
    events = db.session.scalars(select(CaseEvent).options(joinedload(CaseEvent.actor))
                                .where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc()).limit(500)).all()
    out = []
    for event in events:
        details = event.details or {}
        changes = []
        if event.kind in ("task_completed", "task_retried"):
            for key, change in sorted((details.get("changes") or {}).items()):
                info = labels.get(key)
                changes.append({"label": translate_label(info["label"]) if info else humanize_key(key),
                                "old": display_value(change.get("old"), info) if change.get("old") is not None else None,
                                "new": display_value(change.get("new"), info)})
        elif event.kind == "case_started":
            for key, value in sorted((details.get("data") or {}).items()):
                info = labels.get(key)
                changes.append({"label": translate_label(info["label"]) if info else humanize_key(key),
                                "old": None, "new": display_value(value, info)})
        note = ""
        if event.kind == "incident":
            note = details.get("error", "")
        elif event.kind in ("message_event", "message_received"):
            note = details.get("message", "")
        elif event.kind == "task_assigned":
            note = details.get("assignee", "")
        elif event.kind == "case_cancelled":
            note = details.get("reason", "")
        elif event.kind == "script_output":
            note = details.get("output", "")
        out.append({"event": event, "changes": changes, "note": note})
    return out


@bp.route("/cases/<reference>")
@workspace_required
def case(reference):
    case = _case_or_404(reference)
    now = clock.now()
    definition = db.session.get(ProcessDefinition, case.definition_id)
    xml = definition.source_file.content if definition.source_file else ""
    markers, data = snapshot.diagram_and_data(case, xml)
    labels = field_labels((definition.forms or {}).values())
    tasks = db.session.scalars(select(HumanTask).options(joinedload(HumanTask.assignee))
                               .where(HumanTask.case_id == case.id, HumanTask.state == "open")
                               .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)).all()
    done = db.session.scalars(select(HumanTask).options(joinedload(HumanTask.completed_by))
                              .where(HumanTask.case_id == case.id, HumanTask.state != "open")
                              .order_by(HumanTask.completed_at.desc()).limit(50)).all()
    staff = is_staff(current_user)
    comments = db.session.scalars(select(CaseComment).options(joinedload(CaseComment.author))
                                  .where(CaseComment.case_id == case.id).order_by(CaseComment.id.desc())).all() \
        if staff else []
    incidents = db.session.scalars(select(Incident).where(Incident.case_id == case.id, Incident.resolved_at.is_(None))
                                   .order_by(Incident.id)).all()
    milestones = db.session.scalars(select(CaseMilestone).where(CaseMilestone.case_id == case.id)
                                    .order_by(CaseMilestone.reached_at)).all()
    last_event = db.session.scalar(select(CaseEvent.at).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.id.desc()).limit(1))
    return render_template(
        "advisor/case.html", case=case, definition=definition, tasks=tasks, done=done, markers=markers,
        data_rows=labelled(data, labels), raw_data=json.dumps(data, ensure_ascii=False, indent=2, default=str,
                                                              sort_keys=True),
        timeline=_timeline(case, labels), comments=comments, incidents=incidents, milestones=milestones,
        stalled=health.is_stalled(case.id),
        deadlines=queries.deadlines(current_user, now, weeks=0, case_id=case.id), now=now,
        last_activity=max(filter(None, [case.updated_at, last_event])), staff=staff,
        comment_error=None)


@bp.route("/cases/<reference>/diagram.bpmn")
@workspace_required
def case_diagram(reference):
    case = _case_or_404(reference)
    definition = db.session.get(ProcessDefinition, case.definition_id)
    if definition is None or definition.source_file is None:
        abort(404)
    return Response(definition.source_file.content, mimetype="application/xml",
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


@bp.route("/cases/<reference>/comments", methods=["POST"])
@staff_required
def case_comment(reference):
    case = _case_or_404(reference)
    try:
        cases.add_comment(case.id, request.form.get("body", ""), current_user)
        flash(_("Notiz gespeichert."), "success")
    except InvalidData:
        flash(_("Bitte schreiben Sie einen Text für die Notiz."), "error")
    return redirect(url_for("advisor.case", reference=case.reference, _anchor="notes"))


@bp.route("/cases/<reference>/retry", methods=["POST"])
@staff_required
def case_retry(reference):
    case = _case_or_404(reference)
    try:
        cases.retry_task(case.id, request.form.get("task_id") or None, actor=current_user)
    except (Conflict, NotFound) as exc:
        flash(_("Erneuter Versuch nicht möglich: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("advisor.case", reference=case.reference))
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case.id, Incident.resolved_at.is_(None)))
    if incident is not None:
        flash(_("Der Schritt ist erneut fehlgeschlagen: %(reason)s", reason=incident.message), "error")
    else:
        flash(_("Der Schritt wurde erneut ausgeführt; der Fall läuft weiter."), "success")
    return redirect(url_for("advisor.case", reference=case.reference))


# --------------------------------------------------------------------------- new case

def _startable():
    return [d for d in latest_definitions() if d.startable]


@bp.route("/cases/new")
@staff_required
def case_new():
    return render_template("advisor/case_new.html", definitions=_startable())


def _employers(user):
    return db.session.scalars(select(Organisation).where(Organisation.kind == "employer",
                                                         Organisation.center_id == user.organisation_id)
                              .order_by(Organisation.name)).all()


@bp.route("/cases/new/<key>", methods=["GET", "POST"])
@staff_required
def case_start(key):
    definition = next((d for d in _startable() if d.key == key), None)
    if definition is None:
        abort(404)
    form_def = load_form((definition.forms or {}).get(definition.start_form)) if definition.start_form else None
    employers = _employers(current_user)
    team = db.session.scalars(select(User).where(User.organisation_id == current_user.organisation_id,
                                                 User.active.is_(True)).order_by(User.display_name)).all()
    values = {"subject": "", "employer": "", "responsible": str(current_user.id)}
    errors, form_errors, status = {}, None, 200
    if request.method == "POST":
        values = {"subject": request.form.get("_subject", "").strip()[:200],
                  "employer": request.form.get("_employer", ""), "responsible": request.form.get("_responsible", "")}
        if not values["subject"]:
            errors["subject"] = _("Bitte geben Sie an, um wen es geht (Person oder Firma).")
        employer = next((e for e in employers if str(e.id) == values["employer"]), None)
        if values["employer"] and employer is None:
            errors["employer"] = _("Bitte wählen Sie einen Arbeitgeber aus der Liste.")
        responsible = next((u for u in team if str(u.id) == values["responsible"]), None)
        data = {}
        if form_def is not None:
            data, form_errors = validate_submission(form_def, request.form)
        if not errors and not form_errors:
            try:
                case = cases.start_case(definition, center=current_user.organisation, employer=employer,
                                        subject=values["subject"], data=data, actor=current_user,
                                        responsible=responsible)
            except LotseError as exc:
                db.session.rollback()
                errors["_form"] = str(exc)
            else:
                flash(_("Fall %(ref)s wurde angelegt.", ref=case.reference), "success")
                return redirect(url_for("advisor.case", reference=case.reference))
        status = 422
    form_html = None
    if form_def is not None:
        form_html = render_form(form_def, request.form if request.method == "POST" else None, form_errors,
                                submitted=request.method == "POST")
    return render_template("advisor/case_start.html", definition=definition, form_html=form_html,
                           employers=employers, team=team, values=values, errors=errors), status
