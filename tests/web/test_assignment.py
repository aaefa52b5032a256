"""Assignment offers only the task's candidates, refuses anyone else with a message, and tells the assignee
(in the app, and by mail when they have an address)."""
import re

from sqlalchemy import select

from engine import cases, users
from engine.db import db
from engine.errors import InvalidData
from engine.models import HumanTask, MailMessage, Notification

import pytest


def text(response):
    return response.get_data(as_text=True)


def open_task(case):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))


@pytest.fixture
def owner(ws):
    """A process owner of the same center: a colleague, but no candidate of advisor tasks."""
    user = users.ensure_user("paul", "Paul Prozess", organisation=ws["center"], groups=["process_owner"],
                             password="pw-paul")
    db.session.commit()
    return user


def offered(html, task_id):
    form = re.search(rf'<select id="assign-{task_id}" name="assignee">(.*?)</select>', html, re.S)
    return set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', form.group(1))) if form else set()


def test_only_candidates_are_offered_in_the_inbox_and_on_the_task_page(ws, owner, client_for):
    task = open_task(ws["cases"][0])
    client = client_for("sara")
    names = offered(text(client.get("/?view=all")), task.id)
    assert names == {"Anna Berger", "Ben Okafor", "Sara Klein"}
    page = text(client.get(f"/tasks/{task.id}"))
    select_html = re.search(r'<select id="assignee" name="assignee">(.*?)</select>', page, re.S).group(1)
    assert "Ben Okafor" in select_html and "Paul Prozess" not in select_html


def test_assigning_a_non_candidate_is_refused_with_a_message(ws, owner, client_for):
    task = open_task(ws["cases"][0])
    client = client_for("sara")
    client.get("/?view=all")
    response = client.post(f"/tasks/{task.id}/assign", {"assignee": str(owner.id), "next": "/?view=all"})
    assert response.status_code == 302
    assert "Paul Prozess kann" in text(client.get("/?view=all"))
    db.session.expire_all()
    assert open_task(ws["cases"][0]).assignee_id is None
    with pytest.raises(InvalidData):
        cases.assign_task(task.id, owner, actor=ws["sara"])


def test_the_assignee_is_told_in_the_app_and_by_mail(ws, client_for):
    ws["ben"].email = "ben@example.org"
    db.session.commit()
    task = open_task(ws["cases"][0])
    client = client_for("sara")
    client.get("/?view=all")
    client.post(f"/tasks/{task.id}/assign", {"assignee": str(ws["ben"].id), "next": "/?view=all"})
    db.session.expire_all()
    note = db.session.scalar(select(Notification).where(Notification.user_id == ws["ben"].id))
    assert note.kind == "assigned" and "Sara Klein" in note.body and ws["cases"][0].reference in note.title
    sent = db.session.scalar(select(MailMessage).where(MailMessage.to == "ben@example.org"))
    assert sent is not None and "Neue Aufgabe für Sie" in sent.subject
    assert "Zugewiesen" in text(client_for("ben").get("/notifications/"))


def _assignment_mail(ws, client_for, host):
    """Sara assigns a task to Ben through a server she reached as `host`; the mail Ben gets."""
    ws["ben"].email = "ben@example.org"
    db.session.commit()
    client, where = client_for(), {"base_url": f"http://{host}"}      # every request of this browser names `host`
    client.get("/login", **where)
    assert client.post("/login", {"username": "sara", "password": "pw-sara"}, **where).status_code == 302
    task = open_task(ws["cases"][0])
    client.get("/?view=all", **where)
    client.post(f"/tasks/{task.id}/assign", {"assignee": str(ws["ben"].id), "next": "/?view=all"}, **where)
    db.session.expire_all()
    return db.session.scalar(select(MailMessage).where(MailMessage.to == "ben@example.org"))


def test_without_a_base_url_mail_links_point_where_the_local_server_was_reached(ws, client_for, app):
    assert app.config.get("BASE_URL") is None
    sent = _assignment_mail(ws, client_for, "127.0.0.1:5077")
    assert f"http://127.0.0.1:5077/cases/{ws['cases'][0].reference}" in sent.body


def test_a_host_header_that_is_not_this_machine_never_makes_the_links(ws, client_for):
    sent = _assignment_mail(ws, client_for, "evil.example:5077")
    assert "evil.example" not in sent.body and "http://localhost:5000/cases/" in sent.body
