"""Issue 14, item 8: a `next=` parameter never sends the browser to another site.

`next=/%09/evil.example` passed the task pages' check and ended in `Location: //evil.example` after a
completion (browsers drop the tab); the login page had a stricter check of its own, which let `/\\`
through. There is one check now (`engine.access.safe_next`), and every redirect that takes a `next`
uses it: task completion, claim and release, login (after logging in and when already logged in)
and the language switch.
"""
from urllib.parse import quote

import pytest
from sqlalchemy import select

from engine import cases
from engine.db import db
from engine.models import HumanTask

# As the application receives them (form fields and query values are decoded once on the way in).
PAYLOADS = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "/\t/evil.example", "/\r\n/evil.example", "/\n/evil.example", "\t//evil.example", " //evil.example",
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", "https://evil.example/", "http:evil.example",
    "https:/evil.example", "//evil.example/%2F..", "/%09/evil.example", "/%0d%0a/evil.example",
    "/%2F/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5C/evil.example",
    "/%252F%252Fevil.example", "/%2509/evil.example", "data:text/html,<script>alert(1)</script>",
]


def text(response):
    return response.get_data(as_text=True)


def assert_stays(response, expected):
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert location == expected, location


@pytest.fixture
def waiting(people, deploy_fixture):
    """One open advisor task (without a form) per payload, in Aachen."""
    deploy_fixture("timer_boundary.bpmn")
    rows = []
    for n, _payload in enumerate(PAYLOADS):
        case = cases.start_case("timer_boundary", center=people["center"], subject=f"Fall {n}", actor=people["anna"])
        rows.append(db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id)))
    db.session.commit()
    return rows


def test_completing_a_task_never_redirects_to_another_site(waiting, client_for):
    anna = client_for("anna")
    for task, payload in zip(waiting, PAYLOADS):
        anna.get(f"/tasks/{task.id}")
        assert_stays(anna.post(f"/tasks/{task.id}", {"next": payload}), "/")
        db.session.refresh(task)
        assert task.state == "completed", payload


def test_claim_and_release_never_redirect_to_another_site(waiting, client_for):
    anna = client_for("anna")
    task = waiting[0]
    anna.get("/")
    for payload in PAYLOADS:
        assert_stays(anna.post(f"/tasks/{task.id}/claim", {"next": payload}), "/")
        assert_stays(anna.post(f"/tasks/{task.id}/unclaim", {"next": payload}), "/")


def test_the_task_page_links_back_only_within_the_site(waiting, client_for):
    anna = client_for("anna")
    task = waiting[0]
    for payload in PAYLOADS:
        page = text(anna.get(f"/tasks/{task.id}?next={quote(payload, safe='')}"))
        assert "evil.example" not in page.replace(quote(payload, safe=""), ""), payload
        assert 'href="/"' in page


def test_login_never_redirects_to_another_site(people, client_for):
    for payload in PAYLOADS:
        client = client_for()
        client.get("/login")
        url = f"/login?next={quote(payload, safe='')}"
        assert_stays(client.post(url, {"username": "anna", "password": "pw-anna"}), "/")
        assert_stays(client.get(url), "/")                       # already logged in


def test_the_language_switch_never_redirects_to_another_site(people, client_for):
    client = client_for("anna")
    for payload in PAYLOADS:
        assert_stays(client.post("/language", {"language": "de", "next": payload}), "/")
