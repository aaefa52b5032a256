"""The JSON API under /api/v1 (flask-smorest: marshmallow schemas, OpenAPI 3.1 at /api/v1/openapi.json,
Swagger UI at /api/v1/docs).

Every request carries a token (`Authorization: Bearer …`, engine/api_tokens.py); cookies are not read,
so CSRF does not apply. Views are thin: they load the body through a schema, call an engine function
and dump its result; what the caller may see and do is decided by engine.access, as for the pages.
"""
import http
import threading

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_smorest import Api, Blueprint
from flask_smorest.spec import openapi_cli, prepare_response

from engine import api_tokens
from web.api import problems
from web.api.json_body import JsonBodyParser
from web.api.schemas import ProblemSchema

VERSION = "v1"
PREFIX = "/api/v1"


class LotseApi(Api):
    """flask-smorest's Api, with the OpenAPI document built when it is first read (openapi.json, `flask openapi`),
    not with every app: most apps (a CLI command, a worker, a test's) never serve it, and building it converts
    every schema of every view."""
    ERROR_SCHEMA = ProblemSchema
    SECURITY_SCHEME = {"type": "http", "scheme": "bearer", "description": "a personal API token or a service account's"}

    def __init__(self, *args, **kwargs):
        self._spec, self._spec_kwargs_given, self._documented, self._spec_built = None, None, [], False
        self._spec_building, self._spec_lock = False, threading.RLock()
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        if not self._spec_built and self._spec_kwargs_given is not None:
            with self._spec_lock:       # another thread waits for the whole document; this one's own reads pass
                if not self._spec_built and not self._spec_building:
                    self._spec_building = True
                    try:
                        self._build_spec()
                    finally:
                        self._spec_building = False
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value

    def _init_spec(self, **kwargs):
        self._spec_kwargs_given = kwargs
        self._app.cli.add_command(openapi_cli)      # as flask-smorest's _init_spec does

    def _build_spec(self):
        super()._init_spec(**self._spec_kwargs_given)
        self._spec.components.security_scheme("bearer", self.SECURITY_SCHEME)
        for blp, name, parameters in self._documented:
            blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
            self._spec.tag({"name": name, "description": blp.description})
        self._spec_built = True

    def register_blueprint(self, blp, *, parameters=None, **options):
        """As flask-smorest's, with the blueprint's views documented when the document is built."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._documented.append((blp, name, parameters))

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
    for module in (definitions, cases, tasks, messages, incidents, external_tasks):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(docs.bp)
