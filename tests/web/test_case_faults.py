"""The case page and task page stay usable in every state a case can reach (issue 13, items 2 and 4)."""
from datetime import timedelta

from sqlalchemy import select

from engine import cases, clock, timers
from engine.db import db
from engine.models import HumanTask
from tests.web.test_workspace import text


def open_rows(case_id, element_id):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element_id,
                                                      HumanTask.state == "open")).all()


def test_completing_the_host_of_fired_reminders_redirects_and_the_reminders_stay(ws, client_for, deploy_fixture):
    deploy_fixture("timer_cycle.bpmn")
    case = cases.start_case("timer_cycle", center=ws["center"], subject="Ana Lima", actor=ws["anna"])
    clock.advance(timedelta(hours=1, seconds=1))
    timers.sweep()
    [host] = open_rows(case.id, "collect")
    response = client_for("anna").post(f"/tasks/{host.id}", {"_action": "complete", "next": "/"})
    assert response.status_code == 302
    db.session.expire_all()
    assert len(open_rows(case.id, "nudge")) == 1


def test_a_stalled_case_says_so_on_its_page_and_can_be_retried(ws, client_for, deploy_fixture):
    deploy_fixture("stall_signal.bpmn")
    case = cases.start_case("stall_signal", center=ws["center"], subject="Ana Lima", actor=ws["anna"])
    [decide] = open_rows(case.id, "decide")
    cases.complete_task(decide.id, {}, actor=ws["anna"])
    client = client_for("anna")
    html = text(client.get(f"/cases/{case.reference}"))
    assert "Steht still" in html and "Von selbst geht es nicht weiter" in html
    assert "waits for no timer or message" in html and "Erneut versuchen" in html
    response = client.post(f"/cases/{case.reference}/retry", {"task_id": ""})
    assert response.status_code == 302
    assert "erneut fehlgeschlagen" in text(client.get(f"/cases/{case.reference}"))
