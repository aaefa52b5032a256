"""A failed step reaches people: the responsible advisor and the center's supervisors are told, in the app and
by mail, in the transaction that records the incident; nobody else, and each only once per incident."""
from sqlalchemy import func, select

from engine import cases, deploy
from engine.db import db
from engine.models import Incident, MailMessage, Notification

from tests.conftest import fixture_files


def notes(kind="incident"):
    db.session.expire_all()
    return db.session.scalars(select(Notification).where(Notification.kind == kind)
                              .order_by(Notification.user_id)).all()


def test_the_responsible_advisor_and_the_supervisors_hear_of_a_failed_step(people):
    people["ben"].email = "ben@example.org"
    people["sara"].email = "sara@example.org"
    people["sara"].language = "en"
    db.session.commit()
    deploy.deploy(fixture_files("divide.bpmn"))
    case = cases.start_case("divide", center=people["center"], subject="Teilung", data={"total": 1, "parts": 0},
                            actor=people["anna"], responsible=people["ben"])
    case_id, reference = case.id, case.reference
    db.session.rollback()                     # what was committed, not what the session holds
    received = notes()
    assert sorted(n.user_id for n in received) == sorted([people["ben"].id, people["sara"].id])
    assert all(n.case_id == case_id for n in received)
    ben = next(n for n in received if n.user_id == people["ben"].id)
    assert "Fehler im Ablauf" in ben.title and "Teilung" in ben.title
    # in words first, in each person's language; the engine's own message in the mail beside them
    assert "teilt durch null" in ben.body and "division by zero" not in ben.body
    mails = db.session.scalars(select(MailMessage).order_by(MailMessage.to)).all()
    assert [m.to for m in mails] == ["ben@example.org", "sara@example.org"]
    assert "Sie sind für den Fall verantwortlich" in mails[0].body and f"/cases/{reference}" in mails[0].body
    assert "teilt durch null" in mails[0].body and "Meldung: division by zero" in mails[0].body
    assert "/incident" not in mails[0].body                          # Ben is no supervisor
    assert mails[1].subject.startswith("Failed step") and "supervisor" in mails[1].body
    assert "A calculation of the step divides by zero" in mails[1].body       # Sara reads English
    assert f"/supervisor/cases/{reference}/incident" in mails[1].body


def test_a_retry_that_fails_again_tells_them_again_and_other_centers_hear_nothing(people):
    deploy.deploy(fixture_files("divide.bpmn"))
    case = cases.start_case("divide", center=people["center"], subject="Teilung", data={"total": 1, "parts": 0},
                            actor=people["anna"])
    assert [n.user_id for n in notes()] == [people["sara"].id]       # no responsible advisor: the supervisors
    cases.retry_task(case.id, actor=people["sara"])                   # fails again: a new incident
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 2
    assert [n.user_id for n in notes()] == [people["sara"].id] * 2
    assert people["kai"].id not in {n.user_id for n in notes()}
