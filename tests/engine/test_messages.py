"""Messages between cases: outbox in the sender's transaction, routing by name and correlation."""
from sqlalchemy import select

from engine import cases
from engine.db import db
from engine.models import Case, CaseEvent, HumanTask, MessageSubscription, OutboxMessage


def employer_case(people, hire_id, name):
    return cases.start_case("msg_employer", center=people["center"], employer=people["firm"], subject=name,
                            data={"hire_id": hire_id, "worker_name": name}, actor=people["anna"])


def test_hire_starts_a_worker_case_and_arrival_returns_to_the_right_employer(people, deploy_fixture):
    deploy_fixture("msg_employer.bpmn", "msg_worker.bpmn")
    first = employer_case(people, "H1", "Ana")
    second = employer_case(people, "H2", "Bo")

    workers = db.session.scalars(select(Case).where(Case.parent_case_id.is_not(None)).order_by(Case.id)).all()
    assert [(w.definition.key, w.parent_case_id) for w in workers] == [("msg_worker", first.id),
                                                                      ("msg_worker", second.id)]
    assert workers[0].employer_id == people["firm"].id and workers[0].center_id == people["center"].id
    outbox = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.name, m.status, m.correlations) for m in outbox] == [
        ("hire_confirmed", "delivered", {"MainCorrelationKey": {"hire_id": "H1"}}),
        ("hire_confirmed", "delivered", {"MainCorrelationKey": {"hire_id": "H2"}})]
    subscriptions = db.session.scalars(select(MessageSubscription).order_by(MessageSubscription.case_id)).all()
    assert [(s.case_id, s.message_name, s.correlations["MainCorrelationKey"]["hire_id"]) for s in subscriptions] == [
        (first.id, "worker_arrived", "H1"), (second.id, "worker_arrived", "H2")]

    # The second worker arrives first: only the second employer case moves on.
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == workers[1].id))
    cases.complete_task(task.id, {"entry_date": "2027-01-10"}, actor=people["anna"])
    arrival = db.session.scalar(select(OutboxMessage).where(OutboxMessage.name == "worker_arrived"))
    assert (arrival.status, arrival.source_case_id, arrival.target_case_id) == ("delivered", workers[1].id, second.id)
    open_titles = {t.case_id: t.title for t in db.session.scalars(select(HumanTask).where(HumanTask.state == "open"))}
    assert open_titles.get(second.id) == "Willkommen heißen"
    assert first.id not in open_titles
    received = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == second.id,
                                                         CaseEvent.kind == "message_received"))
    assert received.details == {"message": "worker_arrived", "from_case": workers[1].id}
    assert db.session.get(Case, workers[1].id).status == "completed"


def test_a_message_nobody_waits_for_stays_pending(people, deploy_fixture):
    deploy_fixture("msg_employer.bpmn")        # no worker process deployed: no receiver, no message start
    employer_case(people, "H9", "Cem")
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == "pending" and message.attempts == 1 and message.target_case_id is None


def test_a_message_is_delivered_once_even_if_handed_over_twice(people, deploy_fixture):
    """A second worker holding the same outbox row (released by a message start's commit) delivers nothing."""
    from engine.state import registry
    deploy_fixture("msg_employer.bpmn", "msg_worker.bpmn")
    employer = employer_case(people, "H1", "Ana")
    worker = db.session.scalar(select(Case).where(Case.parent_case_id == employer.id))
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == worker.id))
    cases.complete_task(task.id, {"entry_date": "2027-01-10"}, actor=people["anna"])
    arrival = db.session.scalar(select(OutboxMessage).where(OutboxMessage.name == "worker_arrived"))
    assert arrival.status == "delivered"

    assert cases.deliver_message(employer.id, registry.restore(arrival.event), arrival.id) is False
    received = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == employer.id,
                                                          CaseEvent.kind == "message_received")).all()
    assert len(received) == 1
