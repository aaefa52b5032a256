"""Deploy checks reach every element at every depth: embedded subprocesses and DMN input entries
(issue 14, item 10). Before, such diagrams deployed and then failed at run time (an incident, or a 500
StringDataRightTruncation on PostgreSQL at case start)."""
import pytest

from engine import cases, deploy
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import ProcessDefinition
from tests.conftest import fixture_files
from tests.security.conftest import BPMN_NS


def nested(inner, depth=1):
    """A process whose user task `outer_task` is followed by `inner` wrapped in `depth` embedded subprocesses."""
    body = inner
    for level in range(depth, 0, -1):
        body = (f'<bpmn:subProcess id="sub{level}"><bpmn:startEvent id="sub{level}_start"/>'
                f'<bpmn:sequenceFlow id="sub{level}_f1" sourceRef="sub{level}_start" targetRef="{_first(body)}"/>'
                f'{body}<bpmn:sequenceFlow id="sub{level}_f2" sourceRef="{_last(body)}" targetRef="sub{level}_end"/>'
                f'<bpmn:endEvent id="sub{level}_end"/></bpmn:subProcess>')
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {BPMN_NS} id="defs_nested">'
           f'<bpmn:process id="nested" isExecutable="true"><bpmn:startEvent id="start"/>'
           f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub1"/>{body}'
           f'<bpmn:sequenceFlow id="f2" sourceRef="sub1" targetRef="end"/><bpmn:endEvent id="end"/>'
           f'</bpmn:process></bpmn:definitions>')
    return [("nested.bpmn", xml.encode())]


def _first(body):
    return body.split('id="', 1)[1].split('"', 1)[0]


def _last(body):
    return _first(body) if body.startswith("<bpmn:subProcess") else body.rsplit('id="', 1)[1].split('"', 1)[0]


def rejected(files):
    with pytest.raises(DeploymentRejected) as info:
        deploy.deploy(files)
    assert db.session.query(ProcessDefinition).count() == 0
    return info.value.problems


@pytest.mark.parametrize("depth", [1, 2])
def test_hostile_script_inside_a_subprocess_is_refused(ctx, depth):
    problems = rejected(nested('<bpmn:scriptTask id="deep_script" scriptFormat="python">'
                               '<bpmn:script>x = ().__class__</bpmn:script></bpmn:scriptTask>', depth))
    assert [(p.file, p.element_id) for p in problems] == [("nested.bpmn", "deep_script")]
    assert "cannot run" in problems[0].message and '"_"' in problems[0].message


def test_values_too_long_inside_a_subprocess_are_refused(ctx):
    name = "Unterlagen " * 30
    problems = rejected(nested(f'<bpmn:userTask id="deep_task" name="{name}" camunda:candidateGroups="advisor"/>', 2))
    assert [(p.element_id, p.message.split(" is ")[0]) for p in problems] == [("deep_task", "name")]
    assert "at most 255" in problems[0].message


def test_a_valid_subprocess_deploys_and_runs(people, ctx):
    deploy.deploy(nested('<bpmn:userTask id="deep_task" name="Prüfen" camunda:candidateGroups="advisor"/>', 2))
    db.session.commit()
    case = cases.start_case("nested", center=people["center"], actor=people["anna"])
    assert not case.has_incident


def _decision(entry):
    """A process that runs the decision path_decision, whose first rule's input entry is `entry`."""
    bpmn = (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {BPMN_NS} id="defs_decider">'
            f'<bpmn:process id="decider" isExecutable="true"><bpmn:startEvent id="start"/>'
            f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>'
            f'<bpmn:businessRuleTask id="decide" camunda:decisionRef="path_decision"/>'
            f'<bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/><bpmn:endEvent id="end"/>'
            f'</bpmn:process></bpmn:definitions>')
    (name, dmn), = fixture_files("path_decision.dmn")
    return [("decider.bpmn", bpmn.encode()), (name, dmn.replace(b"<text>&gt;= 48300</text>", entry.encode()))]


@pytest.mark.parametrize("entry, reason", [
    ("<text>&gt;= salary.__class__</text>", '"_"'),
    ("<text>? &lt; __import__('os')</text>", '"_"'),
    ("<text>&gt;= 48300)</text>", "unexpected )"),
])
def test_hostile_or_broken_dmn_input_entry_is_refused(ctx, entry, reason):
    # A FEEL table (engine.dmn) names table, rule and input; one in the Python reading (a '-quoted text marks it)
    # is compiled by the sandbox and names the element path. Either way the cell is refused at deploy.
    problems = rejected(_decision(entry))
    assert len(problems) == 1, problems
    assert "(table 'path_table'), rule 1 (r_blue), input 'Gehalt'" in problems[0].message or \
        problems[0].element_id == "decide → path_table/r_blue", problems[0].message
    assert reason in problems[0].message


def test_valid_dmn_input_entries_deploy_and_decide(people, ctx):
    deploy.deploy(_decision("<text>&gt;= 48300</text>"))
    db.session.commit()
    case = cases.start_case("decider", center=people["center"], data={"salary": 50000}, actor=people["anna"])
    assert not case.has_incident and case.status == "completed"
