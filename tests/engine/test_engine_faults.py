"""Engine faults that diagrams written elsewhere exposed (issue 13, items 2 and 4).

Every step goes through the engine API, which loads the case from the database; `step()`
also forgets what the session holds and, in the "new process per step" run of each test, the
spec cache, as another process would: a case must give the same result whichever process
loads it. Diagrams use the shapes of SpiffWorkflow's own Camunda test diagrams (written anew
here, not copied).
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, state, timers
from engine.db import db
from engine.models import Case, CaseEvent, HumanTask, Incident, MessageSubscription, WaitingTimer


@pytest.fixture(params=["same process", "new process per step"])
def step(request, ctx):
    """Call before each step: drop what the session holds, and in a 'new process' the spec cache too."""
    def _step():
        db.session.expire_all()
        if request.param == "new process per step":
            state.spec_cache.clear()
    return _step


def start(key, people, **data):
    return cases.start_case(key, center=people["center"], employer=people["firm"], subject="Ana Lima",
                            data=data, actor=people["anna"]).id


def open_tasks(case_id, element_id=None):
    query = select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open")
    if element_id is not None:
        query = query.where(HumanTask.element_id == element_id)
    return db.session.scalars(query.order_by(HumanTask.created_at, HumanTask.element_id)).all()


def events(case_id, *kinds):
    return db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(kinds))
                              .order_by(CaseEvent.id)).all()


def complete(case_id, element_id, people, data=None):
    [task] = open_tasks(case_id, element_id)[:1]
    return cases.complete_task(task.id, data or {}, actor=people["anna"])


# --- item 2: a repeating reminder and its host --------------------------------------------------------

def test_completing_the_host_of_a_cycle_timer_leaves_its_reminders_and_stops_the_timer(people, deploy_fixture,
                                                                                      step):
    """A non-interrupting event's path outlives its task (BPMN): the reminders that fired stay open,
    no further one fires, and the case ends when they are done. It used to answer a 500."""
    deploy_fixture("timer_cycle.bpmn")
    case_id = start("timer_cycle", people)
    for _ in range(2):                                    # two reminders fired, both still open
        step()
        clock.advance(timedelta(hours=1, seconds=1))
        timers.sweep()
    assert [t.element_id for t in open_tasks(case_id)] == ["collect", "nudge", "nudge"]
    step()
    complete(case_id, "collect", people)
    step()
    case = db.session.get(Case, case_id)
    assert (case.status, case.has_incident, case.next_timer_at) == ("active", False, None)
    assert [t.element_id for t in open_tasks(case_id)] == ["nudge", "nudge"]
    assert db.session.scalars(select(WaitingTimer).where(WaitingTimer.case_id == case_id)).all() == []
    clock.advance(timedelta(days=1))                      # the host is done: no further repetition
    assert timers.sweep()["woken"] == 0
    assert len(events(case_id, "timer_fired")) == 2
    for _ in range(2):
        step()
        complete(case_id, "nudge", people)
    step()
    assert db.session.get(Case, case_id).status == "completed"


# --- item 4: the timer of an event-based gateway -------------------------------------------------------

def test_event_based_gateway_waits_for_the_message_and_schedules_its_timer(people, deploy_fixture, step):
    deploy_fixture("event_gateway_reply.bpmn")
    case_id = start("event_gateway_reply", people)
    step()
    complete(case_id, "ask", people)
    step()
    [timer] = db.session.scalars(select(WaitingTimer).where(WaitingTimer.case_id == case_id)).all()
    assert timer.element_id == "wait" and timer.due_at == clock.now() + timedelta(days=14)
    assert db.session.get(Case, case_id).next_timer_at == timer.due_at
    [subscription] = db.session.scalars(select(MessageSubscription)
                                        .where(MessageSubscription.case_id == case_id)).all()
    assert subscription.message_name == "employer_reply"
    clock.advance(timedelta(days=14, seconds=1))
    step()
    assert timers.sweep()["woken"] == 1
    step()
    assert [t.element_id for t in open_tasks(case_id)] == ["chase"]
    assert db.session.scalars(select(MessageSubscription)
                              .where(MessageSubscription.case_id == case_id)).all() == []


# --- item 4: the same result whichever process runs a step ------------------------------------------

def task_data(case_id, task_id):
    return state.find_task(state.load(db.session.get(Case, case_id)), task_id).data


def test_multi_instance_collections_are_the_same_whichever_process_runs_each_step(people, deploy_fixture, step):
    """Two cases side by side, each step loaded anew: a parallel collection of three stays three, a
    collection doubled item by item in place is doubled, a loopCardinality naming a list runs once
    per item (and the first case's run does not change how the second reads it)."""
    deploy_fixture("mi_documents.bpmn")
    first, second = (start("mi_documents", people) for _ in range(2))
    for case_id in (first, second):
        step()
        complete(case_id, "prepare", people, {"documents": ["passport", "cv", "diploma"], "amounts": [1, 2, 3],
                                             "people": ["Ana", "Bo"]})
    for case_id in (first, second):
        for task in open_tasks(case_id, "check"):
            step()
            document = task_data(case_id, task.id)["document"]
            cases.complete_task(task.id, {"document": document.upper()}, actor=people["anna"])
    for case_id in (first, second):
        while open_tasks(case_id, "double"):            # sequential: one instance at a time
            step()
            [task] = open_tasks(case_id, "double")
            cases.complete_task(task.id, {"amount": task_data(case_id, task.id)["amount"] * 2}, actor=people["anna"])
    for case_id in (first, second):
        reviews = open_tasks(case_id, "review")
        assert len(reviews) == 2
        for task, grade in zip(reviews, ("good", "fair")):
            step()
            assert task_data(case_id, task.id)["rating"] in ("Ana", "Bo")
            cases.complete_task(task.id, {"rating": grade}, actor=people["anna"])
    for case_id in (first, second):
        step()
        case = db.session.get(Case, case_id)
        assert (case.status, case.has_incident) == ("completed", False)
        data = state.load(case).data
        assert data["documents"] == ["PASSPORT", "CV", "DIPLOMA"]
        assert data["amounts"] == [2, 4, 6]
        assert sorted(data["ratings"]) == ["fair", "good"]


def test_signal_triggered_event_subprocess_finishes_whichever_process_runs_it(people, deploy_fixture, step):
    deploy_fixture("signal_event_subprocess.bpmn")
    first, second = (start("signal_event_subprocess", people) for _ in range(2))
    step()
    complete(first, "record_withdrawal", people)      # the signal starts the event subprocess
    step()
    assert sorted(t.element_id for t in open_tasks(first)) == ["advise", "close_file"]
    # Another case of the same version is not touched by the first one's trigger.
    assert sorted(t.element_id for t in open_tasks(second)) == ["advise", "record_withdrawal"]
    step()
    complete(first, "close_file", people)
    step()
    complete(first, "advise", people)
    step()
    assert db.session.get(Case, first).status == "completed"
    assert db.session.scalars(select(Incident)).all() == []
    for element_id in ("advise", "record_withdrawal", "close_file"):   # the second case, in another order
        step()
        complete(second, element_id, people)
    step()
    assert db.session.get(Case, second).status == "completed"


# --- item 4: every failure is a visible incident, never a traceback ---------------------------------

def open_incidents(case_id):
    return db.session.scalars(select(Incident).where(Incident.case_id == case_id, Incident.resolved_at.is_(None))
                              .order_by(Incident.id)).all()


def test_a_task_attribute_that_cannot_be_resolved_is_an_incident_of_that_task(people, deploy_fixture, step):
    """Completing "intake" opens "review", whose due date and assignee are expressions over data the
    form did not give: the completion stands, "review" waits in ERROR, and a retry opens it."""
    deploy_fixture("onboarding.bpmn", "intake_form.form")
    case_id = start("onboarding", people)
    step()
    complete(case_id, "intake", people, {"name": "Ana Lima", "salary": 61000, "start_date": "2027-02-01"})
    step()
    case = db.session.get(Case, case_id)
    assert (case.status, case.has_incident) == ("active", True)
    assert db.session.scalar(select(HumanTask).where(HumanTask.element_id == "intake")).state == "completed"
    [incident] = open_incidents(case_id)
    assert incident.element_id == "review" and incident.error_type == "NameError"
    assert incident.message == "camunda:assignee of “Prüfen” could not be resolved: name 'reviewer' is not defined"
    assert open_tasks(case_id, "review") == []
    step()
    cases.retry_task(case_id, incident.task_id, data={"reviewer": "sara", "start_date": "next spring"},
                     actor=people["sara"])
    step()
    [incident] = open_incidents(case_id)                # the next attribute fails: a new incident
    assert incident.message.startswith("camunda:dueDate of “Prüfen” could not be resolved")
    cases.retry_task(case_id, incident.task_id, data={"start_date": "2027-02-01"}, actor=people["sara"])
    step()
    [review] = open_tasks(case_id, "review")
    assert review.due_at.date().isoformat() == "2027-02-15" and review.assignee_id == people["sara"].id
    assert not db.session.get(Case, case_id).has_incident and open_incidents(case_id) == []


def test_a_multi_instance_without_its_collection_is_an_incident_and_retried_with_it(people, deploy_fixture, step):
    deploy_fixture("mi_documents.bpmn")
    case_id = start("mi_documents", people)
    step()
    complete(case_id, "prepare", people, {"amounts": [1]})          # no "documents"
    step()
    [incident] = open_incidents(case_id)
    assert incident.element_id == "check" and db.session.get(Case, case_id).has_incident
    step()
    cases.retry_task(case_id, data={"documents": ["passport", "cv"]}, actor=people["sara"])
    step()
    assert len(open_tasks(case_id, "check")) == 2 and open_incidents(case_id) == []


@pytest.mark.parametrize("register_by", [None, "next week"])
def test_a_timer_that_cannot_be_scheduled_is_an_incident_and_retried_with_a_date(people, deploy_fixture, step,
                                                                                  register_by):
    """No date, or one that is not a date: the case shows the failed timer (it used to look active and
    waiting, with no timer written, and retry found "no failed step")."""
    deploy_fixture("timer_date.bpmn")
    data = {} if register_by is None else {"register_by": register_by}
    case_id = start("timer_date", people, **data)
    step()
    case = db.session.get(Case, case_id)
    assert case.has_incident and [i.element_id for i in open_incidents(case_id)] == ["until"]
    assert timers.sweep()["woken"] == 0
    step()
    due = (clock.now() + timedelta(days=2)).isoformat()
    cases.retry_task(case_id, data={"register_by": due}, actor=people["sara"])
    step()
    case = db.session.get(Case, case_id)
    assert not case.has_incident and case.next_timer_at.isoformat() == due
    clock.advance(timedelta(days=2, seconds=1))
    timers.sweep()
    step()
    assert [t.element_id for t in open_tasks(case_id)] == ["check"]


def test_a_stalled_case_is_an_incident_and_found_by_the_engine(people, deploy_fixture, step):
    from engine import health
    deploy_fixture("stall_signal.bpmn", "timer_date.bpmn")
    case_id = start("stall_signal", people)
    waiting_id = start("timer_date", people, register_by=(clock.now() + timedelta(days=1)).isoformat())
    assert health.stalled_cases() == [] and not health.is_stalled(case_id)
    step()
    complete(case_id, "decide", people)
    step()
    case = db.session.get(Case, case_id)
    assert (case.status, case.has_incident) == ("active", True)
    [incident] = open_incidents(case_id)
    assert (incident.error_type, incident.element_id) == ("Stalled", "checked")
    assert "no task is open and it waits for no timer or message" in incident.message
    assert [c.id for c in health.stalled_cases()] == [case_id]
    assert [c.id for c in health.stalled_cases(center_id=people["other_center"].id)] == []
    assert health.is_stalled(case_id) and not health.is_stalled(waiting_id)
    step()
    cases.retry_task(case_id, actor=people["sara"])          # nothing changed: it is still stalled, and says so
    step()
    assert [i.error_type for i in open_incidents(case_id)] == ["Stalled"]
    cases.cancel_case(case_id, actor=people["sara"])
    step()
    assert not db.session.get(Case, case_id).has_incident and health.stalled_cases() == []


# --- item 4: print() in a script, starting a process only an event may start ------------------------

def test_print_in_a_script_writes_to_the_case_log(people, deploy_fixture):
    deploy_fixture("print_script.bpmn")
    case_id = start("print_script", people, languages=["de", "en"], bonus=0)
    [output] = events(case_id, "script_output")
    assert (output.element_id, output.details["output"]) == ("score", "languages: 2\npoints=20")
    assert [t.element_id for t in open_tasks(case_id)] == ["check"]
    # A script that prints and then fails: its output is in the log beside the incident.
    failing = start("print_script", people, languages=["de"])           # no "bonus"
    assert [(e.kind, e.details.get("output")) for e in events(failing, "script_output", "incident")] == [
        ("script_output", "languages: 1"), ("incident", None)]
    assert db.session.get(Case, failing).has_incident


def test_a_process_only_a_message_or_timer_may_start_is_refused_by_hand(people, deploy_fixture):
    from engine.errors import InvalidData
    deploy_fixture("msg_worker.bpmn", "timer_start.bpmn")
    with pytest.raises(InvalidData, match="process 'msg_worker' starts only when the message 'hire_confirmed' "
                                          "arrives; it cannot be started by hand"):
        start("msg_worker", people)
    with pytest.raises(InvalidData, match="starts only when its timer fires"):
        start("timer_start", people)
    assert db.session.scalars(select(Case)).all() == []


def test_elements_with_the_ids_the_engine_reserves_are_refused_at_deploy(deploy_fixture):
    from engine.errors import DeploymentRejected
    with pytest.raises(DeploymentRejected) as refused:
        deploy_fixture("start_end_ids.bpmn")
    assert [(p.element_id, p.line) for p in refused.value.problems] == [("Start", 6), ("End", 10)]
    assert "the id 'Start' is reserved by the engine; give this element another id" in str(refused.value)
