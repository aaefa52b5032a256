"""The supervisors' bulk actions as the case page shows them afterwards (each one in the case log, with
what changed), the outside party a stuck case waits on named on the list, and a supervisor of another
center who posts this center's ids: nothing happens and nothing of this center shows."""
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, users
from engine.db import db
from engine.models import Case, HumanTask


@pytest.fixture
def sv(ws, deploy_fixture):
    deploy_fixture("divide.bpmn")
    failed = cases.start_case("divide", center=ws["center"], subject="Broken", data={"total": 10, "parts": 0},
                              actor=ws["anna"], responsible=ws["anna"])
    kim = users.ensure_user("kim", "Kim Köln", organisation=ws["other_center"], groups=["supervisor"],
                            password="pw-kim")
    db.session.commit()
    return {**ws, "failed": failed, "kim": kim}


def _open_tasks(case):
    db.session.expire_all()
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                      HumanTask.state == "open")).all()


def _history(client, reference):
    """The case page's history as text, one line per entry."""
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_each_bulk_action_is_in_the_case_log_on_the_case_page(sv, client_for):
    sara = client_for("sara")
    ravi, maria, failed = sv["cases"][0], sv["cases"][1], sv["failed"]
    task = _open_tasks(ravi)[0]
    assert sara.post("/supervisor/stuck", {"action": "reassign", "task": task.id,
                                           "person": str(sv["ben"].id)}).status_code == 302
    assert sara.post("/supervisor/stuck", {"action": "responsible", "case": str(maria.id),
                                           "person": str(sv["ben"].id)}).status_code == 302
    assert sara.post(f"/supervisor/cases/{failed.reference}/retry",
                     {"value:parts": "5", "value:total": "10"}).status_code == 302
    assert sara.post("/supervisor/stuck", {"action": "cancel", "case": str(ravi.id),
                                           "reason_text": "Fachkraft hat abgesagt"}).status_code == 302

    ravi_log = _history(sara, ravi.reference)
    assert "Aufgabe zugewiesen" in ravi_log and "Ben Okafor" in ravi_log
    assert "Fall abgebrochen" in ravi_log and "Fachkraft hat abgesagt" in ravi_log and "Sara Klein" in ravi_log
    maria_log = _history(sara, maria.reference)
    assert "Verantwortung übergeben" in maria_log and "— → Ben Okafor" in maria_log
    # the correction: which value, from what to what, by whom
    failed_log = _history(sara, failed.reference)
    assert "Schritt erneut ausgeführt" in failed_log
    assert re.search(r"parts\W+0\W+5", failed_log), failed_log[-1500:]


def test_a_case_waiting_on_an_outside_party_names_the_party(sv, client_for):
    ravi = sv["cases"][0]
    cases.complete_task(_open_tasks(ravi)[0].id, {"docs_complete": True}, actor=sv["anna"])
    db.session.commit()
    waiting = [t for t in _open_tasks(ravi) if t.actor in ("authority", "employer", "worker")]
    assert waiting, "the permit process waits on the employer after the documents check"
    clock.advance(timedelta(days=40))
    page = client_for("sara").get("/supervisor/stuck?reason=waiting").get_data(as_text=True)
    row = page[page.index(f'data-case="{ravi.reference}"'):]
    row = row[:row.index("</tr>")]
    waiting_reason = row[row.index('data-reason="waiting"'):].split("</li>")[0]
    # which party (the employer) and which one: the case's firm
    assert "Arbeitgeber (Elektro Jansen GmbH): „Arbeitgeber informieren“ fällig" in waiting_reason
    assert f'href="/cases/{ravi.reference}"' in row


def test_another_centers_supervisor_posting_this_centers_ids_changes_nothing(sv, client_for):
    clock.advance(timedelta(days=4))
    kim = client_for("kim")
    ravi, failed = sv["cases"][0], sv["failed"]
    task = _open_tasks(ravi)[0]
    for form in ({"action": "reassign", "task": task.id, "person": str(sv["kai"].id)},
                 {"action": "reassign", "task": task.id, "person": str(sv["ben"].id)},
                 {"action": "responsible", "case": str(ravi.id), "person": str(sv["kai"].id)},
                 {"action": "retry", "case": str(failed.id)},
                 {"action": "cancel", "case": str(ravi.id), "reason_text": "weg"}):
        response = kim.post("/supervisor/stuck", form)
        assert response.status_code in (302, 422), form
        shown = kim.get("/supervisor/stuck").get_data(as_text=True)
        assert ravi.reference not in shown and "Ravi Kumar" not in shown and "Ben Okafor" not in shown
    db.session.expire_all()
    assert _open_tasks(ravi)[0].assignee_id is None
    assert db.session.get(Case, ravi.id).responsible_id == sv["anna"].id
    assert db.session.get(Case, ravi.id).status == "active" and db.session.get(Case, failed.id).has_incident
    assert kim.post(f"/supervisor/cases/{failed.reference}/retry", {"value:parts": "5"}).status_code == 404

    # her downloads hold her center's figures only: none of this center's people, cases or tasks
    year = clock.now().year
    for url in ("/supervisor/workload/open.csv", "/supervisor/workload/completed.csv", "/supervisor/flow/cases.csv",
                f"/supervisor/report.csv?period=year&value={year}"):
        text = kim.get(url).get_data(as_text=True)
        assert "Anna" not in text and "Ben" not in text and "Aachen" not in text, url
    rows = list(csv.DictReader(io.StringIO(kim.get(f"/supervisor/report.csv?period=year&value={year}")
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and all(r["figure"] in ("0", "0.0", "") for r in rows if r["section"] in ("firms", "workers"))
    # this center's process is deployed for all, its diagram is no secret; a case's page is
    assert kim.get(f"/cases/{ravi.reference}").status_code == 404


def test_a_case_waiting_on_an_authority_names_which_one(sv, client_for):
    from engine import deploy
    from tests.conftest import fixture_files
    xml = fixture_files("ws_permit.bpmn")[0][1].decode().replace('id="ws_permit"', 'id="ws_abh"')
    xml = xml.replace('<camunda:property name="actor" value="employer"/>',
                      '<camunda:property name="actor" value="authority"/>'
                      '<camunda:property name="authority" value="Ausländerbehörde"/>')
    deploy.deploy([("ws_abh.bpmn", xml.encode())])
    case = cases.start_case("ws_abh", center=sv["center"], subject="Amir Haddad", data={"worker_name": "Amir"},
                            actor=sv["anna"])
    cases.complete_task(_open_tasks(case)[0].id, {"docs_complete": True}, actor=sv["anna"])
    db.session.commit()
    clock.advance(timedelta(days=6))
    page = client_for("sara").get("/supervisor/stuck?reason=waiting").get_data(as_text=True)
    row = page[page.index(f'data-case="{case.reference}"'):]
    waiting_reason = row[row.index('data-reason="waiting"'):].split("</li>")[0]
    assert "Behörde (Ausländerbehörde): „Arbeitgeber informieren“ fällig" in waiting_reason


def test_cancel_a_failed_case_from_its_incident_page(sv, client_for):
    sara, failed = client_for("sara"), sv["failed"]
    response = sara.post(f"/supervisor/cases/{failed.reference}/cancel", {"reason_text": "  "})
    assert response.status_code == 422 and 'href="#f-reason' in response.get_data(as_text=True)
    response = sara.post(f"/supervisor/cases/{failed.reference}/cancel", {"reason_text": "Doppelt angelegt"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{failed.reference}")
    db.session.expire_all()
    assert db.session.get(Case, failed.id).status == "cancelled"
    log = _history(sara, failed.reference)
    assert "Fall abgebrochen" in log and "Doppelt angelegt" in log
    # no longer stuck, and nothing left to cancel
    assert failed.reference not in sara.get("/supervisor/stuck").get_data(as_text=True)
    again = sara.post(f"/supervisor/cases/{failed.reference}/cancel", {"reason_text": "nochmal"})
    assert again.status_code == 302
    assert "Abbruch nicht möglich" in sara.get(again.headers["Location"]).get_data(as_text=True)
