"""Login, logout, password change, the language switch, and the person's API credentials.

A login is a row in `user_session` (engine/user_sessions.py): the signed Flask cookie carries the
user's id and the session's random token, and every request checks the token in the database, so
logout, a new password and deactivation end a session even where a copy of the cookie lives on.
"""
import math

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required, login_user, logout_user
from engine import access, api_tokens, clock, passwords, user_sessions, users
from engine.errors import InvalidFields, NotFound
from engine.login_throttle import Throttled
from web.auth import bp
from web.permissions import admin_required

SESSION_TOKEN = "session_token"       # the key of the login session's token in Flask's cookie


def load_user(user_id):
    token = session.get(SESSION_TOKEN)
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    if not isinstance(token, str):
        return None
    return users.session_user(user_id, token)


def _client_address() -> str:
    return request.remote_addr or ""


def _throttled_page(template, error: Throttled, **context):
    flash(ngettext("Zu viele Anmeldeversuche mit diesem Benutzernamen oder von dieser Adresse. Bitte versuchen "
                   "Sie es in %(num)s Minute noch einmal.",
                   "Zu viele Anmeldeversuche mit diesem Benutzernamen oder von dieser Adresse. Bitte versuchen "
                   "Sie es in %(num)s Minuten noch einmal.", math.ceil(error.retry_after / 60)), "error")
    return render_template(template, **context), 429, {"Retry-After": str(error.retry_after)}


def _start_browser_session(user, token):
    language = user.language
    session.clear()                       # a fresh session after login (no fixation)
    login_user(user)
    session[SESSION_TOKEN] = token
    session["language"] = language


@bp.route("/login", methods=["GET", "POST"])
def login():
    username = request.form.get("username", "").strip()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(access.safe_next(request.args.get("next")) or url_for("advisor.inbox"))
    if request.method == "POST":
        try:
            result = users.log_in(username, request.form.get("password", ""), _client_address())
        except Throttled as error:
            return _throttled_page("auth/login.html", error, username=username)
        if result is None:
            flash(_("Benutzername oder Passwort ist falsch."), "error")
            return render_template("auth/login.html", username=username), 401
        _start_browser_session(*result)
        return redirect(access.safe_next(request.args.get("next")) or url_for("advisor.inbox"))
    return render_template("auth/login.html", username=username)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user_sessions.end(session.get(SESSION_TOKEN))
    logout_user()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """A new password ends every session of the user; this browser gets a new one."""
    if request.method == "GET":
        return render_template("auth/password.html")
    new = request.form.get("new_password", "")
    if new != request.form.get("new_password_repeat", ""):
        error = _("Die beiden neuen Passwörter stimmen nicht überein.")
    elif passwords.problem(new) is not None:
        error = passwords.problem(new)
    else:
        try:
            token = users.change_password(current_user._get_current_object(),
                                          request.form.get("current_password", ""), new, _client_address())
        except Throttled as error:
            return _throttled_page("auth/password.html", error)
        if token is not None:
            _start_browser_session(current_user._get_current_object(), token)
            flash(_("Ihr Passwort ist geändert. Alle anderen Anmeldungen sind beendet."), "success")
            return redirect(url_for("advisor.inbox"))
        error = _("Das bisherige Passwort ist falsch.")
    flash(error, "error")
    return render_template("auth/password.html"), 422


@bp.route("/language", methods=["POST"])
def set_language():
    choice = request.form.get("language")
    if choice in ("de", "en"):
        session["language"] = choice
        if current_user.is_authenticated:
            users.set_language(current_user._get_current_object(), choice)
    return redirect(access.safe_next(request.form.get("next")) or url_for("advisor.inbox"))


# --- API credentials: the person's own tokens; an admin's service accounts (engine/api_tokens.py) ------

def _api_page(status=200, secret=None, created=None, errors=None, values=None):
    user = current_user._get_current_object()
    return render_template("auth/api_tokens.html", tokens=api_tokens.personal_tokens(user),
                           services=api_tokens.service_accounts(user) if access.may_administer(user) else None,
                           secret=secret, created=created, errors=errors or {}, values=values or {},
                           now=clock.now(), max_days=api_tokens.MAX_DAYS), status


@bp.route("/account/api", methods=["GET"])
@login_required
def api_tokens_page():
    return _api_page()


@bp.route("/account/api/tokens", methods=["POST"])
@login_required
def api_token_create():
    values = {"name": request.form.get("name", ""), "days": request.form.get("days", "")}
    try:
        row, secret = api_tokens.create_personal(current_user._get_current_object(), values["name"], values["days"])
    except InvalidFields as error:
        return _api_page(422, errors=error.errors, values=values)
    return _api_page(201, secret=secret, created=row)


@bp.route("/account/api/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def api_token_revoke(token_id):
    try:
        row = api_tokens.revoke_personal(current_user._get_current_object(), token_id)
    except NotFound:
        abort(404)
    flash(_("Der Zugang „%(name)s“ ist widerrufen.", name=row.name), "success")
    return redirect(url_for("auth.api_tokens_page"))


@bp.route("/account/api/service-accounts", methods=["POST"])
@admin_required
def service_account_create():
    values = {"service_name": request.form.get("service_name", ""), "topics": request.form.get("topics", ""),
              "service_days": request.form.get("service_days", "")}
    try:
        row, secret = api_tokens.create_service_account(current_user._get_current_object(), values["service_name"],
                                                        values["topics"], values["service_days"] or None)
    except InvalidFields as error:
        errors = {{"name": "service_name", "days": "service_days"}.get(k, k): v for k, v in error.errors.items()}
        return _api_page(422, errors=errors, values=values)
    return _api_page(201, secret=secret, created=row)


@bp.route("/account/api/service-accounts/<int:token_id>/revoke", methods=["POST"])
@admin_required
def service_account_revoke(token_id):
    try:
        row = api_tokens.revoke_service_account(current_user._get_current_object(), token_id)
    except NotFound:
        abort(404)
    flash(_("Das Dienstkonto „%(name)s“ ist widerrufen.", name=row.name), "success")
    return redirect(url_for("auth.api_tokens_page"))
