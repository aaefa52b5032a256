"""Issue 14, item 5: every admin and supervisor view is limited to their own center.

An admin of one center read another center's mail outbox (mails with case references and personal
names). Every object of another center, by whatever URL, is a 404 for its staff, admins included.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, timers, users
from engine.db import db
from engine.models import HumanTask, MailMessage, Notification


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def two_centers(staff, deploy_fixture):
    """An overdue task in Aachen and one in Köln: each center's advisors got a notice and a mail."""
    deploy_fixture("timer_boundary.bpmn")
    staff["anna"].email = "anna@wc-aachen.example"
    staff["kai"].email = "kai@wc-koeln.example"
    db.session.commit()
    aachen = cases.start_case("timer_boundary", center=staff["center"], employer=staff["firm"],
                              subject="Ravi Kumar", actor=staff["anna"])
    koeln = cases.start_case("timer_boundary", center=staff["other_center"], subject="Olena Kovalenko",
                             actor=staff["kai"])
    clock.advance(timedelta(days=2, seconds=1))
    timers.sweep()
    mails = {mail.to: mail for mail in db.session.scalars(select(MailMessage))}
    assert {"anna@wc-aachen.example", "kai@wc-koeln.example"} <= set(mails)
    return {**staff, "aachen": aachen, "koeln": koeln, "anna_mail": mails["anna@wc-aachen.example"],
            "kai_mail": mails["kai@wc-koeln.example"]}


def test_an_admin_reads_only_their_own_centers_outbox(two_centers, client_for):
    ada, kim = client_for("ada"), client_for("kim")
    outbox = text(ada.get("/notifications/outbox"))
    assert "anna@wc-aachen.example" in outbox and "kai@wc-koeln.example" not in outbox
    assert ada.get(f"/notifications/outbox/{two_centers['anna_mail'].id}").status_code == 200
    assert ada.get(f"/notifications/outbox/{two_centers['kai_mail'].id}").status_code == 404
    outbox = text(kim.get("/notifications/outbox"))
    assert "kai@wc-koeln.example" in outbox and "anna@wc-aachen.example" not in outbox
    assert kim.get(f"/notifications/outbox/{two_centers['anna_mail'].id}").status_code == 404
    for status in ("pending", "sent", "failed", "local"):
        assert "anna@wc-aachen.example" not in text(kim.get(f"/notifications/outbox?status={status}"))


def test_an_admin_of_no_center_reads_no_outbox(two_centers, client_for):
    root = users.ensure_user("root", "Rita Root", organisation=two_centers["center"], groups=["admin", "supervisor"],
                             password="pw-root")
    root.organisation_id = None                   # a platform-wide admin, as the old outbox let see everything
    db.session.commit()
    client = client_for("root")
    assert client.get("/notifications/outbox").status_code == 404
    assert client.get(f"/notifications/outbox/{two_centers['anna_mail'].id}").status_code == 404


def test_every_object_of_another_center_is_404_for_its_admin_and_supervisor(two_centers, client_for):
    case = two_centers["aachen"]
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))
    note = db.session.scalar(select(Notification).where(Notification.user_id == two_centers["anna"].id))
    kim = client_for("kim")                       # admin and supervisor in Köln
    gets = [f"/cases/{case.reference}", f"/cases/{case.reference}/diagram.bpmn", f"/tasks/{task.id}",
            f"/notifications/outbox/{two_centers['anna_mail'].id}"]
    for url in gets:
        assert kim.get(url).status_code == 404, url
    posts = [(f"/tasks/{task.id}/claim", {"next": "/"}), (f"/tasks/{task.id}/unclaim", {"next": "/"}),
             (f"/tasks/{task.id}/assign", {"assignee": str(two_centers["kim"].id), "next": "/"}),
             (f"/tasks/{task.id}", {}), (f"/cases/{case.reference}/comments", {"body": "hallo"}),
             (f"/cases/{case.reference}/retry", {}), (f"/notifications/{note.id}/read", {})]
    for url, data in posts:
        assert kim.post(url, data).status_code == 404, url
    for url in ("/?view=all", "/?view=group", "/deadlines?weeks=12", "/notifications/"):
        page = text(kim.get(url))
        assert "Ravi Kumar" not in page and case.reference not in page, url
    # and their own center's objects are there for them
    assert "Olena Kovalenko" in text(kim.get("/?view=all"))
    db.session.refresh(task)
    assert task.assignee_id is None and task.is_open
