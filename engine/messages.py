"""BPMN messages between cases: an outbox written with the sender's state, routed after commit.

SpiffWorkflow never delivers across instances: a message nobody in the same workflow
catches comes out of `get_events()` (which empties its queue, so we store them at once).
Routing is by message name plus correlation values: the first case waiting for that name
whose correlations agree gets it; failing that, a process with a matching message start
event is started. A message nobody waits for yet stays pending and is retried whenever a
case starts waiting (or by the sweeper).
"""
import threading

from sqlalchemy import select

from engine import casedata, cases, jobs, state

from engine.db import db
from engine.deploy import latest_definitions
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import Case, MessageSubscription, OutboxMessage
from engine.models.statuses import CaseStatus, MessageStatus

registry = state.registry

_local = threading.local()


def _compatible(waiting: dict, sent: dict) -> bool:
    """Correlation keys both sides know must carry equal values."""
    for key, values in sent.items():
        held = waiting.get(key)
        if held and any(held.get(prop) != value for prop, value in values.items() if prop in held):
            return False
    return True


def find_receiver(message: OutboxMessage) -> int | None:
    rows = db.session.execute(
        select(MessageSubscription.case_id, MessageSubscription.correlations)
        .join(Case, Case.id == MessageSubscription.case_id)
        .where(MessageSubscription.message_name == message.name, Case.status == CaseStatus.ACTIVE,
               MessageSubscription.case_id != message.source_case_id)
        .order_by(MessageSubscription.id)).all()
    exact = [case_id for case_id, corr in rows if corr and _compatible(corr, message.correlations)]
    if exact:
        return exact[0]
    blank = [case_id for case_id, corr in rows if not corr]
    return blank[0] if blank else None


def deliver_pending(limit=100) -> int:
    """Deliver what can be delivered now. Returns the number delivered."""

    delivered = 0
    pending = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == MessageStatus.PENDING)
                                 .order_by(OutboxMessage.id).limit(limit)).all()
    for message_id in pending:
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                                OutboxMessage.status == MessageStatus.PENDING)
                                    .with_for_update(skip_locked=True))
        if message is None:
            db.session.rollback()
            continue
        event = registry.restore(message.event)
        target = find_receiver(message)
        if target is None:
            starters = [d for d in latest_definitions() if message.name in (d.message_starts or [])]
            if starters:
                source = db.session.get(Case, message.source_case_id)
                new_case = cases.start_case(starters[0], center=source.center_id, employer=source.employer_id,
                                            subject=source.subject, parent_case=source.id, by_message=True)
                target = new_case.id
        if target is None:
            message.attempts += 1
            db.session.commit()
            continue
        try:
            delivered += cases.deliver_message(target, event, message_id)
        except Conflict as exc:
            message = db.session.get(OutboxMessage, message_id)
            message.attempts += 1
            message.error = str(exc)[:1000]
            db.session.commit()
    return delivered


# --- from outside Lotse (the command line, the JSON API) -----------------------------------------------

def correlate(name: str, keys: dict | None = None, data: dict | None = None, center=None, actor=None,
              where=None) -> Case:
    """Deliver the message `name` from outside into the one active case waiting for it whose variables
    (or message correlations) hold `keys`; `data` becomes case data. With no such case, a process
    with a message start event of that name starts a case at `center` (keys and data are its data).

    `where`: a clause on `Case` limiting the cases it may go to (the caller's reach, `engine.access.case_filter`).
    Camunda's correlation keys are process variables: so they are here. Raises NotFound when nothing
    waits or starts, Conflict when several cases wait (name more keys), InvalidData for bad data.
    """
    keys, data = dict(keys or {}), dict(data or {})
    state.check_storable(data)
    waiting = db.session.execute(
        select(MessageSubscription.case_id, MessageSubscription.correlations)
        .join(Case, Case.id == MessageSubscription.case_id)
        .where(MessageSubscription.message_name == name, Case.status == CaseStatus.ACTIVE,
               *([where] if where is not None else []))
        .order_by(MessageSubscription.id)).all()
    matches = sorted({case_id for case_id, correlations in waiting if _holds(case_id, correlations, keys)})
    if len(matches) > 1:
        raise Conflict(f"{len(matches)} cases wait for the message {name!r}"
                       f"{' with ' + _described(keys) if keys else ''}; name correlation keys that single one out")
    if matches:
        return cases.receive_message(matches[0], name, data, actor)
    starters = [d for d in latest_definitions() if name in (d.message_starts or [])]
    if not starters:
        raise NotFound(f"no case waits for the message {name!r}{' with ' + _described(keys) if keys else ''}, "
                       "and no process starts with it")
    if center is None:
        raise InvalidData(f"the message {name!r} starts a new case: say at which Welcome Center", field="center")
    case = cases.start_case(starters[0], center=center, data={**keys, **data}, actor=actor, by_message=True)
    return cases.receive_message(case.id, name, {}, actor)


def _described(keys) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in keys.items())


def _holds(case_id, correlations, keys) -> bool:
    """Whether the waiting case's correlation values, or else its variables, agree with every key."""
    if not keys:
        return True
    held = {prop: value for values in (correlations or {}).values() for prop, value in values.items()}
    if all(held.get(key) == value for key, value in keys.items()):
        return True
    variables = casedata.variables(state.load(db.session.get(Case, case_id)))
    return all(key in variables and variables[key] == value for key, value in keys.items())


# --- after commit -----------------------------------------------------------------------------------

def deliver_messages_job():
    """Route pending outbox messages. Delivery starts and wakes cases, which hand off again: inline, that
    nested call does nothing (this one is still running); on rq it enqueues the next job."""
    if getattr(_local, "delivering", False):
        return 0
    _local.delivering = True
    try:
        with jobs.in_app_context():
            return deliver_pending()
    finally:
        _local.delivering = False


def after_commit_deliver():
    """Route pending outbox messages, now (inline) or on a worker (rq)."""
    jobs.runner().submit(deliver_messages_job)
