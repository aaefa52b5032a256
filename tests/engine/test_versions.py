"""Comparing two versions of a process and rolling back to an older one (engine/versions.py)."""
import pytest
from sqlalchemy import select

from engine import cases, deploy, versions
from engine.db import db
from engine.errors import InvalidData, NotFound
from engine.models import AuditEntry, ProcessDefinition
from tests.engine.test_migration import approval


@pytest.fixture
def three(people):
    for version in (approval(), approval(due="P5D", archive=True), approval(review_id="check", archive=True)):
        deploy.deploy([version])
        db.session.commit()
    return people


def ids(diffs):
    return sorted(d.element_id for d in diffs)


def test_compare_names_added_removed_and_changed_elements_with_what_changed(three):
    result = versions.compare("approval", 1, 2)
    assert ids(result.added) == ["archive", "f3"]
    assert result.removed == []
    changed = {d.element_id: d.details for d in result.changed}
    assert changed == {"review": ["camunda:dueDate: 'P2D' → 'P5D'"], "f2": ["targetRef: 'end' → 'archive'"]}
    assert [d.name for d in result.added if d.element_id == "archive"] == ["Ablegen"]

    renamed = versions.compare("approval", 2, 3)
    assert ids(renamed.added) == ["check"] and ids(renamed.removed) == ["review"]
    assert {d.element_id for d in renamed.changed} == {"f1", "f2", "late"}
    assert versions.compare("approval", 1, 1).same


def test_compare_sees_properties_documentation_and_timer_definitions(people):
    base = approval()[1].decode()
    deploy.deploy([("approval.bpmn", base.encode())])
    changed = base.replace('"P7D"', '"P14D"').replace(
        'camunda:dueDate="P2D"/>',
        'camunda:dueDate="P2D"><bpmn:documentation>Mit Belegen</bpmn:documentation><bpmn:extensionElements>'
        '<camunda:properties><camunda:property name="milestone" value="reviewed"/></camunda:properties>'
        '</bpmn:extensionElements></bpmn:userTask>')
    deploy.deploy([("approval.bpmn", changed.encode())])
    db.session.commit()
    details = {d.element_id: d.details for d in versions.compare("approval", 1, 2).changed}
    assert details == {"review": ["documentation: '' → 'Mit Belegen'", "property milestone: '' → 'reviewed'"],
                       "late": ["timerEventDefinition: '\"P7D\"' → '\"P14D\"'"]}


def test_rollback_deploys_the_old_version_again_as_the_newest(three):
    row = versions.rollback("approval", 1, actor=three["sara"])
    assert row.version == 4 and row.source_file_id == versions.definition("approval", 1).source_file_id
    assert versions.compare("approval", 1, 4).same
    case = cases.start_case("approval", center=three["center"], actor=three["anna"])
    assert case.definition.version == 4
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "process_rolled_back")).all()
    assert (entry.object_kind, entry.object_label, entry.actor_id) == ("process", "approval v4", three["sara"].id)
    # deploying the file of v1 again changes nothing: v4 already has that content
    result = deploy.deploy([approval()])
    assert [d.version for d in result.unchanged] == [4]


def test_rollback_of_the_newest_or_an_unknown_version_is_refused(three):
    with pytest.raises(InvalidData, match="v3 ist schon die neueste Version von approval"):
        versions.rollback("approval", 3)
    with pytest.raises(NotFound):
        versions.rollback("approval", 7)
    assert db.session.query(ProcessDefinition).count() == 3
