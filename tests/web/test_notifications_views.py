"""The notification list (own notices only, mark read) and the mail outbox (admins and supervisors)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, timers
from engine.db import db
from engine.models import MailMessage, Notification


@pytest.fixture
def noticed(people, deploy_fixture):
    """An overdue task in Aachen: every advisor there got an overdue notice, anna also by mail."""
    deploy_fixture("timer_boundary.bpmn")
    people["anna"].email = "anna@wc-aachen.example"
    db.session.commit()
    cases.start_case("timer_boundary", center=people["center"], subject="Ravi Kumar", actor=people["anna"])
    clock.advance(timedelta(days=2, seconds=1))
    timers.sweep()
    return people


def test_the_list_shows_own_notifications_and_marks_them_read(noticed, client_for):
    client = client_for("anna")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Überfällig: „Zustimmung der BA eintragen“" in page and "1 ungelesene Benachrichtigung" in page
    note = db.session.scalar(select(Notification).where(Notification.user_id == noticed["anna"].id))
    response = client.post(f"/notifications/{note.id}/read")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    assert "0 ungelesene Benachrichtigungen" in client.get("/notifications/").get_data(as_text=True)
    assert client.get("/notifications/?show=unread").get_data(as_text=True).count("notification--unread") == 0


def test_someone_elses_notification_is_not_found(noticed, client_for):
    note = db.session.scalar(select(Notification).where(Notification.user_id == noticed["anna"].id))
    client = client_for("ben")
    client.get("/notifications/")
    assert client.post(f"/notifications/{note.id}/read").status_code == 404
    assert "Zustimmung der BA" not in client_for("kai").get("/notifications/").get_data(as_text=True)


def test_outbox_for_supervisors_only(noticed, client_for):
    assert client_for("anna").get("/notifications/outbox").status_code == 404
    page = client_for("sara").get("/notifications/outbox").get_data(as_text=True)
    assert "anna@wc-aachen.example" in page and "Lokal aufbewahrt" in page
    mail = db.session.scalar(select(MailMessage))
    detail = client_for("sara").get(f"/notifications/outbox/{mail.id}").get_data(as_text=True)
    assert "Guten Tag Anna Berger" in detail
    assert client_for("anna").get(f"/notifications/outbox/{mail.id}").status_code == 404


def test_a_supervisor_of_another_center_does_not_see_the_mail(noticed, client_for):
    from engine import users
    users.ensure_user("kim", "Kim Köln", organisation=noticed["other_center"], groups=["supervisor"],
                      password="pw-kim")
    db.session.commit()
    mail = db.session.scalar(select(MailMessage))
    client = client_for("kim")
    assert "anna@wc-aachen.example" not in client.get("/notifications/outbox").get_data(as_text=True)
    assert client.get(f"/notifications/outbox/{mail.id}").status_code == 404


def test_the_header_counts_unread_notices_and_the_case_timeline_names_them(noticed, client_for):
    client = client_for("anna")
    inbox = client.get("/").get_data(as_text=True)
    assert 'class="notifications-link"' in inbox and "1 ungelesen" in inbox
    note = db.session.scalar(select(Notification).where(Notification.user_id == noticed["anna"].id))
    from engine.models import Case
    case_page = client.get(f"/cases/{db.session.get(Case, note.case_id).reference}").get_data(as_text=True)
    assert "Frist überschritten: Hinweis verschickt" in case_page
    client.post("/notifications/read-all")
    assert "ungelesen" not in client.get("/").get_data(as_text=True)
