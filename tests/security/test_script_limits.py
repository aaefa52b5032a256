"""A diagram script has limits, and whatever it does is its case's incident and nothing more
(issue 14, items 2 and 3, and the non-JSON result). The case is reloaded from the database."""
import time

import pytest
from sqlalchemy import select

from engine import cases, sandbox
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import Case, Incident
from tests.security.conftest import script_process


def start(people, deploy_files, script, key="scripted"):
    deploy_files(script_process(key, script))
    case_id = cases.start_case(key, center=people["center"], actor=people["anna"]).id
    db.session.expire_all()
    return db.session.get(Case, case_id)


def incident_of(case) -> Incident:
    incident, = db.session.scalars(select(Incident).where(Incident.case_id == case.id)).all()
    return incident


@pytest.fixture
def limits(ctx, monkeypatch):
    """Small limits, so the tests are quick; the mechanism is the same at the defaults."""
    monkeypatch.setitem(ctx.config, "SCRIPT_CPU_SECONDS", 0.3)
    monkeypatch.setitem(ctx.config, "SCRIPT_MEMORY_MB", 64)
    monkeypatch.setitem(ctx.config, "CASE_DATA_KB", 256)
    return ctx.config


@pytest.mark.parametrize("script", [
    "while True: pass",
    "n = 0\nwhile True:\n    n += 1",
    "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(80)",
    "x = [i for i in range(999) for j in range(999) for k in range(999)]",
    "x = add_business_days('2026-01-05', 10 ** 9)",          # the time goes into a helper
    "while True:\n    try:\n        while True: pass\n    except Exception:\n        pass",
])
def test_cpu_time_limit_is_an_incident_naming_the_element(people, deploy_files, limits, script):
    limits["SCRIPT_CPU_SECONDS"] = 0.1      # each of these scripts spends all of it
    started = time.monotonic()
    case = start(people, deploy_files, script)
    assert time.monotonic() - started < 30              # 0.1 s of CPU; the machine may be busy
    incident = incident_of(case)
    assert case.status == "active" and case.has_incident
    assert (incident.element_id, incident.error_type) == ("run", "ScriptLimitExceeded")
    assert "CPU time limit" in incident.message and "0.1 s" in incident.message


@pytest.mark.parametrize("script, message", [
    ("x = [0] * 10 ** 8", "one operation would allocate about 762 MB"),
    ("x = 'a' * 10 ** 6\ny = ','.join([x] * 1000)", "one operation would allocate"),
    ("x = 'a' * 10 ** 6\ny = x.replace('a', x)", "one operation would allocate"),
    ("x = 'x'.center(10 ** 9)", "one operation would allocate"),
    ("x = (1).to_bytes(10 ** 9, 'big')", "one operation would allocate"),
    ("x = f'{1:>1000000000}'", "width or precision of 1000000000"),
    ("x = '%1000000000d' % 1", "width or precision of 1000000000"),
    ("x = 10 ** 10 ** 8", "integer of about 400000000 bits"),
    ("x = pow(7, 10 ** 9)", "integer of about"),
    ("x = 1 << 10 ** 10", "integer of about"),
    ("a = []\nwhile True:\n    a.append([0] * 10 ** 6)", "the script used more than 64 MB"),
    ("b = [0] * 10 ** 6\na = []\nwhile True:\n    a.append(list(b))", "the script used more than 64 MB"),
])
def test_memory_limit_is_an_incident_naming_the_element(people, deploy_files, limits, script, message):
    case = start(people, deploy_files, script)
    incident = incident_of(case)
    assert (incident.element_id, incident.error_type) == ("run", "ScriptLimitExceeded")
    assert message in incident.message, incident.message


def test_case_data_size_limit_is_an_incident_and_nothing_is_stored(people, deploy_files, limits):
    case = start(people, deploy_files, "note = 'x' * 300_000")
    incident = incident_of(case)
    assert (incident.element_id, incident.error_type) == ("run", "ScriptLimitExceeded")
    assert "case data limit" in incident.message and "'note'" in incident.message and "256 KB" in incident.message
    assert len(case.state) < 100_000


def test_the_defaults_apply_without_settings(ctx):
    assert sandbox.current_limits() == sandbox.Limits(cpu_seconds=2.0, memory_mb=256, case_data_kb=1024)
    with pytest.raises(sandbox.ScriptLimitExceeded, match="at most 256 MB"):
        sandbox.script_engine.environment.execute("x = [0] * 10 ** 8", {})


@pytest.mark.parametrize("script, problem", [
    ("x = range(5)", "x is a range"),
    ("x = {1, 2}", "x is a set"),
    ("x = {'a': [1, filter(None, [])]}", "x['a'][1] is a filter"),
    ("x = {'typename': 'date'}", "the key 'typename' is reserved"),
])
def test_a_result_that_cannot_be_stored_is_an_incident_and_the_case_starts(people, deploy_files, script, problem):
    case = start(people, deploy_files, script)
    incident = incident_of(case)
    assert case.status == "active" and case.reference.startswith("WC-AC-")
    assert (incident.element_id, incident.error_type) == ("run", "ScriptResultError")
    assert problem in incident.message


@pytest.mark.parametrize("script, error_type", [
    ("raise SystemExit", "ScriptAborted"),
    ("raise SystemExit(3)", "ScriptAborted"),
    ("raise GeneratorExit", "ScriptAborted"),
    ("raise BaseException('stop')", "ScriptAborted"),
    ("def stop():\n    raise SystemExit\nstop()", "ScriptAborted"),
    ("raise KeyboardInterrupt", "NameError"),      # not a script's to raise: Ctrl-C stays the operator's
])
def test_a_base_exception_is_an_incident(people, deploy_files, script, error_type):
    case = start(people, deploy_files, script)
    incident = incident_of(case)
    assert (incident.element_id, incident.error_type) == ("run", error_type)
    assert case.status == "active"


@pytest.mark.parametrize("script", [
    "try:\n    x = 1\nexcept:\n    x = 2",
    "try:\n    x = 1\nexcept BaseException:\n    x = 2",
    "try:\n    x = 1\nexcept (ValueError, SystemExit):\n    x = 2",
    "class Mine(Exception):\n    pass\ntry:\n    x = 1\nexcept Mine:\n    x = 2",
    "try:\n    x = 1\nfinally:\n    x = 2",
])
def test_code_that_could_outlast_a_limit_is_refused_at_deploy(ctx, deploy_files, script):
    with pytest.raises(DeploymentRejected) as info:
        deploy_files(script_process("scripted", script))
    problem, = info.value.problems
    assert problem.element_id == "run" and "cannot run" in problem.message


def test_ordinary_scripts_are_unaffected(ctx):
    scope = {"items": ["a", "b"], "n": 3}
    sandbox.script_engine.environment.execute(
        "label = ', '.join(items).upper()\nline = '-' * n + '%5.1f' % 2.5 + f'{n:>4}|{n!r:<3}|'\n"
        "big = 2 ** 64 * 3 + (1 << 10)\nn += 1\nparts = items + ['c']\nparts *= 2\n"
        "try:\n    missing\nexcept (NameError, KeyError):\n    missing = None\n"
        "padded = 'x'.rjust(5, '.')\nswapped = 'a-b'.replace('-', '+')", scope)
    assert scope["label"] == "A, B" and scope["line"] == "---  2.5   3|3  |" and scope["big"] == 2 ** 64 * 3 + 1024
    assert scope["n"] == 4 and scope["parts"] == ["a", "b", "c"] * 2 and scope["missing"] is None
    assert scope["padded"] == "....x" and scope["swapped"] == "a+b"
