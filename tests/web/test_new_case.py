""""Neuer Fall": only processes meant to be started by a person are offered, each with what it is for,
and each one starts from its empty start form (or says what is missing), never into an error."""
import re

import pytest
from sqlalchemy import select

from engine import deploy
from engine.db import db
from engine.models import Case, HumanTask, Incident, ProcessDefinition

from tests.conftest import fixture_files
from tests.scenarios.driver import ROOT


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def bundle(people):
    result = deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    db.session.commit()
    return result


def test_only_the_journeys_are_offered_with_their_purpose(bundle, client_for):
    offered = sorted(d.key for d in bundle.created if d.startable)
    # the parts of a journey (called processes, the message-started one) expect a caller's data
    assert offered == ["employer_journey", "worker_journey"]
    html = text(client_for("anna").get("/cases/new"))
    links = set(re.findall(r'href="/cases/new/([a-z_]+)"', html))
    assert links == set(offered)
    assert "Begleitung eines Betriebs durch das Welcome Center" in html          # the process documentation
    assert "Begleitung einer internationalen Fachkraft" in html
    assert "<strong>" in html                                                  # rendered as Markdown
    for key in ("worker_arrival", "employer_referral_item", "worker_recognition", "worker_settling"):
        assert client_for("anna").get(f"/cases/new/{key}").status_code == 404


def test_every_offered_process_starts_from_its_empty_form_and_reaches_a_task(bundle, client_for):
    client = client_for("anna")
    offered = [d for d in bundle.created if d.startable]
    assert offered
    for definition in offered:
        assert client.get(f"/cases/new/{definition.key}").status_code == 200
        response = client.post(f"/cases/new/{definition.key}", {"_subject": f"Leer {definition.key}"})
        assert response.status_code in (302, 422), (definition.key, response.status_code)
        if response.status_code == 422:      # a clear form error, at a field
            assert "form-error-message" in text(response), definition.key
            continue
        case = db.session.scalar(select(Case).where(Case.subject == f"Leer {definition.key}"))
        assert case is not None and case.status == "active" and not case.has_incident, definition.key
        assert db.session.scalar(select(Incident).where(Incident.case_id == case.id)) is None, definition.key
        assert db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                         HumanTask.state == "open")) is not None, definition.key
        assert "wurde angelegt." in text(client.get(response.headers["Location"]))


def test_deploy_reads_the_startable_attribute_and_the_documentation(people):
    source = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
              b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
              b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://lotse.test">'
              b'<bpmn:process id="%s" isExecutable="true"%s><bpmn:documentation> Wozu er dient. </bpmn:documentation>'
              b'<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>'
              b'<bpmn:userTask id="t" camunda:candidateGroups="advisor"/></bpmn:process></bpmn:definitions>')
    result = deploy.deploy([("offered.bpmn", source % (b"offered", b"")),
                            ("part.bpmn", source % (b"part", b' camunda:isStartableInTasklist="false"'))])
    by_key = {d.key: d for d in result.created}
    assert by_key["offered"].startable and not by_key["part"].startable
    assert by_key["offered"].documentation == "Wozu er dient."


def test_a_start_whose_first_step_fails_is_not_reported_as_a_success(people, client_for):
    deploy.deploy(fixture_files("divide.bpmn"))      # its script divides by a variable no form sets
    db.session.commit()
    client = client_for("anna")
    response = client.post("/cases/new/divide", {"_subject": "Teilung"})
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"]))
    assert "ein Schritt ist fehlgeschlagen" in html and "wurde angelegt." not in html
    assert db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "divide")).startable
