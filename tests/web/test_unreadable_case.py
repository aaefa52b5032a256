"""A case whose stored workflow state or process version cannot be read (written by another engine version, or
damaged) still opens: its pages show what the tables hold and say what is missing, never a 500."""
from datetime import timedelta

from sqlalchemy import select

from engine import clock, state
from engine.db import db
from engine.models import HumanTask, ProcessDefinition
from tests.web.test_workspace import text


def damage(case, *, spec=False, workflow=False):
    if spec:
        db.session.get(ProcessDefinition, case.definition_id).spec_json = "{}"
    if workflow:
        case.state = "{}"
    db.session.commit()
    state.spec_cache.clear()       # as a fresh process finds it


def open_task(case):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")).first()


def test_a_case_of_an_unreadable_process_version_opens_with_a_notice(ws, client_for):
    case = ws["cases"][0]
    task = open_task(case)
    damage(case, spec=True)
    response = client_for("anna").get(f"/cases/{case.reference}")
    assert response.status_code == 200
    html = text(response)
    assert 'data-unreadable="definition"' in html     # (its workflow, restored with these specs, neither)
    assert case.subject in html and task.title in html           # the rest of the page is there
    assert client_for("anna").get(f"/tasks/{task.id}").status_code == 200


def test_the_portal_shows_a_case_of_an_unreadable_process_version(ws, client_for):
    case = ws["cases"][0]                                         # the firm of "jansen"
    damage(case, spec=True)
    jansen = client_for("jansen")
    assert case.subject in text(jansen.get("/portal/"))
    response = jansen.get(f"/portal/cases/{case.reference}")
    assert response.status_code == 200 and case.subject in text(response)


def test_a_case_with_an_unreadable_workflow_state_opens_with_a_notice(ws, client_for):
    case = ws["cases"][0]
    task = open_task(case)
    damage(case, workflow=True)
    response = client_for("anna").get(f"/cases/{case.reference}")
    assert response.status_code == 200
    html = text(response)
    assert 'data-unreadable="state"' in html and 'data-unreadable="definition"' not in html
    assert task.title in html
    assert client_for("anna").get(f"/tasks/{task.id}").status_code == 200


def test_a_readable_case_has_no_notice(ws, client_for):
    assert "data-unreadable" not in text(client_for("anna").get(f"/cases/{ws['cases'][0].reference}"))


def test_the_stuck_list_shows_a_case_of_an_unreadable_process_version(ws, client_for):
    case = ws["cases"][0]
    task = open_task(case)
    task.actor, task.due_at = "authority", clock.now() - timedelta(days=3)   # overdue with an authority
    damage(case, spec=True)
    response = client_for("sara").get("/supervisor/stuck")
    assert response.status_code == 200 and case.reference in text(response)
