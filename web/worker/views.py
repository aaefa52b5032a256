"""The worker's pages: the link's landing page, opening it (with its second factor), their journey
page, their tasks, the language choice.

A personal link's GET shows only a button (no lookup, nothing logged: mail scanners that fetch links
open nothing); the POST behind it is throttled, checks the link and its second factor, logs the
opening and starts a browser session bound to the link (`web.permissions.worker_required`).
A link that opens nothing shows why (`closed.html`) in the worker's language, and no data.
"""
from __future__ import annotations

import math

from flask import g, redirect, render_template, request, session, url_for

from engine import access, cases, worker_links, worker_page
from engine.documents import UploadRefused
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.forms import validate_submission
from engine.login_throttle import Throttled
from web.permissions import worker_required
from web.worker import bp
from web.worker.forms import render_worker_form, worker_title
from web.worker.language import SESSION_LANGUAGE, locale, note_missing, text

SESSION_LINK, SESSION_KEY = "worker_link", "worker_key"


def N_(msgid: str) -> str:
    """Marks a message id for extraction; `web.worker.language.text` translates it when shown."""
    return msgid
CLOSED_STATUS = {"unknown": 404, "revoked": 410, "expired": 410, "session": 401}


def _address() -> str:
    return request.remote_addr or ""


def closed(status: str):
    """The page of a link or session that opens nothing: why, in the worker's language, no data."""
    return render_template("worker/closed.html", status=status), CLOSED_STATUS[status]


@bp.route("/<token>", methods=["GET"])
def landing(token):
    return render_template("worker/landing.html", token=token)


@bp.route("/<token>", methods=["POST"])
def open_link(token):
    try:
        link = worker_links.open_link(token, _address(), birth_date=request.form.get("birth_date"),
                                      code=request.form.get("code"))
    except Throttled as error:
        return render_template("worker/throttled.html", minutes=math.ceil(error.retry_after / 60)), 429, \
            {"Retry-After": str(error.retry_after)}
    except worker_links.LinkClosed as error:
        if error.link is not None and SESSION_LANGUAGE not in session:
            g.closed_language = error.link.language
        return closed(error.status)
    except worker_links.SecondFactorNeeded as error:
        return render_template("worker/second_factor.html", token=token, kind=error.kind, wrong=error.wrong), \
            422 if error.wrong else 200
    language = session.get(SESSION_LANGUAGE) or request.args.get("lang") or link.language
    session.clear()                 # a fresh session: nothing of an earlier one (a staff login, another link)
    session[SESSION_LINK], session[SESSION_KEY] = link.id, worker_links.session_key(link)
    session[SESSION_LANGUAGE] = language if language in worker_links.WORKER_LANGUAGES else link.language
    return redirect(url_for("worker.home"))


@bp.route("/<token>/code", methods=["POST"])
def new_code(token):
    try:
        worker_links.resend_code(token, _address())
    except Throttled as error:
        return render_template("worker/throttled.html", minutes=math.ceil(error.retry_after / 60)), 429, \
            {"Retry-After": str(error.retry_after)}
    except worker_links.LinkClosed as error:
        return closed(error.status)
    return render_template("worker/second_factor.html", token=token, kind="mail_code", wrong=False, resent=True)


@bp.route("/", methods=["GET"])
@worker_required
def home():
    page = worker_page.worker_page(g.worker, locale())
    if any(not m.translated for m in page.milestones) or any(s.info and s.info.in_english for s in page.steps):
        note_missing()
    return render_template("worker/home.html", page=page)


@bp.route("/documents", methods=["POST"])
@worker_required
def upload():
    """An upload from the phone (a photo from the camera, or a file); the checklist item it answers."""
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise UploadRefused("empty", "no file")
        worker_page.upload(g.worker, filename=file.filename, data=file.read(), key=request.form.get("key") or None)
    except UploadRefused as refused:
        session["worker_flash"] = ("error", _UPLOAD_PROBLEMS.get(refused.code, _UPLOAD_PROBLEMS["type"]))
        return redirect(url_for("worker.home") + "#documents")
    except (NotFound, InvalidData):
        return render_template("worker/not_found.html"), 404
    session["worker_flash"] = ("success", N_("Danke! Ihr Dokument ist angekommen."))
    return redirect(url_for("worker.home") + "#documents")


# Why an upload was refused, in words for the worker (msgids; translated when shown).
_UPLOAD_PROBLEMS = {
    "empty": N_("Bitte wählen Sie eine Datei aus oder machen Sie ein Foto."),
    "too_large": N_("Die Datei ist zu groß. Bitte schicken Sie ein kleineres Foto oder eine kleinere Datei."),
    "type": N_("Diese Art von Datei können wir nicht annehmen. Bitte schicken Sie ein Foto (JPEG, PNG) oder ein PDF."),
    "extension": N_("Diese Art von Datei können wir nicht annehmen. Bitte schicken Sie ein Foto (JPEG, PNG) oder ein PDF."),
}


@bp.route("/messages", methods=["POST"])
@worker_required
def write():
    try:
        worker_page.write(g.worker, request.form.get("body", ""))
    except InvalidData:
        session["worker_flash"] = ("error", N_("Bitte schreiben Sie eine Nachricht (höchstens 5000 Zeichen)."))
        return redirect(url_for("worker.home") + "#messages")
    session["worker_flash"] = ("success", N_("Ihre Nachricht ist verschickt. Ihre Ansprechperson meldet sich."))
    return redirect(url_for("worker.home") + "#messages")


def _task_or_404(task_id):
    found = worker_page.worker_task(g.worker, task_id)
    if found is None:
        return None
    return found


def _task_page(found, *, values=None, errors=None, submitted=None, message=None, status=200):
    form_html = render_worker_form(found, values=values, errors=errors, submitted=submitted)
    return render_template("worker/task.html", found=found, form_html=form_html, message=message), status


@bp.route("/tasks/<task_id>", methods=["GET"])
@worker_required
def task(task_id):
    found = _task_or_404(task_id)
    if found is None:
        return render_template("worker/not_found.html"), 404
    return _task_page(found)


@bp.route("/tasks/<task_id>", methods=["POST"])
@worker_required
def task_submit(task_id):
    found = _task_or_404(task_id)
    if found is None:
        return render_template("worker/not_found.html"), 404
    if not access.can_work(g.worker, found.row):
        return _task_page(found, values=request.form, submitted=True, status=409,
                          message=text(N_("Dieser Schritt ist schon erledigt oder nicht mehr offen.")))
    data = {}
    if found.definition is not None:
        data, errors = validate_submission(found.definition, request.form, context=found.data)
        if errors:
            return _task_page(found, values=request.form, errors=errors, submitted=True, status=422)
    try:
        cases.complete_task(found.row.id, data, actor=g.worker)
    except NotFound:
        return render_template("worker/not_found.html"), 404
    except (Conflict, Forbidden, InvalidData):
        return _task_page(found, values=request.form, submitted=True, status=409,
                          message=text(N_("Dieser Schritt konnte nicht gespeichert werden. Bitte wenden Sie sich "
                                          "an Ihre Ansprechperson.")))
    session["worker_done"] = worker_title(found.row)
    return redirect(url_for("worker.home"))


@bp.route("/language", methods=["POST"])
def set_language():
    choice = request.form.get("language")
    if choice in worker_links.WORKER_LANGUAGES:
        session[SESSION_LANGUAGE] = choice
    target = access.safe_next(request.form.get("next"))
    return redirect(target or url_for("worker.home"))


@bp.route("/leave", methods=["POST"])
def leave():
    """Close the page on this device (the link itself keeps working)."""
    language = session.get(SESSION_LANGUAGE)
    session.clear()
    if language:
        session[SESSION_LANGUAGE] = language
    return render_template("worker/left.html")


@bp.context_processor
def _process_texts():
    from web.worker.forms import worker_documentation
    return {"title_of": worker_title, "documentation_of": worker_documentation, "milestone_label": _milestone_label}


def _milestone_label(milestone) -> str:
    return milestone.label
