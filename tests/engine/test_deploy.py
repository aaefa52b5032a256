"""Deployment: validated as a whole, versioned, immutable; a rejected set stores nothing."""
import pytest
from sqlalchemy import func, select

from engine import deploy
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import Deployment, FormVersion, ProcessDefinition
from tests.conftest import fixture_files


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_valid_set_creates_versions_and_same_content_creates_none(deploy_fixture):
    first = deploy_fixture("onboarding.bpmn", "intake_form.form")
    assert [(d.key, d.version) for d in first.created] == [("onboarding", 1)]
    assert [f.key for f in first.forms] == ["intake_form"]
    assert first.created[0].forms == {"intake_form": first.forms[0].id}

    again = deploy_fixture("onboarding.bpmn", "intake_form.form")
    assert again.created == [] and [d.version for d in again.unchanged] == [1]
    assert count(ProcessDefinition) == 1 and count(FormVersion) == 1


def test_changed_content_creates_a_new_version_and_keeps_the_old(deploy_fixture):
    deploy_fixture("onboarding.bpmn", "intake_form.form")
    changed = fixture_files("onboarding.bpmn")[0][1].replace(b'camunda:priority="70"', b'camunda:priority="90"')
    result = deploy.deploy([("onboarding.bpmn", changed)])
    db.session.commit()
    assert [(d.key, d.version) for d in result.created] == [("onboarding", 2)]
    versions = db.session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == "onboarding")
                                  .order_by(ProcessDefinition.version)).all()
    assert versions == [1, 2]


def test_call_activity_and_decision_resolved_across_files(deploy_fixture):
    result = deploy_fixture("caller.bpmn", "callee.bpmn", "path_decision.dmn")
    by_key = {d.key: d for d in result.created}
    assert set(by_key) == {"caller", "callee"}
    assert by_key["caller"].startable and not by_key["callee"].startable


def rejected(*names, files=None):
    before = (count(Deployment), count(ProcessDefinition), count(FormVersion))
    with pytest.raises(DeploymentRejected) as info:
        deploy.deploy(files or fixture_files(*names))
    db.session.rollback()
    assert (count(Deployment), count(ProcessDefinition), count(FormVersion)) == before, "a rejection stored something"
    return info.value.problems


def test_missing_called_process_is_named(ctx):
    problems = rejected("caller.bpmn", "path_decision.dmn")
    assert any(p.file == "caller.bpmn" and "callee" in p.message for p in problems), problems


def test_missing_decision_is_named(ctx):
    problems = rejected("caller.bpmn", "callee.bpmn")
    assert any("path_decision" in p.message for p in problems), problems


def test_missing_form_and_bad_due_date_name_the_element(ctx):
    problems = rejected("bad_form_ref.bpmn")
    messages = {(p.element_id, p.message.split(" ")[0]) for p in problems}
    assert ("ask", "form") in messages
    assert any(p.element_id == "ask" and "camunda:dueDate" in p.message for p in problems)


def test_one_bad_file_rejects_the_whole_set(deploy_fixture):
    problems = rejected("onboarding.bpmn", "intake_form.form", "hostile_import.bpmn")
    assert [(p.file, p.element_id) for p in problems] == [("hostile_import.bpmn", "run")]
    assert count(ProcessDefinition) == 0


def test_xml_entities_and_dtds_are_refused(ctx):
    problems = rejected("xxe.bpmn")
    assert "unsafe XML" in problems[0].message
    assert "root:" not in str(problems[0])


def test_malformed_xml_names_file_and_line(ctx):
    problems = rejected("malformed.bpmn")
    assert problems[0].file == "malformed.bpmn" and problems[0].line


def test_unknown_file_type_and_empty_set(ctx):
    assert "not a .bpmn" in rejected(files=[("notes.txt", b"hello")])[0].message
    with pytest.raises(DeploymentRejected):
        deploy.deploy([])


@pytest.mark.parametrize("name, element", [("hostile_import.bpmn", "run"), ("hostile_subclasses.bpmn", "run"),
                                           ("hostile_globals.bpmn", "run"), ("hostile_condition.bpmn", "f_yes")])
def test_hostile_code_is_rejected_at_deploy_with_element_id(ctx, name, element):
    problems = rejected(name)
    assert problems[0].element_id == element
    assert "starts with \"_\"" in problems[0].message


def test_values_too_long_to_store_are_rejected_at_deploy_with_element_id(ctx):
    """PostgreSQL enforces the column sizes the task rows copy these into: without the check the diagram
    would deploy and every case would fail when it reaches the task."""
    content = fixture_files("onboarding.bpmn", "intake_form.form")
    bpmn = content[0][1].replace('name="Erstgespräch führen"'.encode(), ('name="' + "Erstgespräch " * 30 + '"').encode())
    bpmn = bpmn.replace(b'camunda:candidateGroups="supervisor"', b'camunda:candidateGroups="' + b"g" * 81 + b'"')
    problems = rejected(files=[("onboarding.bpmn", bpmn), content[1]])
    assert sorted((p.element_id, p.message.split(" is ")[0]) for p in problems) == [
        ("intake", "name"), ("review", "camunda:candidateGroups entry")], problems
    assert all("at most" in p.message for p in problems)
