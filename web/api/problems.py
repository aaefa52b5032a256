"""RFC 9457 problem details: every error of the API, as `application/problem+json`.

{"type": "about:blank", "title": "Unprocessable Content", "status": 422, "detail": "…",
 "errors": [{"location": "json", "field": "data.name", "detail": "…"}]}

`errors` names each wrong field of a request: where it was (json, query, path, header) and what is
wrong. No request of the API ends in an HTML page or a 500: an unexpected fault is logged and answered
as a problem too (with no detail that could leak internals).

The external task routes answer as Camunda 7's REST API does, so that Camunda's clients tell the cases
apart (its Java client: BadRequestException, NotFoundException): 400 for an invalid request and for a
task locked by another worker or no longer locked, 404 for a task that does not exist or has ended, and
the problem carries Camunda's `message` too.
"""
import logging
from http import HTTPStatus

from flask import current_app, json, request
from werkzeug.exceptions import HTTPException

from engine.api_tokens import Throttled
from engine.errors import Conflict, DeploymentRejected, Forbidden, InvalidData, InvalidFields, LotseError, NotFound
from engine.external_tasks import TaskEnded

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"
CAMUNDA_PREFIX = "/api/v1/external-task/"
CAMUNDA_STATUS = {409: 400, 422: 400}        # Camunda's InvalidRequestException: another's lock, bad input


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def is_camunda_request() -> bool:
    return request.path.startswith(CAMUNDA_PREFIX) or request.path == CAMUNDA_PREFIX.rstrip("/")


def problem(status: int, detail: str | None = None, errors: list | None = None, headers: dict | None = None, **extra):
    camunda = is_camunda_request()
    if camunda:
        status = CAMUNDA_STATUS.get(status, status)
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    if camunda:
        body["message"] = detail or body["title"]
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_errors(messages, location=None, path=()) -> list:
    """webargs' {"json": {"field": ["message"]}} (nested) as a flat list."""
    out = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if location is None:
                out += _field_errors(value, str(key), path)
            else:
                out += _field_errors(value, location, (*path, str(key)))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, (str, bytes)) or not isinstance(m, (dict, list)) for m in messages):
            out += [{"location": location or "json", "field": ".".join(path), "detail": str(m)} for m in messages]
        else:
            for m in messages:
                out += _field_errors(m, location, path)
    else:
        out.append({"location": location or "json", "field": ".".join(path), "detail": str(messages)})
    return out


def _form_errors(errors: dict) -> list:
    """engine.forms' {key: [FormMessage]} (the task's form) as fields of the body's `data`."""
    out = []
    for key, messages in errors.items():
        for message in messages if isinstance(messages, (list, tuple)) else [messages]:
            out.append({"location": "json", "field": f"data.{key}" if key != "_form" else "data",
                        "detail": str(message)})
    return out


def for_error(error: BaseException):
    """The problem answering `error` (an HTTPException, an engine error, or anything else)."""
    if isinstance(error, HTTPException):
        status = error.code or 500
        if status == 422 or (status == 400 and getattr(error, "data", None)):
            messages = (getattr(error, "data", None) or {}).get("messages", {})
            return problem(422, "the request does not match the schema", _field_errors(messages))
        detail = {401: "send a valid API token as `Authorization: Bearer <token>`",
                  404: "no such resource, or not one this token may see",
                  405: "this method is not allowed on this resource",
                  413: f"the request is larger than {current_app.config.get('MAX_CONTENT_LENGTH')} bytes"}.get(status)
        headers = {"WWW-Authenticate": 'Bearer realm="lotse"'} if status == 401 else None
        if status == 405 and getattr(error, "valid_methods", None):
            headers = {"Allow": ", ".join(error.valid_methods)}
        return problem(status, detail or getattr(error, "description", None), headers=headers)
    if isinstance(error, Throttled):
        return problem(429, str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, NotFound):
        return problem(404, str(error))
    if isinstance(error, Forbidden):
        return problem(403, str(error))
    if isinstance(error, TaskEnded) and is_camunda_request():
        return problem(404, str(error))
    if isinstance(error, Conflict):
        return problem(409, str(error))
    if isinstance(error, InvalidFields):
        return problem(422, "some fields are not valid", _form_errors(error.errors))
    if isinstance(error, DeploymentRejected):
        return problem(422, "deployment rejected; nothing was stored",
                       [{"location": "json", "field": "files", "detail": str(p), **p.as_dict()} for p in error.problems])
    if isinstance(error, InvalidData):
        return problem(422, str(error), [{"location": "json", "field": error.field, "detail": str(error)}]
                       if error.field else None)
    if isinstance(error, LotseError):
        return problem(400, str(error))
    log.exception("unexpected fault in an API request", exc_info=error)
    return problem(500, "an unexpected fault; it has been logged")
