"""Conversations of a case: one thread per party (the employer, the worker) with the Welcome Center.

A message from a party tells the center (the case's responsible advisor, or, without one, the
center's advisors); a message from the center tells the party (`TELL_PARTY`: for the employer, the
firm's active users in the employer group). People with accounts are told as deadline notices are:
a notification in the app and a mail in their language (`notifications._tell`). The worker, without an
account, gets a mail that says only "you have a new message" (`engine.worker_links.tell_worker`).

Callers check that the writer may see the case (`engine.access.visible_case*`) and speak for the
party (`engine.access.conversation_parties`).
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import select

from engine import access, clock, mail, notifications, worker_links
from engine.db import db
from engine.errors import InvalidData
from engine.models import Case, CaseEvent, CaseMessage, User

MAX_LENGTH = 5000
PARTIES = ("employer", "worker")


def thread(case: Case, party: str) -> list[CaseMessage]:
    """The party's conversation with the center, oldest first."""
    return db.session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id, CaseMessage.party == party)
                              .order_by(CaseMessage.id)).all()


def threads(case: Case, parties=PARTIES) -> dict[str, list[CaseMessage]]:
    """{party: its messages, oldest first} for the given parties (one statement)."""
    found = {p: [] for p in parties}
    for message in db.session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id,
                                                                CaseMessage.party.in_(list(parties)))
                                      .order_by(CaseMessage.id)):
        found[message.party].append(message)
    return found


def center_recipients(case: Case) -> list[User]:
    """Who at the center hears of a party's message: the responsible advisor, else the center's advisors."""
    responsible = db.session.get(User, case.responsible_id) if case.responsible_id else None
    if responsible is not None and responsible.active:
        return [responsible]
    return notifications.active_members(case.center_id, "advisor")


def _tell(user: User, case: Case, message: CaseMessage, to_center: bool) -> bool:
    text = mail.render("message", notifications._language(user), name=user.display_name, case=case.reference,
                       subject=case.subject, author=message.author_name, body=message.body[:1000],
                       to_center=to_center, center=case.center.name.removeprefix("Welcome Center ") if case.center else "")
    return notifications._tell(user, "message", text, message.created_at, case.id)


def tell_firm(case: Case, message: CaseMessage) -> bool:
    """Tell the firm's people (active, in the employer group) of the center's message; True if mail was queued."""
    people = notifications.active_members(case.employer_id, access.EMPLOYER_GROUP) if case.employer_id else []
    return any([_tell(user, case, message, to_center=False) for user in people])


# party -> how that party hears of the center's message (True: mail was queued). The worker, without an
# account, gets a mail at the address of the case's live personal link (engine.worker_links.tell_worker).
TELL_PARTY: dict[str, Callable[[Case, CaseMessage], bool]] = {"employer": tell_firm,
                                                              "worker": worker_links.tell_worker}


def post(case: Case, party: str, body: str, author: User | None = None, author_name: str = "") -> CaseMessage:
    """Add a message to the party's thread, from the center if `author` is staff, else from the party;
    tell the other side; commit. Raises InvalidData for an empty or too long text."""
    if party not in PARTIES:
        raise InvalidData(f"no conversation with {party!r}")
    body = (body or "").strip()
    if not body:
        raise InvalidData("the message is empty")
    if len(body) > MAX_LENGTH:
        raise InvalidData(f"the message is longer than {MAX_LENGTH} characters")
    from_center = author is not None and access.party_of(author) == "center"
    now = clock.now()
    message = CaseMessage(case_id=case.id, party=party, from_center=from_center, author_id=getattr(author, "id", None),
                          author_name=author_name or getattr(author, "display_name", "") or "", body=body,
                          created_at=now)
    db.session.add(message)
    db.session.add(CaseEvent(case_id=case.id, at=now, actor_id=getattr(author, "id", None), kind="message_posted",
                             details={"party": party, "from_center": from_center}))
    db.session.flush()
    if from_center:
        tell = TELL_PARTY.get(party)
        mails = tell(case, message) if tell is not None else False
    else:
        mails = any([_tell(user, case, message, to_center=True) for user in center_recipients(case)
                     if author is None or user.id != author.id])
    case.updated_at = now
    db.session.commit()
    if mails:
        mail.after_commit_send_mail()
    return message
