"""The JSON API under /api/v1 (flask-smorest: marshmallow schemas, OpenAPI 3.1 at /api/v1/openapi.json,
Swagger UI at /api/v1/docs).

Every request carries a token (`Authorization: Bearer …`, engine/api_tokens.py); cookies are not read,
so CSRF does not apply. Views are thin: they load the body through a schema, call an engine function
and dump its result; what the caller may see and do is decided by engine.access, as for the pages.
"""
import http

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response

from engine import api_tokens
from web.api import problems
from web.api.json_body import JsonBodyParser
from web.api.schemas import ProblemSchema

VERSION = "v1"
PREFIX = "/api/v1"


class LotseApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """None: web.errors answers every error, as a problem for API paths (web.api.problems)."""

    def _register_responses(self):
        """Error responses are `application/problem+json` (flask-smorest documents them as application/json)."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


SPEC = {
    "info": {"description": "Lotse's JSON API: process definitions, cases, tasks, messages, incidents, and "
                            "external tasks as Camunda 7's REST API defines them. Send a personal token or a "
                            "service account's token as `Authorization: Bearer <token>`. Errors are RFC 9457 "
                            "problem details."},
    "security": [{"bearer": []}],
}


def authenticate():
    """Every API request: the bearer token's actor in `g.api_actor`, or 401; over its rate, 429."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    found = api_tokens.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return problems.problem(401, "send a valid API token as `Authorization: Bearer <token>`",
                                headers={"WWW-Authenticate": 'Bearer realm="lotse"'})
    g.api_actor, token_key = found
    api_tokens.throttle(token_key)
    return None


class CookieFreeApi(SecureCookieSessionInterface):
    """The app's sessions, but none on the API's paths: a token authenticates them, so the session cookie is
    neither read nor written there (nor is a login looked up from it)."""

    def open_session(self, app, request):
        if request.path.startswith(problems.PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()        # strict JSON bodies, 415 for other media types

    def arguments(self, schema, **kwargs):
        """As flask-smorest's, with one schema object for every request (webargs builds one per request
        from a class; loading keeps no state in it)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


def blueprint(name: str, description: str) -> Blueprint:
    """A blueprint of the API: authenticated by token, without CSRF (no cookie is read)."""
    bp = ApiBlueprint(name, __name__, url_prefix=PREFIX, description=description)
    bp.before_request(authenticate)
    return bp


def init_app(app: Flask) -> None:
    from web.extensions import csrf
    from web.api import cases, definitions, docs, external_tasks, incidents, messages, tasks
    app.config.setdefault("API_TITLE", "Lotse")
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.session_interface = CookieFreeApi()
    api = LotseApi(app, spec_kwargs=SPEC)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                   "description": "a personal API token or a service account's"})
    for module in (definitions, cases, tasks, messages, incidents, external_tasks):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(docs.bp)
