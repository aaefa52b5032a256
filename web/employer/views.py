"""The employer portal's pages. Every page is for employer users only (`portal_required`: a 403 page for
other roles); every object goes through `engine.access` (another firm's case, task, document or
conversation is a 404). What a page reads comes from `engine.portal`; changes go through
`engine.cases`, `engine.documents` and `engine.conversations`. Tasks (with drafts) use the workspace's form machinery
(`web.task_form`): the same validation, keyboard and no-JavaScript behaviour.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from engine import access, cases, clock, conversations, pages, portal
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.forms import submission_values
from engine.settings import setting
from web.documents import accepts_upload, receive_upload, send_document
from web.employer import bp
from web.dates import day_and_month
from web.permissions import portal_required
from web.task_form import task_form, validate

PARTY_LABELS = {"employer": _l("Ihr Betrieb"), "worker": _l("die Fachkraft"), "center": _l("das Welcome Center"),
                "authority": _l("eine Behörde")}


def _language() -> str:
    return str(get_locale() or "de")


@bp.app_template_filter("day")
def day(value) -> str:
    """A due date as a day, short and in the reader's language: '12. März', 'Mar 12'."""
    return day_and_month(value, _language())


@bp.app_context_processor
def portal_globals():
    return {"party_label": lambda p: PARTY_LABELS.get(p, p)}


@bp.route("/")
@portal_required
def home():
    return render_template("employer/home.html", page=portal.home(current_user, _language()), now=clock.now())


@bp.route("/cases/<reference>")
@portal_required
def case(reference):
    page = portal.case_page(current_user, reference, _language())
    if page is None:
        abort(404)
    return render_template("employer/case.html", page=page, now=clock.now(),
                           max_mb=setting("DOCUMENT_MAX_BYTES") // (1024 * 1024))


def _case_or_404(reference):
    found = portal.visible_case(current_user, reference)
    if found is None:
        abort(404)
    return found


@bp.route("/cases/<reference>/documents", methods=["POST"])
@portal_required
@accepts_upload
def upload(reference):
    found = _case_or_404(reference)
    back = url_for("employer.case", reference=found.reference, _anchor="documents")
    if not access.may_upload(current_user, found):
        flash(_("Dieser Fall ist beendet; Unterlagen können nicht mehr hochgeladen werden."), "error")
        return redirect(back)
    return receive_upload(found, "employer", back)


@bp.route("/documents/<int:document_id>")
@portal_required
def download(document_id):
    doc = portal.visible_document(current_user, document_id)
    if doc is None:
        abort(404)
    return send_document(doc)


@bp.route("/cases/<reference>/messages", methods=["POST"])
@portal_required
def message(reference):
    found = _case_or_404(reference)
    try:
        conversations.post(found, "employer", request.form.get("body", ""), author=current_user)
    except InvalidData:
        flash(_("Bitte schreiben Sie eine Nachricht (höchstens %(n)s Zeichen).", n=conversations.MAX_LENGTH), "error")
        return redirect(url_for("employer.case", reference=found.reference, _anchor="messages"))
    flash(_("Ihre Nachricht ist an das Welcome Center gegangen."), "success")
    return redirect(url_for("employer.case", reference=found.reference, _anchor="messages"))


# --------------------------------------------------------------------------- the firm's tasks

def _visible_task(task_id):
    found = pages.visible_task_and_case(current_user, task_id)
    if found is None:
        abort(404)
    return found


def _task_page(row, found, *, values=None, errors=None, submitted=None, message=None, status=200):
    form = task_form(current_user, row, found, values=values, errors=errors, submitted=submitted)
    return render_template("employer/task.html", task=row, case=found, form=form, message=message, now=clock.now(),
                           has_errors=bool(errors)), status


@bp.route("/tasks/<task_id>", methods=["GET"])
@portal_required
def task(task_id):
    row, found = _visible_task(task_id)
    return _task_page(row, found)


@bp.route("/tasks/<task_id>", methods=["POST"])
@portal_required
def task_submit(task_id):
    row, found = _visible_task(task_id)
    if not row.is_open or not access.can_work(current_user, row):
        return _task_page(row, found, values=request.form, submitted=True, status=409,
                          message=_("Diese Aufgabe ist schon erledigt oder wird von jemand anderem bearbeitet."))
    if request.form.get("_action") == "draft":
        definition = pages.load_form(row.form_version_id)
        if definition is None:
            return redirect(url_for("employer.task", task_id=row.id))
        try:
            cases.save_draft(row.id, submission_values(definition, request.form), current_user)
        except (Conflict, Forbidden, InvalidData) as exc:        # refused before anything was changed
            return _task_page(row, found, values=request.form, submitted=True, status=409, message=str(exc))
        flash(_("Entwurf gespeichert. Sie können später weitermachen."), "success")
        return redirect(url_for("employer.task", task_id=row.id))
    data, errors = validate(row, found, request.form)
    if errors:
        return _task_page(row, found, values=request.form, errors=errors, submitted=True, status=422)
    try:
        cases.complete_task(row.id, data, actor=current_user)
    except NotFound:
        abort(404)
    except (Conflict, Forbidden) as exc:
        return _task_page(row, found, values=request.form, submitted=True, status=409, message=str(exc))
    except InvalidData:           # the step failed: its text is the center's (an incident), not the firm's
        return _task_page(row, found, values=request.form, submitted=True, status=422,
                          message=_("Die Aufgabe konnte nicht abgeschlossen werden. Bitte versuchen Sie es später "
                                    "noch einmal oder schreiben Sie dem Welcome Center."))
    flash(_("„%(title)s“ ist erledigt. Vielen Dank!", title=_(row.title)), "success")
    return redirect(url_for("employer.case", reference=found.reference))
