"""Notifications grouped by kind with "mark all read" per kind, and each person's mail settings, over HTTP."""
import pytest
from sqlalchemy import select

from engine import cases, notifications
from engine.db import db
from engine.models import Notification


@pytest.fixture
def failed(people, deploy_fixture):
    deploy_fixture("divide.bpmn", "timer_boundary.bpmn")
    for subject in ("Eins", "Zwei"):
        cases.start_case("divide", center=people["center"], subject=subject, data={"total": 1, "parts": 0},
                         actor=people["anna"], responsible=people["anna"])
    db.session.commit()
    return people


@pytest.mark.parametrize("who", ["sara", "anna", "jansen", "kai"])
def test_every_person_has_their_own_settings_page(failed, client_for, who):
    client = client_for(who)
    page = client.get("/notifications/settings")
    assert page.status_code == 200 and 'name="incident" value="daily"' in page.get_data(as_text=True)
    response = client.post("/notifications/settings", {"incident": "daily", "reminder": "never"})
    assert response.status_code == 302
    assert notifications.settings_of(failed[who])["incident"] == "daily"
    assert notifications.settings_of(failed["ben"])["incident"] == "immediately"       # others untouched


def test_a_wrong_choice_is_named_and_nothing_is_saved(failed, client_for):
    client = client_for("sara")
    response = client.post("/notifications/settings", {"incident": "hourly", "reminder": "never"})
    assert response.status_code == 422 and 'href="#f-incident-immediately"' in response.get_data(as_text=True)
    assert notifications.settings_of(failed["sara"])["reminder"] == "immediately"


def test_anonymous_is_sent_to_login(failed, client_for):
    response = client_for().get("/notifications/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_grouped_by_kind_and_marked_read_per_kind(failed, client_for):
    notifications.notify_assigned(*_any_task(failed), actor=failed["ben"])
    db.session.commit()
    client = client_for("anna")
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index('data-kind="incident"') < page.index('data-kind="assigned"')
    assert "(2 ungelesen)" in page and "(1 ungelesen)" in page
    assert client.post("/notifications/read-all", {"kind": "incident"}).status_code == 302
    db.session.expire_all()
    unread = db.session.scalars(select(Notification.kind).where(Notification.user_id == failed["anna"].id,
                                                                Notification.read_at.is_(None))).all()
    assert unread == ["assigned"]


def _any_task(people):
    from engine.models import HumanTask
    case = cases.start_case("timer_boundary", center=people["center"], subject="Drei", actor=people["anna"])
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))
    return task, people["anna"]
