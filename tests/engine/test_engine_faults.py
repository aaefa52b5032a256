"""Engine faults that diagrams written elsewhere exposed (issue 13, items 2 and 4).

Every step here goes through the engine API, and `step()` forgets the session and (where a
test says so) the spec cache between steps, as a new process would: a case must give the
same result whichever process loads it.
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
