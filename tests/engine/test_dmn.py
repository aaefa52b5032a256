"""DMN as Camunda users write it: FEEL cells, hit policies, DRDs, result mappings, errors naming table and rule."""
import pytest
from lxml import etree
from sqlalchemy import select

from engine import cases, deploy, dmn, state
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import Case, Incident

NAMESPACES = {"1.1": "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
              "1.2": "http://www.omg.org/spec/DMN/20180521/MODEL/",
              "1.3": "https://www.omg.org/spec/DMN/20191111/MODEL/"}


def table(rules, hit_policy="UNIQUE", aggregation=None, inputs=(("amount", "number"),), outputs=("grade",),
          decision_id="grading", output_values=None, namespace="1.3", extra=""):
    aggregation_attr = f' aggregation="{aggregation}"' if aggregation else ""
    ins = "".join(f'<input id="in{i}" label="{expr}"><inputExpression id="ie{i}" typeRef="{kind}"><text>{expr}</text>'
                  '</inputExpression></input>' for i, (expr, kind) in enumerate(inputs))
    values = f"<outputValues id='ov'><text>{output_values}</text></outputValues>" if output_values else ""
    outs = "".join(f'<output id="out{i}" name="{name}" typeRef="string">{values if i == 0 else ""}</output>'
                   for i, name in enumerate(outputs))
    body = ""
    for number, (tests, results) in enumerate(rules, start=1):
        body += f'<rule id="r{number}">' + "".join(
            f'<inputEntry id="r{number}i{i}"><text>{t}</text></inputEntry>' for i, t in enumerate(tests)) + "".join(
            f'<outputEntry id="r{number}o{i}"><text>{o}</text></outputEntry>' for i, o in enumerate(results)) + "</rule>"
    return (f'<definitions xmlns="{NAMESPACES[namespace]}" id="d" name="d" namespace="http://camunda.org/schema/1.0/dmn">'
            f'<decision id="{decision_id}" name="{decision_id}"><decisionTable id="t_{decision_id}" '
            f'hitPolicy="{hit_policy}"{aggregation_attr}>{ins}{outs}{body}</decisionTable></decision>{extra}'
            '</definitions>')


def engine_of(text, decision_id="grading"):
    decisions = dmn.read(etree.fromstring(text.encode()), "t.dmn")
    assert dmn.check(decisions) == []
    return dmn.DecisionEngine(decision_id, decisions)


GRADES = [(["&gt;= 90"], ['"A"']), (["[75..90["], ['"B"']), (["&lt; 75"], ['"C"'])]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_feel_unary_tests_in_each_dmn_version(namespace):
    engine = engine_of(table(GRADES, namespace=namespace))
    assert [engine.evaluate({"amount": a}) for a in (95, 90, 89.5, 75, 10)] == [
        [{"grade": "A"}], [{"grade": "A"}], [{"grade": "B"}], [{"grade": "B"}], [{"grade": "C"}]]


@pytest.mark.parametrize("test, value, matches", [
    ('"a","b"', "b", True), ('"a","b"', "c", False), ('not("a","b")', "c", True), ("-", "x", True),
    ("", None, True), ("true", True, True), ("false", True, False), ("null", None, True),
    ("[1..8]", 8, True), ("]1..8[", 1, False), ("(1..8)", 5, True), ("&gt; 3, &lt; 0", -1, True),
    ('&gt;= date("2027-03-01")', "2027-03-02", True), ('&lt; date("2027-03-01")', "2027-03-02", False),
    ("not(&lt; 5)", 7, True), ("limit", 5, True), ("? &gt; limit", 6, True),
])
def test_one_input_entry(test, value, matches):
    kind = "date" if "date(" in test else "string"
    engine = engine_of(table([([test], ['"yes"'])], inputs=(("value", kind),), outputs=("hit",)), "grading")
    assert (engine.evaluate({"value": value, "limit": 5}) == [{"hit": "yes"}]) is matches


@pytest.mark.parametrize("policy, aggregation, expected", [
    ("FIRST", None, [{"grade": "small"}]),
    ("RULE ORDER", None, [{"grade": "small"}, {"grade": "medium"}, {"grade": "large"}]),
    ("COLLECT", None, [{"grade": "small"}, {"grade": "medium"}, {"grade": "large"}]),
    ("COLLECT", "COUNT", [{"grade": 3}]),
    ("PRIORITY", None, [{"grade": "large"}]),
    ("OUTPUT ORDER", None, [{"grade": "large"}, {"grade": "medium"}, {"grade": "small"}]),
])
def test_hit_policies(policy, aggregation, expected):
    rules = [(["&gt; 1"], ['"small"']), (["&gt; 2"], ['"medium"']), (["&gt; 3"], ['"large"'])]
    engine = engine_of(table(rules, policy, aggregation, output_values='"large","medium","small"'))
    assert engine.evaluate({"amount": 10}) == expected


@pytest.mark.parametrize("aggregation, expected", [("SUM", 60), ("MIN", 10), ("MAX", 30)])
def test_collect_aggregations(aggregation, expected):
    rules = [(["&gt; 1"], ["10"]), (["&gt; 2"], ["20"]), (["&gt; 3"], ["30"]), (["&gt; 100"], ["1000"])]
    assert engine_of(table(rules, "COLLECT", aggregation)).evaluate({"amount": 10}) == [{"grade": expected}]


def test_unique_and_any_say_which_rules_collide():
    rules = [(["&gt; 1"], ['"x"']), (["&gt; 2"], ['"y"'])]
    with pytest.raises(dmn.DecisionError, match=r"decision 'grading' \(table 't_grading'\): rules 1, 2 all match"):
        engine_of(table(rules)).evaluate({"amount": 5})
    with pytest.raises(dmn.DecisionError, match="rules 1, 2 match with different outputs"):
        engine_of(table(rules, "ANY")).evaluate({"amount": 5})
    assert engine_of(table([(["&gt; 1"], ['"x"']), (["&gt; 2"], ['"x"'])], "ANY")).evaluate({"amount": 5}) == [
        {"grade": "x"}]


def test_a_cell_feel_cannot_read_is_refused_naming_table_rule_and_input():
    decisions = dmn.read(etree.fromstring(table([(["&gt;= 90"], ['"A"']), (["[1..]"], ['"B"'])]).encode()), "t.dmn")
    [problem] = dmn.check(decisions)
    assert problem.startswith("decision 'grading' (table 't_grading'), rule 2 (r2), input 'amount': '[1..]'")


@pytest.mark.parametrize("mapping, value", [
    ("singleEntry", "A"), ("singleResult", {"grade": "A"}), ("collectEntries", ["A"]), ("resultList", [{"grade": "A"}]),
])
def test_result_mappings(mapping, value):
    assert dmn.map_result([{"grade": "A"}], mapping, "task") == value


def test_result_mappings_refuse_what_does_not_fit():
    with pytest.raises(dmn.DecisionError, match="singleResult needs at most one"):
        dmn.map_result([{"a": 1}, {"a": 2}], "singleResult", "task")
    with pytest.raises(dmn.DecisionError, match="needs a table with one output"):
        dmn.map_result([{"a": 1, "b": 2}], "collectEntries", "task")


# --- through the engine ---------------------------------------------------------------------------------

BPMN = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="b" targetNamespace="x"><bpmn:process id="grade" '
        'isExecutable="true"><bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide"/>'
        '<bpmn:businessRuleTask id="decide" camunda:decisionRef="{ref}" {attrs}/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="e"/><bpmn:endEvent id="e"/></bpmn:process>'
        '</bpmn:definitions>')

DRD = ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">'
       '<decision id="discount" name="Discount"><informationRequirement><requiredDecision href="#tier"/>'
       '</informationRequirement><decisionTable id="t_discount" hitPolicy="FIRST"><input id="i1"><inputExpression id="e1" '
       'typeRef="string"><text>tier</text></inputExpression></input><output id="o1" name="discount" typeRef="number"/>'
       '<rule id="a"><inputEntry id="a1"><text>"gold"</text></inputEntry><outputEntry id="a2"><text>0.1 * total'
       '</text></outputEntry></rule><rule id="b"><inputEntry id="b1"><text>-</text></inputEntry><outputEntry id="b2">'
       '<text>0</text></outputEntry></rule></decisionTable></decision>'
       '<decision id="tier" name="Tier"><decisionTable id="t_tier" hitPolicy="FIRST"><input id="i2"><inputExpression '
       'id="e2" typeRef="number"><text>total</text></inputExpression></input><output id="o2" name="tier" '
       'typeRef="string"/><rule id="c"><inputEntry id="c1"><text>&gt;= 1000</text></inputEntry><outputEntry id="c2">'
       '<text>"gold"</text></outputEntry></rule><rule id="rd"><inputEntry id="d1"><text>-</text></inputEntry>'
       '<outputEntry id="d2"><text>"basic"</text></outputEntry></rule></decisionTable></decision></definitions>')


def run_case(people, ref, attrs, dmn_text, data):
    deploy.deploy([("grade.bpmn", BPMN.format(ref=ref, attrs=attrs).encode()), ("t.dmn", dmn_text.encode())])
    db.session.commit()
    case_id = cases.start_case("grade", center=people["center"], data=data).id
    db.session.expire_all()
    state.spec_cache.clear()
    case = db.session.get(Case, case_id)
    from engine import casedata
    return case, casedata.current(state.load(case))


def test_a_drd_decides_what_it_requires_first(people):
    case, data = run_case(people, "discount", 'camunda:resultVariable="discount" camunda:mapDecisionResult="singleEntry"',
                          DRD, {"total": 2000})
    assert case.status == "completed" and data["discount"] == 200


def test_outputs_become_variables_without_a_result_variable(people):
    case, data = run_case(people, "grading", "", table(GRADES), {"amount": 80})
    assert case.status == "completed" and data["grade"] == "B"


def test_a_failing_decision_is_an_incident_naming_table_and_rules(people):
    rules = [(["&gt; 1"], ['"x"']), (["&gt; 2"], ['"y"'])]
    case, _ = run_case(people, "grading", "", table(rules), {"amount": 5})
    assert case.has_incident
    message = db.session.scalar(select(Incident.message).where(Incident.case_id == case.id))
    assert "decision 'grading' (table 't_grading'): rules 1, 2 all match" in message


def test_a_bad_table_refuses_the_deployment_naming_table_and_rule(ctx):
    bad = table([(["&gt;= 90"], ['"A"']), (["&gt;="], ['"B"'])])
    with pytest.raises(DeploymentRejected) as caught:
        deploy.deploy([("grade.bpmn", BPMN.format(ref="grading", attrs="").encode()), ("t.dmn", bad.encode())])
    assert "t.dmn: decision 'grading' (table 't_grading'), rule 2 (r2), input 'amount'" in str(caught.value.problems[0])

