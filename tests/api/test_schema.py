"""Schemathesis against the OpenAPI document: generated requests to every operation (a few examples
each, to bound the time) find no server error and no response that contradicts the document. Run as a
supervisor, an employer user and a service account, on data in two centers, so the generated calls meet
real objects and refusals."""
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                         response_schema_conformance, status_code_conformance)

from engine import api_tokens
from engine.db import db

EXAMPLES = {"sara": 6, "jansen": 3, "service": 3}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def api_routes(app) -> set:
    """(method, OpenAPI path) of every route the app serves under /api/v1 but the document and its page."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint.split(".")[0] not in ("api-docs", "api_docs_page"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


@pytest.mark.parametrize("role", list(EXAMPLES))
def test_generated_requests_find_no_server_error_and_no_contradiction(ws, ctx, people, role):
    ctx.config["API_REQUESTS_PER_MINUTE"] = 100_000
    ctx.config["PROPAGATE_EXCEPTIONS"] = True          # a fault fails the test, with its traceback
    if role == "service":
        from engine import users
        admin = users.ensure_user("ada", "Ada Admin", organisation=people["center"], groups=["admin"])
        db.session.commit()
        token = api_tokens.create_service_account(admin, "schemathesis", "charge")[1]
    else:
        token = api_tokens.create_personal(people[role], "schemathesis", 1)[1]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", ctx)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {(o.method.upper(), o.path) for o in operations} == api_routes(ctx)       # every route is documented
    failures, statuses, called = [], [], set()
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES[role], deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            from flask import g
            for name in list(vars(g)):
                g.pop(name, None)
            response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            statuses.append(response.status_code)
            called.add((operation.method.upper(), operation.path))
            db.session.rollback()
        try:
            run()
        except Exception as error:            # collect all operations' findings, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:1500]}")
    ctx.config["API_REQUESTS_PER_MINUTE"] = 1200
    assert not failures, "\n\n".join(failures)
    assert called == {(o.method.upper(), o.path) for o in operations}                # and each was called
    assert len(statuses) >= 2 * len(operations) and {404, 422} <= set(statuses), sorted(set(statuses))
    assert 200 in statuses or role == "service", sorted(set(statuses))
