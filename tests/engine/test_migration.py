"""Migrating running cases to another version of their process (engine/migration.py), reloading
every case from the database between steps."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, deploy, migration, state, versions as process_versions
from engine.db import db
from engine.errors import InvalidData, NotFound
from engine.models import AuditEntry, Case, CaseEvent, HumanTask, WaitingTimer
from tests.conftest import replayed


def _layout(review_id, archive, timer=True):
    """Diagram interchange (shapes and edges), so the browser can draw each version."""
    shapes = {"start": (100, 122, 36, 36), review_id: (190, 100, 100, 80), "end": (530 if archive else 380, 122, 36, 36)}
    edges = {"f1": [(136, 140), (190, 140)], "f2": [(290, 140), (380, 140)]}
    if timer:
        shapes.update(late=(222, 162, 36, 36), end_late=(222, 250, 36, 36))
        edges["f_late"] = [(240, 198), (240, 250)]
    if archive:
        shapes["archive"] = (380, 100, 100, 80)
        edges["f3"] = [(480, 140), (530, 140)]
    di = "".join(f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}"><dc:Bounds x="{x}" y="{y}" width="{w}" '
                 f'height="{h}"/></bpmndi:BPMNShape>' for e, (x, y, w, h) in shapes.items())
    di += "".join(f'<bpmndi:BPMNEdge id="{e}_di" bpmnElement="{e}">'
                  + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points) + "</bpmndi:BPMNEdge>"
                  for e, points in edges.items())
    return (f'<bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="approval">{di}'
            f'</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>')


def approval(review_id="review", due="P2D", archive=False, name="Antrag prüfen", timer=True):
    """A review with a 7-day boundary timer (unless `timer` is False); optionally an archive task after it."""
    boundary = f"""<bpmn:boundaryEvent id="late" name="Eine Woche vorbei" attachedToRef="{review_id}" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P7D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="end_late"/>
    <bpmn:endEvent id="end_late"/>""" if timer else ""
    after = "archive" if archive else "end"
    extra = ('<bpmn:userTask id="archive" name="Ablegen" camunda:candidateGroups="advisor"/>'
             '<bpmn:sequenceFlow id="f3" sourceRef="archive" targetRef="end"/>') if archive else ""
    return ("approval.bpmn", f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://lotse.test/bpmn">
  <bpmn:process id="approval" name="Freigabe" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{review_id}"/>
    <bpmn:userTask id="{review_id}" name="{name}" camunda:candidateGroups="advisor" camunda:dueDate="{due}"/>
    {boundary}
    <bpmn:sequenceFlow id="f2" sourceRef="{review_id}" targetRef="{after}"/>
    {extra}
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  {_layout(review_id, archive, timer)}
</bpmn:definitions>""".encode())


def reload():
    db.session.expire_all()
    state.spec_cache.clear()


@pytest.fixture
def versions(people):
    """approval v1; v2 adds an archive task and gives the review 5 days; v3 renames review to check (replayed
    where it can be)."""
    def setup():
        for version in (approval(), approval(due="P5D", archive=True), approval(review_id="check", archive=True)):
            deploy.deploy([version])
            db.session.commit()
    replayed("approval v1 to v3", setup)
    return people


def start(people, version=1):
    definition = process_versions.definition("approval", version)
    case = cases.start_case(definition, center=people["center"], actor=people["anna"], subject="Firma A")
    return case.id


def open_task(case_id):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open")).all()


def test_dry_run_lists_each_case_and_changes_nothing(versions):
    first, second = start(versions), start(versions)
    reload()
    plan = migration.plan("approval", 1, 2)
    assert [c.case_id for c in plan.cases] == [first, second] and all(c.ok for c in plan.cases)
    assert plan.cases[0].standing == ["“Antrag prüfen” (review)", "“Eine Woche vorbei” (late)"]
    assert "“Antrag prüfen” (review) ändert camunda:dueDate; was jetzt offen ist, behält Frist, Gruppen und " \
           "Bearbeitung." in [str(line) for line in plan.cases[0].changes]
    reload()
    assert {c.definition.version for c in db.session.scalars(select(Case))} == {1}


def test_a_migrated_case_runs_on_in_the_new_version_with_its_tasks_timers_and_log(versions):
    case_id = start(versions)
    reload()
    [task_before] = open_task(case_id)
    timer_before = db.session.scalar(select(WaitingTimer).where(WaitingTimer.case_id == case_id))
    due_before = (task_before.id, task_before.due_at, timer_before.due_at)
    clock.advance(timedelta(days=1))
    result = migration.migrate("approval", 1, 2, actor=versions["sara"])
    assert [c.migrated for c in result.cases] == [True]
    reload()
    case = db.session.get(Case, case_id)
    assert case.definition.version == 2
    [task] = open_task(case_id)
    timer = db.session.scalar(select(WaitingTimer).where(WaitingTimer.case_id == case_id))
    assert (task.id, task.due_at, timer.due_at) == due_before           # same task; deadlines kept
    [event] = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                         CaseEvent.kind == "case_migrated")).all()
    assert event.details["from"] == 1 and event.details["to"] == 2 and event.actor_id == versions["sara"].id
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case_migrated")).all()
    assert (entry.object_kind, entry.object_label, entry.center_id) == ("case", case.reference, case.center_id)
    assert entry.changes["version"] == {"old": 1, "new": 2}

    reload()
    cases.complete_task(task.id, {}, actor=versions["anna"])
    reload()
    [archive] = open_task(case_id)                # the element v2 added ahead of the case
    assert archive.element_id == "archive" and archive.process_name == "Freigabe"
    cases.complete_task(archive.id, {}, actor=versions["anna"])
    reload()
    assert db.session.get(Case, case_id).status == "completed"


def test_the_timer_of_a_migrated_case_still_fires(versions):
    case_id = start(versions)
    reload()
    migration.migrate("approval", 1, 2)
    reload()
    clock.advance(timedelta(days=8))
    cases.wake(case_id)
    reload()
    kinds = [e.kind for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                                .order_by(CaseEvent.id))]
    assert "timer_fired" in kinds and not db.session.scalars(
        select(WaitingTimer).where(WaitingTimer.case_id == case_id)).all()


def test_a_renamed_element_is_refused_without_a_mapping_and_moves_with_one(versions):
    case_id = start(versions)
    reload()
    [refused] = migration.plan("approval", 1, 3).cases
    assert not refused.ok
    assert [str(r) for r in refused.refusals] == [
        "Der Fall steht auf “Antrag prüfen” (review), das es in v3 nicht gibt (einem Element von v3 zuordnen: "
        "review=neue_id)."]
    result = migration.migrate("approval", 1, 3)
    assert result.cases[0].migrated is False
    reload()
    assert db.session.get(Case, case_id).definition.version == 1

    result = migration.migrate("approval", 1, 3, mapping={"review": "check"})
    assert result.cases[0].migrated and "“Antrag prüfen” (review) wird zu “Antrag prüfen” (check)." \
        in [str(line) for line in result.cases[0].changes]
    reload()
    [task] = open_task(case_id)
    assert task.element_id == "check"
    cases.complete_task(task.id, {}, actor=versions["anna"])
    reload()
    assert [t.element_id for t in open_task(case_id)] == ["archive"]


def test_back_to_an_older_version_is_refused_for_a_case_on_an_element_it_lacks(versions):
    """The other direction: v2 -> v1 for a case standing on the archive task v1 does not have."""
    deploy.deploy([approval(due="P5D", archive=True, name="Antrag prüfen (neu)")])      # v4 = v2 with a new name
    db.session.commit()
    on_v4 = start(versions, 4)
    reload()
    [review] = open_task(on_v4)
    cases.complete_task(review.id, {}, actor=versions["anna"])
    reload()
    [refused] = migration.migrate("approval", 4, 1).cases
    assert [str(r) for r in refused.refusals] == [
        "Der Fall steht auf “Ablegen” (archive), das es in v1 nicht gibt (einem Element von v1 zuordnen: "
        "archive=neue_id)."]
    reload()
    assert db.session.get(Case, on_v4).definition.version == 4
    assert [t.element_id for t in open_task(on_v4)] == ["archive"]


def test_a_removed_timer_refuses_the_cases_waiting_for_it_and_those_that_passed_its_task(versions):
    """Without the review's boundary timer: a case at the review waits for that timer; a case past the
    review has passed the engine's split for it. Both would lose history, so both stay."""
    deploy.deploy([approval(due="P5D", archive=True)])                      # v4 = v2
    deploy.deploy([approval(due="P5D", archive=True, timer=False)])         # v5: no timer
    db.session.commit()
    waiting, passed = start(versions, 4), start(versions, 4)
    reload()
    [review] = open_task(passed)
    cases.complete_task(review.id, {}, actor=versions["anna"])
    reload()
    result = migration.migrate("approval", 4, 5)
    by_case = {c.case_id: [str(r) for r in c.refusals] for c in result.cases}
    assert ("Der Fall steht auf “Eine Woche vorbei” (late), das es in v5 nicht gibt (einem Element von v5 "
            "zuordnen: late=neue_id).") in by_case[waiting]
    assert by_case[passed] == [
        "Der Fall hat “Antrag prüfen” (review) mit angehefteten Ereignissen durchlaufen; in v5 hat es keine mehr.",
        "Der Fall hat “Eine Woche vorbei” (late) durchlaufen, das es in v5 nicht gibt (einem Element von v5 "
        "zuordnen: late=neue_id)."]
    reload()
    assert {db.session.get(Case, c).definition.version for c in (waiting, passed)} == {4}


def test_a_case_the_engine_fails_to_move_stays_as_it_was_and_the_others_move(versions, monkeypatch):
    first, second = start(versions), start(versions)
    reload()
    real_move = migration._move

    def failing_for_the_first(change, *args):
        moved = real_move(change, *args)              # the workflow is changed in memory, then it fails
        if change.case.id == first:
            raise RuntimeError("disk full")
        return moved
    monkeypatch.setattr(migration, "_move", failing_for_the_first)
    result = migration.migrate("approval", 1, 2)
    assert [(c.case_id, c.migrated) for c in result.cases] == [(first, False), (second, True)]
    assert [str(r) for r in result.cases[0].refusals] == ["Der Fall lässt sich nicht umstellen: RuntimeError: disk full"]
    reload()
    assert [db.session.get(Case, c).definition.version for c in (first, second)] == [1, 2]
    assert not db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == first,
                                                          CaseEvent.kind == "case_migrated")).all()


def test_one_case_only_and_the_others_stay(versions):
    first, second = start(versions), start(versions)
    reload()
    migration.migrate("approval", 1, 2, case_id=second)
    reload()
    assert [db.session.get(Case, c).definition.version for c in (first, second)] == [1, 2]


def test_a_case_that_moved_on_since_the_dry_run_is_judged_as_it_is_now(versions, monkeypatch):
    case_id = start(versions)
    reload()
    real_plan = migration.plan
    dry = real_plan("approval", 1, 3, mapping={"review": "check"})
    # the dry run said yes; under the lock the case is checked again (here: against a mapping that fails)
    monkeypatch.setattr(migration, "plan", lambda *a, **k: dry)
    dry.mapping = {}
    [case] = migration.migrate("approval", 1, 3).cases
    assert not case.migrated and "review=neue_id" in str(case.refusals[0])
    reload()
    assert db.session.get(Case, case_id).definition.version == 1


@pytest.mark.parametrize("args, message", [
    (("approval", 1, 9), "process approval has no version 9"),
    (("nope", 1, 2), "process nope has no version 1"),
])
def test_unknown_versions_are_not_found(versions, args, message):
    with pytest.raises(NotFound, match=message):
        migration.plan(*args)


def test_bad_mappings_and_same_version_are_refused_with_what_is_wrong(versions):
    with pytest.raises(InvalidData, match="„nothing“, kein Element von approval v3"):
        migration.plan("approval", 1, 3, mapping={"review": "nothing"})
    with pytest.raises(InvalidData, match="„ghost“, kein Element von approval v1"):
        migration.plan("approval", 1, 3, mapping={"ghost": "check"})
    with pytest.raises(InvalidData, match="schon die Version, auf die umgestellt werden soll"):
        migration.plan("approval", 2, 2)
    with pytest.raises(InvalidData, match="alte_id=neue_id, nicht „review“"):
        migration.parse_mapping(["review"])
    assert migration.parse_mapping(["a=b", " c = d ", ""]) == {"a": "b", "c": "d"}


def test_a_case_of_another_version_is_refused_as_input(versions):
    case_id = start(versions)
    reload()
    with pytest.raises(InvalidData, match="kein laufender Fall von approval v2"):
        migration.plan("approval", 2, 3, case_id=case_id)


def test_a_worker_journey_inside_a_called_process_moves_to_a_version_with_a_changed_called_process(people):
    from tests.conftest import ROOT
    from tests.scenarios.driver import Journey, confirm_path, intake, iso
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, case, qualification_type="academic", degree_comparable=True, occupation_group="it",
           annual_salary=56000, employment_start="2026-07-01")
    confirm_path(j, case)
    assert j.open_ids(case) == ["task_visa_prepare"]
    files = dict(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    assert b'name="Visumentscheidung erfassen"' in files["worker_visa.bpmn"]
    files["worker_visa.bpmn"] = files["worker_visa.bpmn"].replace(b'name="Visumentscheidung erfassen"',
                                                                  b'name="Visumentscheidung eintragen"')
    deploy.deploy(list(files.items()))
    db.session.commit()
    reload()
    [moved] = migration.migrate("worker_journey", 1, 2).cases
    assert moved.migrated, moved.refusals
    j.reload()
    assert j.case(case).definition.version == 2
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsche Botschaft Neu-Delhi",
                                               appointment_requested_date=iso(j.today()),
                                               expected_appointment_date=iso(j.today() + timedelta(days=10)),
                                               visa_documents_ready=True))
    j.complete(case, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                   visa_application_complete_date=iso(j.today())))
    assert j.task(case, "task_visa_decision").title == "Visumentscheidung eintragen"     # v2's, ahead of the case


def _worker_journey_v2(people):
    """The bundled files again, with one element renamed in three called processes: worker_journey gets v2."""
    from tests.conftest import ROOT
    files = dict(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    for name, old, new in (("worker_visa.bpmn", b'name="Visumentscheidung erfassen"', b'name="Visum entschieden"'),
                           ("worker_arrival.bpmn", b'id="task_housing" name="', b'id="task_housing" name="Neu: '),
                           ("worker_settling.bpmn", b'id="task_closure" name="', b'id="task_closure" name="Neu: ')):
        assert old in files[name], (name, old)
        files[name] = files[name].replace(old, new)
    result = deploy.deploy(list(files.items()))
    db.session.commit()
    assert "worker_journey" in {d.key for d in result.created}


@pytest.mark.parametrize("stop", ["intake", "escalation", "arrival", "settling"])
def test_a_worker_journey_migrated_at_any_point_runs_to_its_end(people, stop):
    """Moved while a user task, a boundary timer and an escalation, parallel onboarding tasks with their
    timers, or a waiting check-in timer are open: the case finishes on v2, with v2's names ahead."""
    from tests.scenarios.driver import Journey, confirm_path, enter, first_steps, intake, iso, settle
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})

    def maybe_migrate(point):
        if point == stop:
            _worker_journey_v2(people)
            reload()
            [moved] = migration.migrate("worker_journey", 1, 2, case_id=case.id).cases
            assert moved.migrated, [str(r) for r in moved.refusals]
            j.reload()
            assert j.case(case).definition.version == 2
    maybe_migrate("intake")
    intake(j, case, qualification_type="academic", degree_comparable=True, occupation_group="it",
           annual_salary=56000, employment_start="2026-07-01")
    confirm_path(j, case)
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsche Botschaft Neu-Delhi",
                                               appointment_requested_date=iso(j.today()),
                                               expected_appointment_date=iso(j.today() + timedelta(days=10)),
                                               visa_documents_ready=True))
    j.advance(days=12)
    assert j.open_ids(case) == ["task_appointment_escalation", "task_visa_appointment"]
    maybe_migrate("escalation")
    j.complete(case, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                   visa_application_complete_date=iso(j.today())))
    j.complete(case, "task_appointment_escalation", dict(appointment_escalation_actions=["contacted_mission"],
                                                         appointment_escalation_note=""))
    decision = j.task(case, "task_visa_decision")
    assert decision.title == ("Visum entschieden" if stop in ("intake", "escalation") else
                              "Visumentscheidung erfassen")
    j.complete(case, "task_visa_decision", dict(visa_result="granted", visa_decision_date=iso(j.today()),
                                                visa_valid_from=iso(j.today()),
                                                visa_valid_until=iso(j.today() + timedelta(days=120)), visa_type="18a"))
    enter(j, case)
    maybe_migrate("arrival")
    assert j.task(case, "task_housing").title.startswith("Neu: ") == (stop != "settling")
    first_steps(j, case)
    maybe_migrate("settling")
    settle(j, case)
    assert j.case(case).status == "completed"
    assert j.ever(case, "task_closure")[0].title.startswith("Neu: ")
