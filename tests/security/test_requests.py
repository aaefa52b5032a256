"""Requests an attacker can shape: a NUL in the path, numbers too large for the database, an oversize
body, a stale CSRF token, a draft too large or racing a completion, remote images in instructions, and
faults inside a view. Each ends in a page in the app's layout and language, never in a bare 500."""
import time

import itsdangerous
import pytest
from flask import Flask, current_app
from sqlalchemy import select

from engine import access, cases, users
from engine.db import db
from engine.errors import Conflict, InvalidData
from engine.models import HumanTask
from tests.conftest import make_app
from tests.web.conftest import Client
from web.forms_html import render_markdown


def _open_task(case):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))


def _in_layout(response):
    html = response.get_data(as_text=True)
    return 'class="site-header"' in html and 'class="error-page"' in html


@pytest.mark.parametrize("url", ["/cases/%00", "/tasks/%00", "/cases/WC%00/diagram.bpmn", "/cases/new/%00"])
def test_a_nul_character_in_the_path_is_a_400_page(ws, client_for, url):
    response = client_for("anna").get(url)
    assert response.status_code == 400 and _in_layout(response)
    assert "Nullzeichen" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/notifications/outbox?page=99999999999999999999",
                                 "/notifications/outbox?page=-99999999999999999999",
                                 "/notifications/outbox/99999999999999999999",
                                 "/notifications/99999999999999999999/read",
                                 "/?page=99999999999999999999", "/deadlines?weeks=99999999999999999999"])
def test_numbers_too_large_for_the_database_are_no_500(ws, client_for, url):
    client = client_for("sara")
    response = client.post(url, {}) if url.endswith("/read") else client.get(url)
    assert response.status_code in (200, 302, 404), response.status_code
    if response.status_code == 404:
        assert _in_layout(response)


def test_an_oversize_body_is_a_413_page(ctx, client_for, people):
    client = client_for("anna")
    response = client.post("/login", {"username": "anna", "password": "x" * (ctx.config["MAX_CONTENT_LENGTH"] + 1)})
    assert response.status_code == 413 and _in_layout(response)
    assert "größer als 2 MB" in response.get_data(as_text=True)


def test_a_csrf_token_expires(ctx, client_for, people, monkeypatch):
    client = client_for("anna")
    client.get("/")
    assert ctx.config["WTF_CSRF_TIME_LIMIT"]
    later = int(time.time()) + ctx.config["WTF_CSRF_TIME_LIMIT"] + 60
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post("/logout")
    assert response.status_code == 400 and _in_layout(response)
    assert "Sicherheitsprüfung" in response.get_data(as_text=True)


def test_a_draft_has_a_size_limit(ws, monkeypatch):
    task = _open_task(ws["cases"][0])
    monkeypatch.setitem(current_app.config, "DRAFT_MAX_BYTES", 64 * 1024)
    with pytest.raises(InvalidData, match="at most 64 KB"):
        cases.save_draft(task.id, {"notes": "x" * (1024 * 1024)}, ws["anna"])
    db.session.rollback()
    cases.save_draft(task.id, {"notes": "x" * 1000}, ws["anna"])
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).draft == {"notes": "x" * 1000}


def test_a_draft_save_racing_a_completion_leaves_no_draft(ws, monkeypatch):
    """The completion commits after save_draft has found the task open and before it writes."""
    task_id = _open_task(ws["cases"][0]).id
    app = current_app
    real_can_work = access.can_work

    def complete_meanwhile(user, row):
        monkeypatch.setattr(access, "can_work", real_can_work)
        with app.app_context():                 # another request, in its own session
            cases.complete_task(task_id, {"docs_complete": True}, actor=users.find_user("ben"))
        return real_can_work(user, row)

    monkeypatch.setattr(access, "can_work", complete_meanwhile)
    with pytest.raises(Conflict):
        cases.save_draft(task_id, {"notes": "late"}, ws["anna"])
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(HumanTask, task_id)
    assert row.state == "completed" and row.draft is None


def test_instructions_load_no_images_from_other_hosts():
    html = str(render_markdown("![pixel](https://tracker.example/p.gif) ![p2](//tracker.example/q.gif) "
                               "![Ablauf](/static/ablauf.png)"))
    assert "<img" in html and 'src="/static/ablauf.png"' in html
    assert "tracker.example" not in html.split("<img", 1)[1].split(">", 1)[0]
    assert html.count("<img") == 1
    assert '<a href="https://tracker.example/p.gif" rel="noreferrer">pixel</a>' in html


@pytest.fixture
def faulty_app(app, tmp_path) -> Flask:
    """The app as in production (faults are not propagated to the caller), with a view that fails."""
    faulty = make_app(app.backend, str(tmp_path), SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      PROPAGATE_EXCEPTIONS=False)

    def fails():
        raise RuntimeError("a fault in a view")

    faulty.add_url_rule("/fails", view_func=fails)
    return faulty


def test_a_fault_is_a_500_page_in_the_layout(faulty_app, people):
    with faulty_app.app_context():
        client = Client(faulty_app)
        client.login("anna")
        response = client.get("/fails")
        db.session.remove()
    assert response.status_code == 500 and _in_layout(response)
    assert "Ein Fehler ist aufgetreten" in response.get_data(as_text=True)
    assert "Anna Berger" in response.get_data(as_text=True)               # the header, as on every page


def test_with_the_database_down_the_500_page_still_answers(tmp_path):
    """The layout reads the logged-in user from the database; without one, a plain page says what happened."""
    down = make_app("sqlite", str(tmp_path), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/lotse.db",
                    PROPAGATE_EXCEPTIONS=False)
    client = down.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"], cookie["session_token"] = "1", "a-token"
    response = client.get("/")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert 'class="error-page"' in html and "Ein Fehler ist aufgetreten" in html and "An error occurred" in html
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method, url, status", [("GET", "/logout", 405), ("POST", "/cases/new", 405),
                                                 ("GET", "/no/such/page", 404)])
def test_http_errors_are_pages_in_the_layout(ctx, people, client_for, method, url, status):
    client = client_for("anna")
    response = client.get(url) if method == "GET" else client.post(url, {})
    assert response.status_code == status and _in_layout(response)
