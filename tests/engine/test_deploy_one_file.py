"""Deploying one changed file on its own: its calls and references come from the deployed versions,
and the processes that use what it changes get new versions; a DMN deployed alone is versioned alone."""
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import cases, deploy
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import AuditEntry, DecisionVersion, Deployment, ProcessDefinition
from tests.conftest import deploy_bundle

ROOT = Path(__file__).resolve().parents[2]


def bundled(*names):
    return [(name, (ROOT / ("forms" if name.endswith(".form") else "bpmn") / name).read_bytes()) for name in names]


@pytest.fixture
def journeys(people):
    deploy_bundle(user=people["sara"])
    return people


def versions(key):
    return db.session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                              .order_by(ProcessDefinition.version)).all()


def test_a_bpmn_file_alone_resolves_its_calls_decisions_and_forms_against_the_deployed_versions(journeys):
    (name, xml), = bundled("worker_journey.bpmn")
    changed = xml.replace(b'camunda:dueDate="P7D"', b'camunda:dueDate="P10D"', 1)
    result = deploy.deploy([(name, changed)], user=journeys["sara"], note="Erstgespräch: 10 Tage")
    db.session.commit()
    assert [(d.key, d.version) for d in result.created] == [("worker_journey", 2), ("worker_journey_by_hire", 2)]
    assert "worker_path.dmn" in result.context and "worker_visa.bpmn" in result.context
    assert versions("worker_visa") == [1]            # context only: unchanged, no new version
    deployment = db.session.get(Deployment, result.deployment.id)
    assert deployment.note == "Erstgespräch: 10 Tage"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_kind == "deployment")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.action == "deploy" and entry.center_id == journeys["center"].id
    assert "worker_journey v2" in entry.changes["versions"]["new"]
    assert entry.changes["note"]["new"] == "Erstgespräch: 10 Tage"


def test_the_same_file_again_creates_nothing(journeys):
    result = deploy.deploy(bundled("worker_journey.bpmn"))
    assert result.created == [] and result.decisions == []


def test_a_dmn_alone_is_versioned_and_reaches_the_processes_that_evaluate_it(journeys):
    (name, xml), = bundled("worker_path.dmn")
    assert b"&gt;= 50700<" in xml
    result = deploy.deploy([(name, xml.replace(b"&gt;= 50700<", b"&gt;= 52000<"))])
    db.session.commit()
    assert [(d.key, d.version) for d in result.decisions] == [("worker_path", 2)]
    assert ("worker_journey", 2) in [(d.key, d.version) for d in result.created]
    assert versions("worker_recognition") == [1]       # evaluates other tables only


def test_a_dmn_deployed_alone_is_found_by_a_later_bpmn_deploy(people):
    deploy.deploy(bundled("recognition_body.dmn", "residence_path_facts.dmn"))
    db.session.commit()
    assert db.session.scalar(select(DecisionVersion.version).where(DecisionVersion.key == "recognition_body")) == 1
    forms = [f for f in bundled(*[p.name for p in (ROOT / "forms").glob("recognition_*.form")])]
    result = deploy.deploy(bundled("worker_recognition.bpmn") + forms)
    assert [d.key for d in result.created] == ["worker_recognition"]


def test_a_rejected_single_file_changes_nothing(journeys):
    (name, xml), = bundled("worker_journey.bpmn")
    broken = xml.replace(b'camunda:dueDate="P7D"', b'camunda:dueDate="${import os}"', 1)
    before = db.session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1))
    with pytest.raises(DeploymentRejected) as rejected:
        deploy.deploy([(name, broken)])
    db.session.rollback()
    assert any(p.element_id == "task_intake" for p in rejected.value.problems)
    assert db.session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1)) == before
    assert versions("worker_journey") == [1]


def test_running_cases_stay_on_their_version(journeys):
    case = cases.start_case("worker_journey", center=journeys["center"], subject="Ravi Kumar", actor=journeys["anna"],
                            data={})
    db.session.commit()
    (name, xml), = bundled("worker_journey.bpmn")
    deploy.deploy([(name, xml.replace(b'camunda:dueDate="P7D"', b'camunda:dueDate="P10D"', 1))])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(case), case.id).definition.version == 1


def test_a_form_alone_reaches_the_processes_that_use_it(journeys):
    (name, content), = bundled("worker_intake.form")
    result = deploy.deploy([(name, content.replace("Erstgespräch".encode(), "Erstes Gespräch".encode(), 1))])
    db.session.commit()
    assert [(f.key, f.version) for f in result.forms] == [("worker_intake", 2)]
    created = {d.key: d for d in result.created}
    assert "worker_journey" in created and "worker_visa" not in created
    assert created["worker_journey"].forms["worker_intake"] == result.forms[0].id


def test_files_read_only_for_context_are_not_stored_again(journeys):
    (name, xml), = bundled("worker_visa.bpmn")
    result = deploy.deploy([(name, xml.replace(b'camunda:priority="', b'camunda:priority="1', 1))])
    db.session.commit()
    stored = {f.name for f in db.session.get(Deployment, result.deployment.id).files}
    assert "worker_visa.bpmn" in stored and "worker_journey.bpmn" in stored      # the caller embeds the callee
    assert "worker_settling.bpmn" not in stored and "worker_path.dmn" not in stored
