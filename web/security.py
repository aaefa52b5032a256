"""What every response and request goes through for safety: security headers, the transport (HSTS,
Secure cookies), bounded integers in URLs and query strings, and requests with a NUL character.

A page that mounts an editor bundle whose libraries insert <style> elements (the modeler, the form
and DMN editors) calls `style_nonce()` in its template: that response's style-src then also allows
<style> elements carrying a fresh per-request nonce (assets/style-nonce.js hands it to them). Every
other response keeps the strict policy.

Secure transport is on unless the app runs for development: TESTING or debug, or `lotse serve` on a
loopback address (what `make run` does) without LOTSE_SECURE_TRANSPORT set. LOTSE_SECURE_TRANSPORT=1
or 0 decides it outright.
"""
import secrets

from flask import Flask, Request, current_app, g, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from web.api import problems

# 'self' only: no inline script or style, no eval, nothing from another host. Images may be data:
# URLs (bpmn-js draws its markers and logo with them). No page may be framed (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",                      # frame-ancestors for browsers without CSP 2
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

# The largest integer a URL or query parameter may carry (PostgreSQL's `integer`); beyond it the
# value counts as not a number (a URL part: 404; `args.get(..., type=int)`: its default).
MAX_INT = 2**31 - 1


def _bounded_int(value) -> int:
    number = int(value)
    if not -MAX_INT <= number <= MAX_INT:
        raise ValueError(f"{value!r} is out of range")
    return number


class _Parameters(ImmutableMultiDict):
    """Query and form parameters whose `type=int` values stay within MAX_INT."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, _bounded_int if type is int else type)

    def getlist(self, key, type=None):
        return super().getlist(key, _bounded_int if type is int else type)


class LotseRequest(Request):
    parameter_storage_class = _Parameters


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` in a route: a number beyond MAX_INT does not match (404), rather than failing in SQL."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def set_secure_transport(app: Flask, secure: bool) -> None:
    app.config["SECURE_TRANSPORT"] = secure
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure


# Style attributes the editor libraries write into markup they parse: the properties panel's FEEL popup
# containers ("height: 100%", "flex: none; height: auto") and dmn-js's bpmn.io logo ("vertical-align:middle",
# "position: absolute; bottom: 15px; right: 15px; z-index: 100;").
# 'unsafe-hashes' with their hashes allows exactly these values as attributes on the editor pages, nothing else.
EDITOR_STYLE_ATTRIBUTES = " ".join(["'unsafe-hashes'", "'sha256-nR5hyLltSjfvi2rqC26RbcredWrJvTaPA1yqPX96jpY='",
                                    "'sha256-LIWyuNLBDBQuKJLr4mOx2cFEzHX9lM0BrbfcAAzCvSU='",
                                    "'sha256-CA/eh4+2R0J7cEQ14gBMtx834RIOjzMUqCM+evtrkp4='",
                                    "'sha256-r3vOsuepBDg6tz/cOusiNJ9Y4Lp9hGQTT7pzDks1Xxc='"])


def style_nonce() -> str:
    """This response's nonce for <style> elements (made on first use; see the module docstring)."""
    if "lotse_style_nonce" not in g:
        g.lotse_style_nonce = secrets.token_urlsafe(18)
    return g.lotse_style_nonce


def _headers(response):
    """The security headers a view has not set itself (and `Cache-Control: no-store` on pages). The
    response's header names are read once: a `setdefault` per header would scan them all each time."""
    present = {name.lower() for name in response.headers.keys()}
    nonce = g.pop("lotse_style_nonce", None)
    if nonce is not None and "content-security-policy" not in present:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", f"style-src 'self' 'nonce-{nonce}' {EDITOR_STYLE_ATTRIBUTES}")
        present.add("content-security-policy")
    defaults = [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
    if current_app.config["SECURE_TRANSPORT"] and "strict-transport-security" not in present:
        defaults.append(("Strict-Transport-Security", HSTS))
    if request.endpoint != "static" and "cache-control" not in present:
        defaults.append(("Cache-Control", "no-store"))      # pages show personal data: never kept
    response.headers.extend(defaults)
    return response


def _refuse_nul_characters():
    """A request with U+0000 in its path, a field or a field's name gets a 400 before any view runs.

    PostgreSQL cannot store the character in text, and a query that carries it fails there. No URL or
    form of Lotse has a use for it, and a browser does not send it from a form field.
    """
    if "\x00" in request.path:
        if problems.is_api_request():
            return problems.problem(400, "the path holds the character U+0000")
        return render_template("errors/400.html", message=_(
            "Die Adresse enthält ein Nullzeichen (U+0000). Bitte prüfen Sie den Link.")), 400
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                if problems.is_api_request():
                    return problems.problem(422, "a parameter holds the character U+0000",
                                            [{"location": "query", "field": name.replace("\x00", ""),
                                              "detail": "the character U+0000"}])
                message = _("Das Feld „%(field)s“ enthält ein Nullzeichen (U+0000), das Lotse nicht speichern kann. "
                            "Bitte entfernen Sie es und versuchen Sie es noch einmal.", field=name.replace("\x00", ""))
                return render_template("errors/400.html", message=message), 400
    return None


def init_app(app: Flask) -> None:
    """Call before the blueprints are registered (their routes use the int converter)."""
    app.request_class = LotseRequest
    app.url_map.converters["int"] = BoundedIntegerConverter
    secure = app.config.get("SECURE_TRANSPORT")
    set_secure_transport(app, not (app.testing or app.debug) if secure is None else secure)
    if app.config.get("PROXY_COUNT"):
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.jinja_env.globals["style_nonce"] = style_nonce
    app.before_request(_refuse_nul_characters)
    app.after_request(_headers)
