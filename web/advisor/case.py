"""The case view (header, tasks, deadlines, diagram, timeline, data, notes, incidents) and starting cases.

The case page renders `engine.pages.case_page`: the parts of the case the user's role may see
(`engine.access.case_view`; an employer user gets the subject, milestones and their own tasks), with
the diagram's markers and the current data from this one case's workflow (lists never load one). The
diagram's XML comes from a route that checks the user may see the case and its diagram, like every
other object here: a case of another organisation is a 404.
"""
from __future__ import annotations

import json
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from engine import access, cases, clock, conversations, pages
from engine.settings import setting
from engine.deploy import latest_definitions
from engine.errors import Conflict, InvalidData, LotseError, NotFound
from engine.forms import validate_submission
from web.advisor import bp
from web.advisor.helpers import display_value, labelled, translate_label
from web.forms_html import render_form, render_markdown
from web.documents import accepts_upload, receive_upload, send_document
from web.permissions import diagram_required, staff_required, workspace_required


def _case_or_404(reference):
    case = access.visible_case_by_reference(current_user, reference)
    if case is None:
        abort(404)
    return case


def _timeline(events, labels):
    """The case's events in plain words, with the fields each changed."""
    out = []
    for event in events:
        details = event.details or {}
        if event.kind == "task_claimed" and details.get("on_completion"):
            continue        # taken from the groups as it was completed: the completion's entry says it
        changes = []
        if event.kind in ("task_completed", "task_retried"):
            # fields no form labels are left to the technical view, except a retry's: those are the
            # corrections a supervisor typed under the variable's own name
            for key, change in sorted((details.get("changes") or {}).items()):
                info = labels.get(key) or ({"label": key} if event.kind == "task_retried" else None)
                if info:
                    changes.append({"label": translate_label(info["label"]),
                                    "old": display_value(change.get("old"), info) if change.get("old") is not None else None,
                                    "new": display_value(change.get("new"), info)})
        elif event.kind == "case_started":
            for key, value in sorted((details.get("data") or {}).items()):
                info = labels.get(key)
                if info:
                    changes.append({"label": translate_label(info["label"]), "old": None,
                                    "new": display_value(value, info)})
        note = ""
        if event.kind == "incident":
            note = details.get("error", "")
        elif event.kind in ("message_event", "message_received"):
            note = details.get("message", "")
        elif event.kind == "task_assigned":
            note = details.get("assignee_name") or details.get("assignee", "")
        elif event.kind == "case_cancelled":
            note = details.get("reason", "")
        elif event.kind == "responsible_changed":
            # events logged before the names were kept show usernames
            note = (f"{details.get('from_name') or details.get('from') or '—'} → "
                    f"{details.get('to_name') or details.get('to')}")
        elif event.kind == "script_output":
            note = details.get("output", "")
        elif event.kind == "document_uploaded":
            note = details.get("filename", "")
        out.append({"event": event, "changes": changes, "note": note})
    return out


def _referrals(data: dict, labels: dict) -> list[dict]:
    """The case's referrals (the variable `referrals` employer_referral keeps), one row each, in words: the
    labelled data shows only the last one's loop variables."""
    items = data.get("referrals")
    if not isinstance(items, list):
        return []
    rows = []
    for item in items:
        if isinstance(item, dict) and item.get("partner"):
            rows.append({"topic": display_value(item.get("topic"), labels.get("referral_topics")),
                         "partner": item.get("partner_label") or item["partner"],
                         "type": item.get("partner_type") or "—",
                         "on": display_value(item.get("referred_on")),
                         "contact": display_value(item.get("contact_made"), labels.get("referral_contact_made"))})
    return rows


def _translated(names: dict) -> dict:
    """The diagram's names in the UI's language, where the catalog has them (the diagram's are German)."""
    translated = {element_id: translate_label(name) for element_id, name in names.items()}
    return {element_id: name for element_id, name in translated.items() if name != names[element_id]}


@bp.route("/cases/<reference>")
@workspace_required
def case(reference):
    now = clock.now()
    page = pages.case_page(current_user, reference, now, str(get_locale() or "de"))
    if page is None:
        abort(404)
    return render_template(
        "advisor/case.html", case=page.case, definition=page.definition, view=page.view, tasks=page.tasks,
        done=page.done, markers=page.markers, diagram_names=_translated(page.names), data_rows=labelled(page.data, page.labels, page.collected),
        referrals=_referrals(page.data, page.labels),
        raw_data=json.dumps(page.data, ensure_ascii=False, indent=2, default=str, sort_keys=True) if page.data else "",
        timeline=_timeline(page.events, page.labels), comments=page.comments, incidents=page.incidents,
        milestones=page.milestones, deadlines=page.deadlines, now=now, last_activity=page.last_activity,
        stalled=page.stalled, documents=page.documents, threads=page.threads, worker_links=page.worker_links,
        max_mb=setting("DOCUMENT_MAX_BYTES") // (1024 * 1024),
        unreadable=page.unreadable, comment_error=None)


@bp.route("/cases/<reference>/diagram.bpmn")
@diagram_required
def case_diagram(reference):
    source = pages.case_diagram_source(_case_or_404(reference))
    if source is None:
        abort(404)
    # The viewer only reads the text: served as text/plain, in a sandbox, a stored file can never run as a page.
    return Response(source, mimetype="text/plain",
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
                             "Content-Disposition": "inline; filename=diagram.bpmn"})


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


@bp.route("/cases/<reference>/documents", methods=["POST"])
@staff_required
@accepts_upload
def case_upload(reference):
    case = _case_or_404(reference)
    back = url_for("advisor.case", reference=case.reference, _anchor="documents")
    share = ("employer",) if request.form.get("share_employer") else ()
    return receive_upload(case, "center", back, share_with=share)


@bp.route("/documents/<int:document_id>")
@staff_required
def case_document(document_id):
    doc = access.visible_document(current_user, document_id)
    if doc is None:
        abort(404)
    return send_document(doc)


@bp.route("/cases/<reference>/messages", methods=["POST"])
@staff_required
def case_message(reference):
    case = _case_or_404(reference)
    party = request.form.get("party", "")
    if party not in access.conversation_parties(current_user):
        abort(404)
    try:
        conversations.post(case, party, request.form.get("body", ""), author=current_user)
        flash(_("Antwort gesendet."), "success")
    except InvalidData:
        flash(_("Bitte schreiben Sie eine Nachricht (höchstens %(n)s Zeichen).", n=conversations.MAX_LENGTH), "error")
    return redirect(url_for("advisor.case", reference=case.reference, _anchor=f"messages-{party}"))


@bp.route("/cases/<reference>/retry", methods=["POST"])
@staff_required
def case_retry(reference):
    case = _case_or_404(reference)
    try:
        cases.retry_task(case.id, request.form.get("task_id") or None, actor=current_user)
    except (Conflict, NotFound) as exc:
        flash(_("Erneuter Versuch nicht möglich: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("advisor.case", reference=case.reference))
    incidents = pages.open_incidents(case)
    if incidents:
        flash(_("Der Schritt ist erneut fehlgeschlagen: %(reason)s", reason=incidents[0].message), "error")
    else:
        flash(_("Der Schritt wurde erneut ausgeführt; der Fall läuft weiter."), "success")
    return redirect(url_for("advisor.case", reference=case.reference))


# --------------------------------------------------------------------------- new case

def _startable():
    """The processes people may start (camunda:isStartableInTasklist, see engine.deploy)."""
    return [d for d in latest_definitions() if d.startable]


def _purpose(definition):
    """What a process is for: its documentation, translated like a task's instructions."""
    return render_markdown(_(definition.documentation)) if definition.documentation else None


@bp.route("/cases/new")
@staff_required
def case_new():
    return render_template("advisor/case_new.html",
                           offers=[(d, _purpose(d)) for d in _startable()])


@bp.route("/cases/new/<key>", methods=["GET", "POST"])
@staff_required
def case_start(key):
    definition = next((d for d in _startable() if d.key == key), None)
    if definition is None:
        abort(404)
    form_def = pages.load_form((definition.forms or {}).get(definition.start_form)) if definition.start_form else None
    choices = pages.start_choices(current_user)
    employers, team = choices.employers, choices.team
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
            except LotseError as exc:          # nothing was stored (engine.cases rolls back)
                errors["_form"] = str(exc)
            else:
                if case.has_incident:     # a step after the start failed: say so, not "created" in green
                    flash(_("Fall %(ref)s wurde angelegt, aber ein Schritt ist fehlgeschlagen. Details stehen "
                            "auf der Fallseite.", ref=case.reference), "error")
                else:
                    flash(_("Fall %(ref)s wurde angelegt.", ref=case.reference), "success")
                return redirect(url_for("advisor.case", reference=case.reference))
        status = 422
    form_html = None
    if form_def is not None:
        form_html = render_form(form_def, request.form if request.method == "POST" else None, form_errors,
                                submitted=request.method == "POST")
    return render_template("advisor/case_start.html", definition=definition, purpose=_purpose(definition),
                           form_html=form_html,
                           employers=employers, team=team, values=values, errors=errors), status
