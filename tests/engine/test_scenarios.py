"""Process tests (engine/scenarios.py): a scenario runs through the real engine on a scratch database."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from engine import clock, deploy, scenarios
from engine.db import db
from engine.models import Case, Deployment, HumanTask, ProcessDefinition, TimerStart
from tests.conftest import ROOT

BLUE_CARD = scenarios.scenario_files()["worker_blue_card.scenario.json"]


def bundled():
    return dict(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))


def scenario(**changes):
    data = json.loads(BLUE_CARD)
    data.update(changes)
    return {"s.scenario.json": json.dumps(data).encode()}


def test_a_passing_scenario_reports_path_deadlines_and_end_state_and_leaves_the_real_database_alone(ctx):
    before = clock.now()
    [result] = scenarios.run_scenarios(bundled(), scenarios={"blue.scenario.json": BLUE_CARD})
    assert result.passed and result.status == "completed" and result.open_tasks == []
    assert result.path[0] == "start_worker_journey" and "task_closure" in result.path
    assert result.path.index("task_intake") < result.path.index("task_path_confirm")
    assert {"element_id": "task_path_confirm", "kind": "task", "due_at": "2026-03-05T08:00:00+00:00"} \
        in result.deadlines
    assert any(d["element_id"] == "timer_checkin_1" and d["kind"] == "timer" for d in result.deadlines)
    # nothing of it is in the real database, and the real clock did not move with the scenario's
    assert db.session.query(Case).count() == 0 and db.session.query(ProcessDefinition).count() == 0
    assert clock.now() == before


def test_each_failed_expectation_is_reported_with_its_step(ctx):
    data = json.loads(BLUE_CARD)
    data["steps"][2]["expect"]["data"]["salary_threshold"] = 48300
    data["steps"][2]["expect"]["due"] = {"task_path_confirm": "2026-03-04"}
    data["expect"]["status"] = "cancelled"
    [result] = scenarios.run_scenarios(bundled(), scenarios={"s.scenario.json": json.dumps(data).encode()})
    assert not result.passed
    assert [str(f) for f in result.failures] == [
        "Schritt 3: salary_threshold sollte 48300 sein, ist 50700",
        "Schritt 3: „task_path_confirm“ sollte am 2026-03-04 fällig sein, fällig: 2026-03-05",
        "Ende: Status sollte cancelled sein, ist completed"]
    with force_locale("en"):
        assert [str(f) for f in result.failures] == [
            "Step 3: salary_threshold should be 48300, is 50700",
            "Step 3: “task_path_confirm” should be due on 2026-03-04, due: 2026-03-05",
            "End: the status should be cancelled, is completed"]
    assert result.as_dict()["failures"][0] == "Schritt 3: salary_threshold sollte 48300 sein, ist 50700"


def test_a_task_that_is_not_open_stops_the_scenario_and_says_what_is_open(ctx):
    data = json.loads(BLUE_CARD)
    data["steps"].insert(1, {"complete": "task_visa_prepare", "data": {}})
    [result] = scenarios.run_scenarios(bundled(), scenarios={"s.scenario.json": json.dumps(data).encode()})
    assert [str(f) for f in result.failures] == ["Schritt 2: „task_visa_prepare“ ist nicht offen (offen: task_intake)"]
    assert result.status == "active" and result.open_tasks == ["task_intake"]


def test_a_draft_runs_without_being_deployed_and_its_change_shows(ctx):
    files = bundled()
    source = files["worker_journey.bpmn"].decode()
    start = source.index('<bpmn:userTask id="task_path_confirm"')
    end = source.index(">", start)
    tag = source[start:end]
    files["worker_journey.bpmn"] = source.replace(tag, tag.replace('camunda:dueDate="P3D"', 'camunda:dueDate="P5D"')).encode()
    [result] = scenarios.run_scenarios(files, scenarios={"blue.scenario.json": BLUE_CARD})
    assert [str(f) for f in result.failures] == [
        "Schritt 3: „task_path_confirm“ sollte am 2026-03-05 fällig sein, fällig: 2026-03-07"]
    assert db.session.query(ProcessDefinition).count() == 0


def test_a_draft_that_does_not_deploy_fails_every_scenario_with_the_problems(ctx):
    files = bundled()
    files["worker_journey.bpmn"] = b"<definitions"
    later = dict(json.loads(BLUE_CARD), start_at="2027-01-04T08:00:00+00:00")
    results = scenarios.run_scenarios(files, scenarios={"blue.scenario.json": BLUE_CARD, **scenario(),
                                                        "later.scenario.json": json.dumps(later).encode()})
    assert [r.file for r in results] == ["blue.scenario.json", "later.scenario.json", "s.scenario.json"]
    for result in results:
        assert result.failures and str(result.failures[0]).startswith(
            "Die Dateien lassen sich nicht bereitstellen: worker_journey.bpmn")
        assert result.status == "" and result.path == []


def test_each_scenario_of_a_run_starts_from_a_deployment_at_its_own_start_time_and_sees_no_other_scenario(
        ctx, monkeypatch):
    from tests.engine.test_camunda_dialect import diagram, flow
    daily = diagram("daily", '<bpmn:startEvent id="tomorrow"><bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"'
                             '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>'
                    + flow("f1", "tomorrow", "t") + '<bpmn:userTask id="t" camunda:candidateGroups="advisor"/>'
                    + flow("f2", "t", "e") + '<bpmn:endEvent id="e"/>')
    simple = diagram("simple", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "t")
                     + '<bpmn:userTask id="t" camunda:candidateGroups="advisor"/>' + flow("f2", "t", "e")
                     + '<bpmn:endEvent id="e"/>')
    starts = {"a": "2026-03-02T08:00:00+00:00", "b": "2027-05-01T10:30:00+00:00", "c": "2026-03-02T08:00:00+00:00"}
    stored = {f"{name}.scenario.json": json.dumps({"process": "simple", "name": name, "start_at": at, "data": {"n": 1},
                                                   "steps": [{"advance": "P3D"}, {"complete": "t", "data": {"n": 2}}],
                                                   "expect": {"status": "completed", "data": {"n": 2}}}).encode()
              for name, at in starts.items()}
    seen = {}
    start = scenarios._Run.start

    def noting_start(run, scenario):
        """What the scenario's database holds when its case starts."""
        seen[scenario["name"]] = (clock.now(), db.session.scalar(select(Deployment.created_at)),
                                  db.session.scalars(select(TimerStart.next_at)).all(),
                                  db.session.query(Case).count(), db.session.query(HumanTask).count())
        start(run, scenario)
    monkeypatch.setattr(scenarios._Run, "start", noting_start)
    results = scenarios.run_scenarios({"daily.bpmn": daily.encode(), "simple.bpmn": simple.encode()}, scenarios=stored)
    assert [(r.name, r.passed, r.status) for r in results] == [("a", True, "completed"), ("b", True, "completed"),
                                                               ("c", True, "completed")]
    for name, at in starts.items():
        at = datetime.fromisoformat(at)
        # the timer start's schedule is computed from the scenario's own start, no case of another is there
        assert seen[name] == (at, at, [at + timedelta(days=1)], 0, 0)
    assert results[0].as_dict() == {**results[2].as_dict(), "file": "a.scenario.json", "name": "a"}


def test_scenarios_are_chosen_by_process_and_taken_from_the_file_set(ctx):
    files = bundled()
    files["mine.scenario.json"] = BLUE_CARD
    assert [r.file for r in scenarios.run_scenarios(files)] == ["mine.scenario.json"]
    assert scenarios.run_scenarios(files, process_key="employer_journey") == []


@pytest.mark.parametrize("content, message", [
    (b"{", "s.scenario.json: kein gültiges JSON"),
    (b"[]", "s.scenario.json: ein Szenario ist ein Objekt mit \"process\""),
    (json.dumps({"process": "p", "steps": [{"advance": "12 days"}]}).encode(),
     "s.scenario.json, Schritt 1: \"advance\" braucht eine ISO-8601-Dauer wie P12D oder PT2H, nicht „12 days“"),
    (json.dumps({"process": "p", "steps": [{"complete": "a", "advance": "P1D"}]}).encode(),
     "s.scenario.json, Schritt 1: ein Schritt hat genau eins von"),
    (json.dumps({"process": "p", "expect": {"opened": []}}).encode(),
     "s.scenario.json, expect: unbekannte Erwartung opened"),
])
def test_a_scenario_file_that_cannot_run_is_refused_with_where(ctx, content, message):
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.run_scenarios({}, scenarios={"s.scenario.json": content})
    assert str(refused.value).startswith(message)


def test_the_private_clock_is_this_threads_only(ctx):
    import threading
    seen = {}
    with clock.private(datetime(2030, 1, 1, tzinfo=timezone.utc)):
        clock.advance(__import__("datetime").timedelta(days=2))
        thread = threading.Thread(target=lambda: seen.update(other=clock.now()))
        thread.start()
        thread.join()
        assert clock.now() == datetime(2030, 1, 3, tzinfo=timezone.utc)
    assert seen["other"].year != 2030


def test_a_step_that_fails_in_the_diagram_is_reported_as_the_incident_the_case_would_have(ctx):
    from tests.conftest import fixture_files
    scenario = {"process": "divide", "data": {"total": 10, "parts": 0},
                "expect": {"open": ["check"], "reached": ["run"]}}
    [result] = scenarios.run_scenarios(dict(fixture_files("divide.bpmn")),
                                       scenarios={"d.scenario.json": json.dumps(scenario).encode()})
    assert result.status == "active" and result.open_tasks == []
    assert [str(f) for f in result.failures] == [
        "Ende: offen sein sollten ['check'], offen sind []",
        "Ende: „run“ sollte erreicht sein, ist es aber nicht",
        "Der Fall ist an „Skript“ (run) gescheitert: ZeroDivisionError: division by zero"]


def test_running_inside_a_request_leaves_the_requests_database_session_alone(ctx):
    from engine import users
    users.get_organisation("center", "Welcome Center Aachen", code="AC")
    db.session.commit()
    with ctx.test_request_context("/processes/worker_journey/draft"):
        [result] = scenarios.run_scenarios(bundled(), scenarios={"blue.scenario.json": BLUE_CARD})
        assert result.passed
        from engine.models import Organisation
        assert [o.code for o in db.session.query(Organisation).all()] == ["AC"]


def test_a_draft_of_one_file_runs_with_the_deployed_rest_whatever_its_name(ctx):
    deploy.deploy(list(bundled().items()))
    db.session.commit()
    source = bundled()["worker_journey.bpmn"].replace(
        b'camunda:dueDate="P3D" camunda:formRef="worker_path_confirm"',
        b'camunda:dueDate="P5D" camunda:formRef="worker_path_confirm"')
    files = scenarios.with_deployed({"my draft.bpmn": source})
    assert "worker_journey.bpmn" not in files and files["my draft.bpmn"] == source
    assert "worker_visa.bpmn" in files and "worker_path.dmn" in files and "worker_intake.form" in files
    results = scenarios.run_scenarios(files, process_key="worker_journey")
    assert {r.file for r in results} == {"worker_blue_card.scenario.json", "worker_appointment_escalation.scenario.json"}
    assert all("2026-03-07" in str(r.failures[0]) for r in results)
    assert scenarios.run_scenarios(scenarios.with_deployed({}), process_key="employer_journey")[0].passed
