"""Camunda files in the workspace: a generated form and the generic completion page, per role."""
from sqlalchemy import select

from engine import cases, deploy
from engine.db import db
from engine.models import HumanTask

from tests.engine.test_camunda_dialect import FORM_DATA


def text(response):
    return response.get_data(as_text=True)


def _loan_case(people):
    deploy.deploy([("loan.bpmn", FORM_DATA.encode())])
    db.session.commit()
    return cases.start_case("loan", center=people["center"], employer=people["firm"], subject="Ana Lima",
                            data={"customer": "Ana Lima", "iban_checked": True})


def test_a_generated_form_renders_validates_and_completes(people, client_for):
    case = _loan_case(people)
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    client = client_for("anna")
    page = text(client.get(f"/tasks/{task.id}"))
    assert 'name="amount"' in page and 'value="1000"' in page and "<select" in page and 'name="ok"' in page
    refused = client.post(f"/tasks/{task.id}", {"amount": "60000", "kind": "a"})
    assert refused.status_code == 422
    done = client.post(f"/tasks/{task.id}", {"amount": "2000", "kind": "b", "due": "2027-01-02"})
    assert done.status_code == 302


def test_the_generic_page_shows_documentation_and_data_to_staff_only(people, client_for):
    case = _loan_case(people)
    first = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    cases.complete_task(first.id, {"amount": 2000, "kind": "a"}, actor=people["anna"])
    generic = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))
    page = text(client_for("ben").get(f"/tasks/{generic.id}"))
    assert "Check the documents." in page and "data-task-data" in page and "Ana Lima" in page
    assert 'name="amount"' not in page                                         # no form: a completion page
    assert client_for("kai").get(f"/tasks/{generic.id}").status_code == 404     # another center
    assert client_for("jansen").get(f"/tasks/{generic.id}").status_code == 404  # not the employer's task
    anonymous = client_for().get(f"/tasks/{generic.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client_for("ben").post(f"/tasks/{generic.id}", {}).status_code == 302
    assert db.session.get(HumanTask, generic.id).state == "completed"


def test_an_employer_on_a_generic_page_sees_the_documentation_but_not_the_case_data(people, client_for):
    deploy.deploy([("loan.bpmn", FORM_DATA.replace('camunda:assignee="demo"', 'camunda:candidateGroups="employer"')
                    .encode())])
    db.session.commit()
    case = cases.start_case("loan", center=people["center"], employer=people["firm"], subject="Ana Lima",
                            data={"customer": "Ana Lima"})
    first = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    cases.complete_task(first.id, {"amount": 2000, "kind": "a"}, actor=people["anna"])
    generic = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open"))
    page = text(client_for("jansen").get(f"/tasks/{generic.id}"))
    assert "Check the documents." in page and "data-task-data" not in page and "Ana Lima" not in page.split(
        "Check the documents.")[1]
    assert client_for("schmitz").get(f"/tasks/{generic.id}").status_code == 404    # another firm
