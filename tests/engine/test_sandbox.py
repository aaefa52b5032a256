"""Scripts and expressions never reach the operating system, at deploy time or at run time."""
import os

import pytest
from sqlalchemy import select

from engine import cases, sandbox
from engine.db import db
from engine.models import Incident
from engine.sandbox import SandboxViolation

ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "today.__globals__['__builtins__']",
    "today.__code__",
    "getattr(today, '__globals__')",
    "[c for c in ().__class__.__mro__]",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_escapes_fail_in_expressions(source):
    with pytest.raises((SandboxViolation, NameError)):
        sandbox.evaluate(source, {})


@pytest.mark.parametrize("source", ["open('/etc/passwd').read()", "'{0.__class__}'.format(1)", "exec('1')",
                                    "eval('1')", "compile('1', 'x', 'exec')", "globals()", "vars()"])
def test_dangerous_builtins_are_absent_or_blocked(source):
    with pytest.raises(Exception) as info:
        sandbox.evaluate(source, {})
    assert not isinstance(info.value, SystemExit)


def test_module_attribute_escape_has_nothing_to_reach():
    # spiff-arena exposes modules such as `random`, whose `_os` reaches the shell; nothing here is a module.
    import types
    assert not [name for name, value in sandbox.HELPERS.items() if isinstance(value, types.ModuleType)]
    assert not [name for name, value in sandbox.BUILTINS.items() if isinstance(value, types.ModuleType)]
    with pytest.raises((SandboxViolation, NameError)):
        sandbox.evaluate("random._os.system('id')", {})


def test_ordinary_scripts_still_work():
    scope = {"items": [3, 1, 2], "person": {"name": "Ana"}}
    sandbox.script_engine.environment.execute(
        "total = sum(items)\nordered = sorted(items)\nlabel = f\"{person['name']}: {total}\"\n"
        "counts = {k: len(k) for k in ['a', 'bb']}\ntotal += 1\nfirst, *rest = ordered", scope)
    assert scope["total"] == 7 and scope["ordered"] == [1, 2, 3] and scope["label"] == "Ana: 6"
    assert scope["counts"] == {"a": 1, "bb": 2} and scope["rest"] == [2, 3]


def test_date_helpers():
    assert sandbox.add_duration("2026-01-31", "P14D") == "2026-02-14"
    assert sandbox.add_business_days("2026-12-23", 2) == "2026-12-28"   # 24th Thursday, 25/26 holidays, weekend
    assert sandbox.days_between("2026-01-01", "2026-03-01") == 59
    assert sandbox.subtract_duration("2026-06-30", "P28D") == "2026-06-02"


@pytest.mark.parametrize("name", ["hostile_open.bpmn", "hostile_format.bpmn"])
def test_runtime_blocked_call_becomes_an_incident(people, deploy_fixture, name, tmp_path):
    deploy_fixture(name)
    case = cases.start_case(name.removesuffix(".bpmn"), center=people["center"], actor=people["anna"])
    assert case.has_incident and case.status == "active"
    incident = db.session.scalar(select(Incident).where(Incident.case_id == case.id))
    assert incident.element_id == "run"
    assert incident.error_type in ("NameError", "NotImplementedError", "AttributeError")


@pytest.mark.parametrize("name, element", [("hostile_condition.bpmn", "gw"), ("hostile_import.bpmn", "run"),
                                           ("hostile_subclasses.bpmn", "run")])
def test_hostile_diagram_run_directly_fails_in_the_sandbox(name, element, tmp_path):
    """Skip deploy validation on purpose: even then the running engine refuses the code."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
    from engine.parsing import LotseParser, parse_xml
    from tests.conftest import FIXTURES

    parser = LotseParser()
    parser.add_bpmn_xml(parse_xml((FIXTURES / "bpmn" / name).read_bytes(), name), name)
    pid = name.removesuffix(".bpmn")
    workflow = BpmnWorkflow(parser.get_spec(pid), script_engine=sandbox.script_engine)
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.task.task_spec.bpmn_id == element
    assert isinstance(info.value.__context__, SandboxViolation)
    assert "starts with \"_\"" in str(info.value.__context__)
    assert not os.path.exists("/tmp/lotse-pwned")
