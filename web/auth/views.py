"""Login and logout. Sessions are Flask-Login cookies (HttpOnly, SameSite=Lax); forms carry CSRF tokens."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, with_expression

from engine import notifications, users
from engine.db import db
from engine.models import User
from web.auth import bp


# The session's user with organisation, groups and unread notifications in one statement (every page
# needs all four); built once, so SQLAlchemy keeps its cache key.
_LOAD_USER = (select(User).options(joinedload(User.organisation), joinedload(User.groups),
                                   with_expression(User.unread_notifications, notifications.unread_column(User)))
              .where(User.id == bindparam("user_id")))


def load_user(user_id):
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return db.session.execute(_LOAD_USER, {"user_id": user_id}).unique().scalar_one_or_none()


def _safe_next(target):
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    username = request.form.get("username", "").strip()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or url_for("advisor.inbox"))
    if request.method == "POST":
        user = users.authenticate(username, request.form.get("password", ""))
        if user is None:
            flash(_("Benutzername oder Passwort ist falsch."), "error")
            return render_template("auth/login.html", username=username), 401
        session.clear()                       # a fresh session after login (no fixation)
        login_user(user)
        session["language"] = user.language
        return redirect(_safe_next(request.args.get("next")) or url_for("advisor.inbox"))
    return render_template("auth/login.html", username=username)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    choice = request.form.get("language")
    if choice in ("de", "en"):
        session["language"] = choice
        if current_user.is_authenticated and current_user.language != choice:
            current_user.language = choice       # remembered for the next login too
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("advisor.inbox"))


# --- error pages, for every blueprint ------------------------------------------------------------

@bp.app_errorhandler(403)
def forbidden(_error):
    return render_template("errors/403.html"), 403


@bp.app_errorhandler(404)
def not_found(_error):
    return render_template("errors/404.html"), 404


@bp.before_app_request
def refuse_nul_characters():
    """A request with U+0000 in a field or its name gets a 400 that names the field, before any view runs.

    PostgreSQL cannot store the character in text, and a query that carries it fails there. No form of
    Lotse has a use for it, and a browser does not send it from a form field.
    """
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                message = _("Das Feld „%(field)s“ enthält ein Nullzeichen (U+0000), das Lotse nicht speichern kann. "
                            "Bitte entfernen Sie es und versuchen Sie es noch einmal.", field=name.replace("\x00", ""))
                return render_template("errors/400.html", message=message), 400
    return None


@bp.app_errorhandler(CSRFError)
def csrf_error(_error):
    message = _("Das Formular war zu alt oder unvollständig (Sicherheitsprüfung). Bitte laden Sie die Seite neu "
                "und versuchen Sie es noch einmal.")
    return render_template("errors/400.html", message=message), 400
