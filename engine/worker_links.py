"""Workers' personal links: a worker's way into their own journey, without an account.

An advisor issues a link for a case (sent by mail or shown as a QR code in the office). The link
carries a random token; the `worker_link` table keeps only its SHA-256. It works for
`WORKER_LINK_DAYS` days, until it is revoked, or until a newer link for the case replaces it
(renewing). Opening it may ask for a second factor the advisor chose: the worker's date of birth,
or a code mailed to them. Every opening is a `worker_link_opened` event in the case log.

The browser session it opens is bound to the link (`session_link`): each request finds the live
link again, so revoking or replacing a link ends that session at once. What a link may see and do
is decided in `engine.access` (`WorkerActor`, `worker_case_filter`, `worker_task_filter`).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from engine import access, clock, login_throttle, mail
from engine.db import db
from engine.errors import Forbidden, InvalidFields, LotseError, NotFound
from engine.models import Case, CaseEvent, WorkerLink
from engine.settings import setting
from engine.user_sessions import token_hash

# The languages of every worker-facing text (pages, task forms, mails, link pages); German and English
# are the staff's too. Order: as offered in the language choice.
WORKER_LANGUAGES = ("de", "en", "ar", "tr", "uk", "ru")
RIGHT_TO_LEFT = frozenset({"ar"})
SECOND_FACTORS = ("", "birth_date", "mail_code")


class LinkClosed(LotseError):
    """The link opens nothing: `status` says why ("unknown", "revoked", "expired")."""

    def __init__(self, status: str, link: WorkerLink | None = None):
        self.status, self.link = status, link
        super().__init__(f"worker link {status}")


class SecondFactorNeeded(LotseError):
    """The link is live but asks for its second factor (`kind`); `wrong` when one was given and was wrong."""

    def __init__(self, link: WorkerLink, wrong: bool = False):
        self.link, self.kind, self.wrong = link, link.second_factor, wrong
        super().__init__(f"second factor {self.kind} {'wrong' if wrong else 'needed'}")


def link_path(token: str, language: str) -> str:
    """The link's path; the language rides along so that its first page is in the worker's language
    before anything is looked up."""
    return f"/w/{token}?lang={language}"


def _log(case_id: int, kind: str, actor=None, **details) -> None:
    db.session.add(CaseEvent(case_id=case_id, at=clock.now(), actor_id=getattr(actor, "id", None), kind=kind,
                             details=details))


# --------------------------------------------------------------------------- advisors

def _check(fields: dict) -> dict:
    """The issue form's fields, checked: {email, language, second_factor, birth_date, send}."""
    errors = {}
    email = (fields.get("email") or "").strip()
    language = fields.get("language") or "en"
    factor = fields.get("second_factor") or ""
    send = bool(fields.get("send"))
    birth = fields.get("birth_date")
    if language not in WORKER_LANGUAGES:
        errors["language"] = _l("Bitte wählen Sie eine der angebotenen Sprachen.")
    if factor not in SECOND_FACTORS:
        errors["second_factor"] = _l("Bitte wählen Sie eine der angebotenen Möglichkeiten.")
    if email and ("@" not in email or " " in email or len(email) > 255):
        errors["email"] = _l("Das ist keine gültige E-Mail-Adresse.")
    elif not email and (send or factor == "mail_code"):
        errors["email"] = _l("Für den Versand per E-Mail und für einen Code per E-Mail braucht es eine "
                             "E-Mail-Adresse.")
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth.strip()) if birth.strip() else None
        except ValueError:
            errors["birth_date"] = _l("Bitte geben Sie das Geburtsdatum als Datum an (TT.MM.JJJJ).")
            birth = None
    if factor == "birth_date" and birth is None and "birth_date" not in errors:
        errors["birth_date"] = _l("Für die Abfrage des Geburtsdatums geben Sie bitte das Geburtsdatum an.")
    if birth is not None and not (date(1900, 1, 1) <= birth <= clock.now().date()):
        errors["birth_date"] = _l("Das Geburtsdatum muss in der Vergangenheit liegen.")
    if errors:
        raise InvalidFields(errors)
    return {"email": email, "language": language, "second_factor": factor,
            "birth_date": birth if factor == "birth_date" else None, "send": send}


def issue(case: Case, actor, fields: dict) -> tuple[WorkerLink, str]:
    """A new link for the worker of `case` (earlier live links of the case stop working: renewed);
    returns the row and the token, which exists only now (for the QR code). With `send`, the link is
    mailed. The caller commits, then calls `engine.mail.after_commit_send_mail()`."""
    values = _check(fields)
    now = clock.now()
    _revoke_live(case.id, actor, "renewed")
    token = secrets.token_urlsafe(32)
    link = WorkerLink(token_hash=token_hash(token), case_id=case.id, email=values["email"],
                      language=values["language"], second_factor=values["second_factor"],
                      birth_date=values["birth_date"], created_at=now, created_by_id=getattr(actor, "id", None),
                      expires_at=now + timedelta(days=setting("WORKER_LINK_DAYS")), revoke_reason="")
    db.session.add(link)
    db.session.flush()
    if values["send"]:
        _mail(link, "worker_link", path=link_path(token, link.language))
    _log(case.id, "worker_link_issued", actor, link=link.id, second_factor=link.second_factor,
         mailed=values["send"], expires_at=link.expires_at.isoformat())
    return link, token


def renew(case: Case, actor, link_id: int) -> tuple[WorkerLink, str]:
    """A new link with the settings of an earlier one (which stops working), mailed if that one had an address."""
    old = _case_link(case, link_id)
    return issue(case, actor, {"email": old.email, "language": old.language, "second_factor": old.second_factor,
                               "birth_date": old.birth_date, "send": bool(old.email)})


def revoke(case: Case, actor, link_id: int) -> WorkerLink:
    """The link stops working now, and so does every browser session it opened. The caller commits."""
    link = _case_link(case, link_id)
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by_id, link.revoke_reason = clock.now(), getattr(actor, "id", None), "revoked"
        _log(case.id, "worker_link_revoked", actor, link=link.id)
    return link


def _revoke_live(case_id: int, actor, reason: str) -> None:
    db.session.execute(update(WorkerLink).where(WorkerLink.case_id == case_id, WorkerLink.revoked_at.is_(None))
                       .values(revoked_at=clock.now(), revoked_by_id=getattr(actor, "id", None),
                               revoke_reason=reason))


def _case_link(case: Case, link_id) -> WorkerLink:
    link = db.session.scalar(select(WorkerLink).where(WorkerLink.id == link_id, WorkerLink.case_id == case.id))
    if link is None:
        raise InvalidFields({"link": _l("Diesen Link gibt es bei diesem Fall nicht.")})
    return link


def links_of(case: Case) -> list[WorkerLink]:
    """The case's links, newest first (for its page)."""
    return list(db.session.scalars(select(WorkerLink).where(WorkerLink.case_id == case.id)
                                   .order_by(WorkerLink.id.desc())))


def _mail(link: WorkerLink, kind: str, **context) -> None:
    case = link.case
    parts = mail.render(kind, link.language, name=case.subject, center=case.center.name,
                        advisor=case.responsible.display_name if case.responsible else "",
                        days=setting("WORKER_LINK_DAYS"), minutes=setting("WORKER_CODE_MINUTES"), **context)
    mail.queue(link.email, parts["subject"], parts["body"], link.language)


def live_link(case: Case) -> WorkerLink | None:
    """The case's link that works now (issuing a link revokes the older ones), or None."""
    link = db.session.scalar(select(WorkerLink).where(WorkerLink.case_id == case.id, WorkerLink.revoked_at.is_(None))
                             .order_by(WorkerLink.id.desc()).limit(1))
    return link if access.link_status(link, clock.now()) == "live" else None


def tell_worker(case: Case, message) -> bool:
    """`engine.conversations.TELL_PARTY["worker"]`: mail the address of the case's live link, in its
    language, that there is a new message; True if a mail was queued (no live link or no address: False).

    The mail says only that: no name, no case data, no text of the message (the address may be read by
    others), and never a link. The token exists only when the link is issued (the table keeps its hash),
    and a fresh one would end the worker's old link and bypass the second factor the advisor chose for
    it; the worker opens the link they already have."""
    link = live_link(case)
    if link is None or not link.email:
        return False
    parts = mail.render("worker_message", link.language,
                        center=case.center.name if case.center else "")
    mail.queue(link.email, parts["subject"], parts["body"], link.language)
    _log(case.id, "worker_told_of_message", link=link.id, message=message.id)
    return True


def managed_case(user, reference) -> Case:
    """A case of the user's center whose worker links they manage; NotFound (404) or Forbidden (403)."""
    case = access.visible_case_by_reference(user, reference)
    if case is None:
        raise NotFound(f"case {reference} does not exist")
    if not access.may_manage_worker_links(user, case):
        raise Forbidden("only the center's staff manage a worker's links")
    return case


def issue_for(user, reference: str, fields: dict) -> tuple[WorkerLink, str]:
    """`issue` from the case page: checked, committed, the mail handed off."""
    link, token = issue(managed_case(user, reference), user, fields)
    db.session.commit()
    mail.after_commit_send_mail()
    return link, token


def renew_for(user, reference: str, link_id) -> tuple[WorkerLink, str]:
    link, token = renew(managed_case(user, reference), user, link_id)
    db.session.commit()
    mail.after_commit_send_mail()
    return link, token


def revoke_for(user, reference: str, link_id) -> WorkerLink:
    link = revoke(managed_case(user, reference), user, link_id)
    db.session.commit()
    return link


# --------------------------------------------------------------------------- the worker

def find(token: str) -> WorkerLink | None:
    return db.session.scalar(select(WorkerLink).where(WorkerLink.token_hash == token_hash(token or "")))


def _throttle(token: str, address: str) -> None:
    """Tries at one link and from one address are counted like login tries (engine.login_throttle)."""
    login_throttle.begin("worker-link:" + token_hash(token or "")[:32], address)


def open_link(token: str, address: str, *, birth_date: str | None = None, code: str | None = None
              ) -> WorkerLink:
    """Open a link: throttled, checked, the second factor asked for, the opening logged; commits.

    Raises `Throttled`, `LinkClosed` (no data: only the reason and the link's language), or
    `SecondFactorNeeded` (mails a fresh code when the factor is a mailed code and none is pending)."""
    _throttle(token, address)
    link = find(token)
    status = access.link_status(link, clock.now())
    if status != "live":
        raise LinkClosed(status, link)
    if link.second_factor == "birth_date":
        if not birth_date:
            raise SecondFactorNeeded(link)
        if birth_date.strip() != link.birth_date.isoformat():
            raise SecondFactorNeeded(link, wrong=True)
    elif link.second_factor == "mail_code":
        now = clock.now()
        pending = link.code_hash is not None and link.code_expires_at is not None and link.code_expires_at > now
        if not code:
            if not pending:
                send_code(link)
            raise SecondFactorNeeded(link)
        if not pending or not hmac.compare_digest(_code_hash(link, code.strip()), link.code_hash):
            raise SecondFactorNeeded(link, wrong=True)
        link.code_hash = link.code_expires_at = None        # a code opens once
    link.last_opened_at = clock.now()
    _log(link.case_id, "worker_link_opened", link=link.id, second_factor=link.second_factor)
    db.session.commit()
    return link


def send_code(link: WorkerLink) -> None:
    """Mail a fresh six-digit code (the older one stops working); commits."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    link.code_hash = _code_hash(link, code)
    link.code_expires_at = clock.now() + timedelta(minutes=setting("WORKER_CODE_MINUTES"))
    _mail(link, "worker_code", code=code)
    _log(link.case_id, "worker_code_sent", link=link.id)
    db.session.commit()
    mail.after_commit_send_mail()


def resend_code(token: str, address: str) -> WorkerLink:
    """The worker asks for a new code (throttled like an opening)."""
    _throttle(token, address)
    link = find(token)
    if access.link_status(link, clock.now()) != "live" or link.second_factor != "mail_code":
        raise LinkClosed(access.link_status(link, clock.now()), link)
    send_code(link)
    return link


def _code_hash(link: WorkerLink, code: str) -> str:
    return hashlib.sha256(f"{link.token_hash}:{code}".encode()).hexdigest()


def session_key(link: WorkerLink) -> str:
    """What the browser session keeps to find its link again: the token's hash, never the token."""
    return link.token_hash


def session_link(link_id, key) -> WorkerLink | None:
    """The live link a browser session was opened with, or None (revoked, renewed, expired, forged)."""
    if not isinstance(link_id, int) or not isinstance(key, str):
        return None
    link = db.session.scalar(select(WorkerLink).where(WorkerLink.id == link_id, WorkerLink.token_hash == key))
    return link if access.link_status(link, clock.now()) == "live" else None
