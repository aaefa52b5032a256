"""The Flask app factory: configuration, extensions, one blueprint per audience."""
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask import Flask, g, has_request_context, request, session
from flask_login import current_user

from engine import mail
from engine.db import end_read_only, end_session, read_without_transaction
from web import config, errors, permissions, security, static_files, templating
from web.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def _select_locale():
    if not has_request_context():       # a command or a job: German, the source language
        return "de"
    if request.path.startswith("/api/"):   # the API reads no cookie: no session's or user's choice
        return request.accept_languages.best_match(["de", "en"]) or "en"
    if request.blueprint == "worker":   # the worker's own pages speak the worker's languages
        from web.worker.language import locale
        return locale()
    choice = session.get("language")
    if choice in ("de", "en"):
        return choice
    if current_user and current_user.is_authenticated and current_user.language in ("de", "en"):
        return current_user.language
    return request.accept_languages.best_match(["de", "en"]) or "de"


def _safe_requests_read_without_transaction():
    """GET and HEAD only read (every change is a POST with a CSRF token): their statements run without
    BEGIN and COMMIT (engine.db.read_without_transaction), and a write among them fails loudly."""
    if request.method in ("GET", "HEAD") and request.endpoint != "static":
        g.lotse_read_only = read_without_transaction()


def _local_base_url() -> str | None:
    """Development without LOTSE_BASE_URL: links in the mails a request queues point where the person reached
    the server, if that is this machine. A Host header naming anything else is never trusted for links.
    `engine.mail` asks it when it makes a mail (not every request parses its Host header for this)."""
    if not has_request_context():
        return None
    host = urlsplit(f"//{request.host}").hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    return request.host_url.rstrip("/") if local else None


def _end_read_only(_exception=None):
    if g.pop("lotse_read_only", False):
        end_read_only()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(config.from_environment(app.instance_path))
    app.config.update(overrides or {})
    from web import documents
    documents.init_app(app)             # first: an upload's larger limit must hold before any hook reads the form
    security.init_app(app)              # before the blueprints: their routes use its int converter
    static_files.init_app(app)          # static links' versions, the static view's caching
    templating.init_app(app)            # before any template compiles

    db.init_app(app)
    app.teardown_appcontext(end_session)    # runs before Flask-SQLAlchemy's own remove()
    app.before_request(_safe_requests_read_without_transaction)
    mail.local_base_url = _local_base_url
    app.teardown_request(_end_read_only)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(ROOT / "web" / "translations"))

    from engine import wiring
    from web.auth import bp as auth_bp
    from web.auth.views import load_user
    from web.advisor import bp as advisor_bp
    from web.notifications import bp as notifications_bp
    from web.admin import bp as admin_bp
    from web.processes import bp as processes_bp
    from web.employer import bp as employer_bp
    from web.worker import bp as worker_bp
    from web.supervisor import bp as supervisor_bp
    from web.library import bp as library_bp

    wiring.init_app(app)                # the engine's listeners and after-commit hand-offs
    errors.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Bitte melden Sie sich an, um diese Seite zu sehen.")
    app.register_blueprint(auth_bp)
    app.register_blueprint(advisor_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(processes_bp)
    app.register_blueprint(employer_bp)
    app.register_blueprint(worker_bp)
    app.register_blueprint(supervisor_bp)
    app.register_blueprint(library_bp)
    from web import api
    api.init_app(app)                   # /api/v1: the JSON API and its OpenAPI document

    from web import filters
    filters.register(app)
    permissions.init_app(app)
    return app
