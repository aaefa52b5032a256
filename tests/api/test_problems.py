"""Every way a request can be wrong gets a problem (application/problem+json) with the status that says
why and a detail naming what, never an HTML page or a 500: malformed JSON, another media type, JSON
Python reads but JSON does not have (NaN, 1e999), numbers past a column's range or Python's digit limit,
nesting past the parser's depth, U+0000, unknown fields, bad cursors, unknown paths and methods."""
import pytest

from engine.db import db
from engine.models import Case
from tests.api.test_resources import PROBLEM, open_task

CASE = '{"process": "ws_permit", "data": {"worker_name": "X", "country": "IN"%s}}'

BAD = [
    # (what, method, url, body, content type, status, where the problem points: field or a word of the detail)
    ("malformed JSON", "POST", "/api/v1/cases", '{"process": ', "application/json", 422, "not JSON"),
    ("not UTF-8", "POST", "/api/v1/cases", b'{"process": "\xff"}', "application/json", 422, "UTF-8"),
    ("text/plain", "POST", "/api/v1/cases", '{"process": "ws_permit"}', "text/plain", 415, "application/json"),
    ("no media type", "POST", "/api/v1/cases", '{"process": "ws_permit"}', None, 415, "application/json"),
    ("an array", "POST", "/api/v1/cases", "[1, 2]", "application/json", 422, "_schema"),
    ("NaN", "POST", "/api/v1/cases", CASE % ', "n": NaN', "application/json", 422, "NaN"),
    ("Infinity", "POST", "/api/v1/cases", CASE % ', "n": -Infinity', "application/json", 422, "Infinity"),
    ("1e999", "POST", "/api/v1/cases", CASE % ', "n": 1e999', "application/json", 422, "too large"),
    ("5,000 digits", "POST", "/api/v1/cases", CASE % (', "n": ' + "9" * 5000), "application/json", 422, "digits"),
    ("nested 50,000 deep", "POST", "/api/v1/cases", CASE % (', "n": ' + "[" * 50_000 + "]" * 50_000),
     "application/json", 422, "too deep"),
    ("U+0000 in data", "POST", "/api/v1/cases", CASE % ', "n": ["a\\u0000"]', "application/json", 422, "data.n.0"),
    ("an id past the column", "POST", "/api/v1/cases", '{"process": "ws_permit", "employer_id": 99999999999999999999}',
     "application/json", 422, "employer_id"),
    ("a person's id past the column", "POST", "/api/v1/cases",
     '{"process": "ws_permit", "responsible_id": 9223372036854775808}', "application/json", 422, "responsible_id"),
    ("an unknown field", "POST", "/api/v1/cases", '{"process": "ws_permit", "zzz": 1}', "application/json", 422, "zzz"),
    ("a cursor not given out", "GET", "/api/v1/cases?cursor=%25%25", None, None, 422, "cursor"),
    ("a cursor past the pages", "GET", "/api/v1/cases?cursor=cDk5OTk5OTk5OTk5OTk5OTk5", None, None, 422, "cursor"),
    ("a filter past the column", "GET", "/api/v1/cases?firm=99999999999999999999", None, None, 422, "firm"),
    ("a filter not a number", "GET", "/api/v1/cases?responsible=abc", None, None, 422, "responsible"),
    ("U+0000 in the query", "GET", "/api/v1/cases?q=a%00", None, None, 422, "q"),
    ("U+0000 in the path", "GET", "/api/v1/tasks/a%00b", None, None, 400, "U+0000"),
    ("an incident id past the column", "POST", "/api/v1/incidents/99999999999999999999/retry", "{}",
     "application/json", 404, "no such"),
    ("an unknown path", "GET", "/api/v1/nothing-here", None, None, 404, "no such"),
    ("an unknown method", "DELETE", "/api/v1/cases", None, None, 405, "not allowed"),
    ("a lock duration past Camunda's (Camunda's 400)", "POST", "/api/v1/external-task/fetchAndLock",
     '{"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "t", "lockDuration": 1e30}]}', "application/json",
     400, "topics.0.lockDuration"),
    ("NaN to a worker route (Camunda's 400)", "POST", "/api/v1/external-task/x/complete",
     '{"workerId": "w", "variables": {"n": {"value": NaN}}}', "application/json", 400, "NaN"),
]


@pytest.mark.parametrize("what, method, url, body, media_type, status, where", BAD, ids=[b[0] for b in BAD])
def test_a_bad_request_gets_a_problem_naming_what(ws, api, ctx, what, method, url, body, media_type, status, where):
    propagate, ctx.config["PROPAGATE_EXCEPTIONS"] = ctx.config.get("PROPAGATE_EXCEPTIONS"), False   # as in production
    try:
        client = api("anna")
        client._clean()
        kwargs = {"data": body} if body is not None else {}
        if media_type:
            kwargs["content_type"] = media_type
        response = client.http.open(url, method=method, headers=client._headers(None), **kwargs)
    finally:
        ctx.config["PROPAGATE_EXCEPTIONS"] = propagate
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["status"] == status and problem["title"]
    fields = {error["field"] for error in problem.get("errors", [])}
    assert where in fields or where in problem["detail"], problem


def test_nothing_is_stored_from_a_refused_body(ws, api):
    before, client = db.session.query(Case).count(), api("anna")
    for value in ("NaN", "1e999", '"a\\u0000"'):
        client._clean()
        response = client.http.post("/api/v1/cases", data=CASE % f', "n": {value}', content_type="application/json",
                                    headers=client._headers(None))
        assert response.status_code == 422
    db.session.expire_all()
    assert db.session.query(Case).count() == before


def test_a_body_is_optional_where_every_field_is(ws, api):
    """An action without required fields (claim, cancel) takes an empty body of any media type, as clients send it."""
    task = open_task(ws["cases"][0], "check_docs")
    client = api("anna")
    claimed = client.http.post(f"/api/v1/tasks/{task.id}/claim", headers=client._headers(None))
    assert claimed.status_code == 200, claimed.get_data(as_text=True)
    client._clean()
    cancelled = client.http.post(f"/api/v1/cases/{ws['cases'][1].reference}/cancel", headers=client._headers(None))
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
