"""Issue 14, item 4 (and issue 18): an employer reads of its firm's worker cases only what the process marks
for it, in the employer portal; the center's workspace (case page, task page, deadlines) is a 403 for it.

That is the worker's name, the milestones, the employer's own tasks and what the case waits for from
the employer; never the advisors' tasks, the case data, the timeline, internal notes, incident texts,
the raw data view or the diagram. Each check that something is hidden also checks that an advisor of
the center sees it, so a page that shows nothing to anyone cannot pass.
"""
import pytest
from sqlalchemy import select

from engine import cases
from engine.db import db
from engine.models import HumanTask

CONFIDENTIAL_DATA = "Angststörung, Therapie begonnen"
CONFIDENTIAL_NOTE = "gesundheitliche Probleme, bitte vertraulich behandeln"


def text(response):
    return response.get_data(as_text=True)


def task(case, element_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                     HumanTask.element_id == element_id))


@pytest.fixture
def record(staff, deploy_fixture):
    """Ravi Kumar's case for Elektro Jansen: counselled (a milestone, confidential data), an internal note."""
    deploy_fixture("sec_worker_record.bpmn")
    case = cases.start_case("sec_worker_record", center=staff["center"], employer=staff["firm"],
                            subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"}, actor=staff["anna"],
                            responsible=staff["anna"])
    cases.complete_task(task(case, "counsel").id, {"counselling_record": CONFIDENTIAL_DATA}, actor=staff["anna"])
    cases.add_comment(case.id, CONFIDENTIAL_NOTE, staff["anna"])
    db.session.commit()
    return {**staff, "case": case}


# What the center reads and the employer must not: the note, the data (also in the timeline and the raw
# view), the advisors' tasks (done and open), a timer that waits for the authority, the page's parts.
INTERNAL = [CONFIDENTIAL_NOTE, CONFIDENTIAL_DATA, "Beratungsgespräch führen", "Nachgespräch vorbereiten",
            "Bescheid der Ausländerbehörde abwarten", "Verlauf", "Technische Ansicht (JSON)", "Notizen",
            "bpmn-viewer", "Falldaten"]
# What the process marks for the employer.
MARKED = ["Ravi Kumar", "Erstberatung abgeschlossen", "Arbeitsvertrag bestätigen",
          "Rückmeldung des Arbeitgebers abwarten"]


def test_the_portal_shows_an_employer_only_what_the_process_marks_for_them(record, client_for):
    url = f"/cases/{record['case'].reference}"
    advisor_page = text(client_for("anna").get(url))
    for part in INTERNAL + MARKED:
        assert part in advisor_page, part
    assert client_for("jansen").get(url).status_code == 403          # the center's case page is not theirs
    response = client_for("jansen").get(f"/portal{url}")
    assert response.status_code == 200
    employer_page = text(response)
    for part in MARKED:
        assert part in employer_page, part
    for part in INTERNAL:
        assert part not in employer_page, part


def test_an_employer_cannot_open_or_act_on_advisor_tasks_nor_fetch_the_diagram(record, client_for):
    case = record["case"]
    jansen = client_for("jansen")
    own = task(case, "confirm_contract")
    assert jansen.get(f"/portal/tasks/{own.id}").status_code == 200
    assert jansen.get(f"/tasks/{own.id}").status_code == 403                 # the workspace's task page
    for element_id in ("counsel", "prepare_followup"):              # done and open advisor tasks
        advisor_task = task(case, element_id)
        assert client_for("anna").get(f"/tasks/{advisor_task.id}").status_code == 200
        assert jansen.get(f"/portal/tasks/{advisor_task.id}").status_code == 404, element_id
        assert jansen.post(f"/portal/tasks/{advisor_task.id}", {}).status_code == 404, element_id
        assert jansen.post(f"/tasks/{advisor_task.id}/claim", {"next": "/"}).status_code == 403, element_id
        assert jansen.post(f"/tasks/{advisor_task.id}", {}).status_code == 403, element_id
    assert client_for("anna").get(f"/cases/{case.reference}/diagram.bpmn").status_code == 200
    assert jansen.get(f"/cases/{case.reference}/diagram.bpmn").status_code == 404


def test_incident_texts_stay_with_the_center(record, client_for, deploy_fixture):
    deploy_fixture("divide.bpmn")
    case = cases.start_case("divide", center=record["center"], employer=record["firm"], subject="Maria Santos",
                            data={"total": 10, "parts": 0}, actor=record["anna"])
    url = f"/cases/{case.reference}"
    advisor_page = text(client_for("anna").get(url))
    assert "Fehler im Ablauf" in advisor_page and "division" in advisor_page.lower()
    employer_page = text(client_for("jansen").get(f"/portal{url}"))
    assert "Maria Santos" in employer_page
    assert "Fehler im Ablauf" not in employer_page and "division" not in employer_page.lower()
    assert "Erneut versuchen" not in employer_page


def test_the_portal_lists_an_employer_only_what_waits_for_them(record, client_for):
    advisor_list = text(client_for("anna").get("/deadlines"))
    assert client_for("jansen").get("/deadlines").status_code == 403
    employer_list = text(client_for("jansen").get(f"/portal/cases/{record['case'].reference}")) \
        + text(client_for("jansen").get("/portal/"))
    for name in ("Arbeitsvertrag bestätigen", "Rückmeldung des Arbeitgebers abwarten"):
        assert name in advisor_list and name in employer_list, name
    for name in ("Nachgespräch vorbereiten", "Bescheid der Ausländerbehörde abwarten"):
        assert name in advisor_list and name not in employer_list, name
