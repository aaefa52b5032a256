"""Case data behaves like Camunda's process variables: one set per case; a task writes only what it changed.

Every step here runs in its own transaction on a case reloaded from the database (the spec cache
is cleared too, as in a new worker process), so nothing is carried over in memory.
"""
import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from engine import cases, clock, snapshot, state
from engine.db import db
from engine.models import Case, CaseEvent, HumanTask, HumanTaskGroup
from tests.conftest import FIXTURES


def reload():
    db.session.expire_all()
    state.spec_cache.clear()


def open_tasks(case):
    reload()
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")
                              .order_by(HumanTask.created_at, HumanTask.id)).all()


def open_ids(case):
    return sorted(task.element_id for task in open_tasks(case))


def complete(case, element_id, data, people, actor="sara"):
    [task] = [task for task in open_tasks(case) if task.element_id == element_id]
    cases.complete_task(task.id, data, actor=people[actor])


def case_data(case):
    """The data the case page shows."""
    reload()
    return snapshot.case_data(state.load(db.session.get(Case, case.id)))


def let_deadline_pass(case, days=8):
    clock.advance(timedelta(days=days))
    reload()
    cases.wake(case.id)


def start(process, people, data=None):
    case = cases.start_case(process, center=people["center"], subject="Ana Lima", data=data or {},
                            actor=people["anna"])
    reload()
    return case


@pytest.mark.parametrize("escalation_last", [True, False])
def test_an_escalation_finishing_after_the_decision_keeps_the_decision(people, deploy_fixture, escalation_last):
    deploy_fixture("data_boundary.bpmn")
    case = start("data_boundary", people, {"decision": "open"})
    let_deadline_pass(case)
    assert open_ids(case) == ["decide", "escalate"]
    steps = [("decide", {"decision": "granted"}), ("escalate", {"escalation_note": "Botschaft angeschrieben"})]
    for element_id, data in (steps if escalation_last else reversed(steps)):
        complete(case, element_id, data, people)
    assert open_ids(case) == ["after_granted"]
    data = case_data(case)
    assert data["decision"] == "granted" and data["escalation_note"] == "Botschaft angeschrieben"


@pytest.mark.parametrize("first", ["recognition", "visa"])
def test_parallel_branches_each_keep_what_they_wrote(people, deploy_fixture, first):
    deploy_fixture("data_parallel.bpmn")
    case = start("data_parallel", people)
    writes = {"recognition": {"recognition_result": "full"}, "visa": {"visa_result": "granted"}}
    assert open_ids(case) == ["recognition", "visa"]
    for element_id in sorted(writes, key=lambda element_id: element_id != first):
        complete(case, element_id, writes[element_id], people)
    assert open_ids(case) == ["entry"]
    data = case_data(case)
    assert (data["recognition_result"], data["visa_result"], data["outcome"]) == ("full", "granted", "full/granted")


def test_a_called_process_returns_its_decision_while_an_escalation_on_the_caller_is_open(people, deploy_fixture):
    deploy_fixture("data_call_parent.bpmn", "data_call_child.bpmn")
    case = start("data_call_parent", people)
    let_deadline_pass(case)
    assert open_ids(case) == ["decision", "escalate"]
    complete(case, "decision", {"visa_result": "granted", "visa_valid_until": "2027-06-30"}, people)
    assert open_ids(case) == ["entry", "escalate"]
    complete(case, "escalate", {"escalation_note": "Botschaft angeschrieben"}, people)
    assert open_ids(case) == ["entry"]
    complete(case, "entry", {"entry_date": "2027-01-15"}, people)
    assert db.session.get(Case, case.id).status == "completed"
    data = case_data(case)
    assert (data["visa_result"], data["visa_valid_until"], data["escalation_note"]) == \
        ("granted", "2027-06-30", "Botschaft angeschrieben")


def test_a_called_process_does_not_return_its_stale_copy_of_what_the_caller_changed(people, deploy_fixture):
    deploy_fixture("data_call_parent.bpmn", "data_call_child.bpmn")
    case = start("data_call_parent", people)
    let_deadline_pass(case)
    complete(case, "escalate", {"escalation_note": "Botschaft angeschrieben"}, people)   # the child is still working
    assert case_data(case)["escalation_note"] == "Botschaft angeschrieben"
    complete(case, "decision", {"visa_result": "granted", "visa_valid_until": "2027-06-30"}, people)
    assert open_ids(case) == ["entry"]
    data = case_data(case)
    assert (data["visa_result"], data["escalation_note"]) == ("granted", "Botschaft angeschrieben")


def test_a_called_process_sees_the_callers_data_and_its_writes_show_while_it_runs(people, deploy_fixture):
    deploy_fixture("data_call_parent.bpmn", "data_call_child.bpmn")
    case = start("data_call_parent", people, {"worker_name": "Ana Lima"})
    [decision] = open_tasks(case)
    assert snapshot.task_data(db.session.get(Case, case.id), decision.id)["worker_name"] == "Ana Lima"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_multi_instance_results_are_collected_and_the_item_stays_local(people, deploy_fixture, seed):
    deploy_fixture("data_multi.bpmn")
    verdicts = {"passport": "ok", "degree": "missing", "contract": "ok"}
    case = start("data_multi", people, {"document_names": list(verdicts)})
    tasks = open_tasks(case)
    assert [task.element_id for task in tasks] == ["check_document"] * 3
    random.Random(seed).shuffle(tasks)
    for task in tasks:
        reload()
        seen = snapshot.task_data(db.session.get(Case, case.id), task.id)   # what the instance's form sees
        cases.complete_task(task.id, {"verdict": verdicts[seen["document"]["name"]]}, actor=people["sara"])
    assert open_ids(case) == ["done"]
    data = case_data(case)
    assert data["verdicts"] == ["passport:ok", "degree:missing", "contract:ok"]
    assert data["documents"] == [{"name": name, "verdict": verdict} for name, verdict in verdicts.items()]
    assert data["checked"] == 3             # each instance counted on the current value, not on its own copy
    assert "document" not in data           # the element variable is local to its instance


def test_a_task_writes_only_the_keys_it_changed_and_the_log_says_so(people, deploy_fixture):
    deploy_fixture("data_parallel.bpmn")
    case = start("data_parallel", people)
    complete(case, "visa", {"visa_result": "granted", "recognition_result": "pending"}, people)  # one unchanged key
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                       CaseEvent.kind == "task_completed")).one()
    assert event.details["changes"] == {"visa_result": {"old": "pending", "new": "granted"}}
    complete(case, "recognition", {"recognition_result": "full"}, people)
    assert case_data(case)["visa_result"] == "granted"


def legacy_case(process, name, people):
    """A case whose state was saved by the engine before case data (tests/fixtures/legacy), its rows rebuilt."""
    case = start(process, people)
    for row in open_tasks(case):            # the rows of the fresh start's tasks, which the stored state has not
        row.state, row.completed_at = "cancelled", clock.now()
    db.session.execute(delete(HumanTaskGroup))
    stored = json.loads((FIXTURES / "legacy" / f"{name}.json").read_text())
    stored["definition_id"] = case.definition_id
    db.session.get(Case, case.id).state = json.dumps(stored)
    db.session.commit()
    cases.wake(case.id)          # a change with nothing to do: the task rows follow the stored state
    return case


def test_a_case_stored_before_keeps_the_escalations_write_when_its_called_process_returns(people, deploy_fixture):
    deploy_fixture("data_call_parent.bpmn", "data_call_child.bpmn")
    case = legacy_case("data_call_parent", "call_escalated", people)
    assert open_ids(case) == ["decision"]
    assert case_data(case)["escalation_note"] == "Botschaft angeschrieben"   # written by a branch that ended
    [decision] = open_tasks(case)
    assert snapshot.task_data(db.session.get(Case, case.id), decision.id)["worker_name"] == "Ana Lima"
    complete(case, "decision", {"visa_result": "granted", "visa_valid_until": "2027-06-30"}, people)
    assert open_ids(case) == ["entry"]
    data = case_data(case)
    assert (data["visa_result"], data["escalation_note"], data["worker_name"]) == \
        ("granted", "Botschaft angeschrieben", "Ana Lima")


def test_a_case_stored_before_keeps_the_first_parallel_branchs_write(people, deploy_fixture):
    deploy_fixture("data_parallel.bpmn")
    case = legacy_case("data_parallel", "parallel_visa_done", people)
    assert open_ids(case) == ["recognition"]
    assert case_data(case)["visa_result"] == "granted"
    complete(case, "recognition", {"recognition_result": "full"}, people)
    assert open_ids(case) == ["entry"]
    assert case_data(case)["outcome"] == "full/granted"
