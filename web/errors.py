"""Error pages for every blueprint, in the app's layout and the user's language: no request ends in a
bare error. An unexpected fault is logged by Flask with its traceback and shown as the 500 page (in
tests Flask lets it propagate instead, unless PROPAGATE_EXCEPTIONS is off)."""
import logging
from functools import wraps

from flask import Flask, current_app, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.db import discard_changes
from engine.errors import Conflict, Forbidden, InvalidData, LotseError, NotFound
from web.api import problems

log = logging.getLogger(__name__)


def _titles():
    return {
        400: _("Anfrage nicht möglich"),
        405: _("Anfrage nicht möglich"),
        409: _("Inzwischen geändert"),
        413: _("Zu viel auf einmal gesendet"),
        422: _("Eingabe nicht möglich"),
        429: _("Zu viele Anfragen"),
    }


def _page(status: int, message: str | None = None):
    title = _titles().get(status, _("Anfrage nicht möglich") if status < 500 else _("Ein Fehler ist aufgetreten"))
    return render_template("errors/error.html", title=title, message=message, status=status), status


def forbidden(_error=None):
    return render_template("errors/403.html"), 403


def not_found(_error=None):
    return render_template("errors/404.html"), 404


def too_large(_error):
    # an upload view allows more than other requests (web.documents): name the limit of this request
    limit = (request.max_content_length if has_request_context() else None) or current_app.config["MAX_CONTENT_LENGTH"]
    megabytes = max(1, round(limit / 1024 / 1024))
    return _page(413, _("Die Anfrage ist größer als %(size)s MB und wurde nicht angenommen. Bitte senden Sie "
                        "weniger auf einmal, etwa kürzere Texte.", size=megabytes))


def csrf_error(_error):
    return _page(400, _("Das Formular war zu alt oder unvollständig (Sicherheitsprüfung). Bitte laden Sie die "
                        "Seite neu und versuchen Sie es noch einmal."))


def http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    return _page(error.code)


def conflict(error: Conflict):
    return _page(409, _("Jemand anderes hat den Fall inzwischen geändert: %(detail)s", detail=str(error)))


def invalid_data(error: InvalidData):
    return _page(422, _("Die Daten können so nicht gespeichert werden: %(detail)s", detail=str(error)))


def unexpected(_error):
    """An unhandled fault (Flask has logged it with its traceback)."""
    discard_changes()
    try:
        return render_template("errors/500.html"), 500
    except Exception:                                   # the layout needs the database, which may be the fault
        log.exception("the error page failed too")
        # without the context processors, which load the user (Flask-Login's current_user)
        return current_app.jinja_env.get_template("errors/500_plain.html").render(), 500


def _api_answers_too(handler):
    """The API's paths answer with a problem (application/problem+json), the pages with an error page."""
    @wraps(handler)
    def answer(error):
        if problems.is_api_request():
            discard_changes()
            return problems.for_error(getattr(error, "original_exception", None) or error)
        return handler(error)
    return answer


def init_app(app: Flask) -> None:
    for code_or_class, handler in ((403, forbidden), (404, not_found), (413, too_large), (CSRFError, csrf_error),
                                   (HTTPException, http_error), (NotFound, not_found), (Forbidden, forbidden),
                                   (Conflict, conflict), (InvalidData, invalid_data), (500, unexpected),
                                   (LotseError, _plain_engine_error)):
        app.register_error_handler(code_or_class, _api_answers_too(handler))


def _plain_engine_error(error):
    """Any other engine error (the pages catch theirs): a page that says what it was."""
    return _page(400, str(error))
