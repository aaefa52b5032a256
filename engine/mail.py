"""Outgoing e-mail: rendered from text templates in the user's language, stored, then sent by a job.

A mail is a `MailMessage` row written in the same transaction as the notice it belongs to.
Sending happens after commit (an rq job, or inline in the embedded default): each pending
row is leased (a compare-and-set on `next_attempt_at`, so two senders never take the same
row), sent over SMTP (`MAIL_URL`), and marked sent. A failing server leaves the row pending
with `next_attempt_at` pushed out exponentially (`MAIL_RETRY_BASE` · 2^(attempts-1), capped
at `MAIL_RETRY_MAX`); the sweeper sends what is due again. Nothing is ever dropped: only a
permanent refusal of the recipient (SMTP 5xx for RCPT) marks a row `failed`, and it stays
visible in the outbox. Without `MAIL_URL` mails are kept with status `local`: the local
outbox the UI shows.

MAIL_URL: smtp://host:port, smtp+starttls://user:pass@host:port, smtps://user:pass@host:port
(user and password percent-encoded).
"""
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from sqlalchemy import select, update

from engine import clock, jobs
from engine.db import db
from engine.models import MailMessage
from engine.settings import setting
from engine.models.statuses import MailStatus

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates" / "mail"
LANGUAGES = ("de", "en")
WORKER_ONLY_LANGUAGES = ("ar", "tr", "uk", "ru")       # see engine.worker_links.WORKER_LANGUAGES
DEFAULT_BASE_URL = "http://localhost:5000"     # links in mails when LOTSE_BASE_URL is unset (see engine.settings)
# Where the person whose request queues a mail reached a development server on this machine, or None (the
# web layer puts its function of the current request here; asked only when a mail is made, only for a
# loopback address): with LOTSE_BASE_URL unset, the mail's links point there.
local_base_url: Callable[[], str | None] = lambda: None
LEASE = timedelta(minutes=5)      # a sender that dies mid-send gives the row back after this

templates = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=False,
                               undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False,
                               keep_trailing_newline=False)


def render(kind: str, language: str, **context) -> dict:
    """{'subject', 'summary', 'body'} of template `kind` in `language`: German when unknown; a language
    only workers read (engine.worker_links) without this template falls back to English."""
    if language not in LANGUAGES and not (TEMPLATES / f"{kind}.{language}.txt").is_file():
        language = "en" if language in WORKER_ONLY_LANGUAGES else "de"
    template = templates.get_template(f"{kind}.{language}.txt")
    context.setdefault("base_url", (setting("BASE_URL") or local_base_url() or DEFAULT_BASE_URL).rstrip("/"))
    ctx = template.new_context(context)
    parts = {name: "".join(template.blocks[name](ctx)).strip() for name in ("subject", "summary")}
    parts["body"] = template.render(context).strip() + "\n"
    return parts


def queue(to: str, subject: str, body: str, language="de", user_id=None, notification_id=None) -> MailMessage:
    """Add a mail to the session (the caller commits); pending for SMTP, or kept locally without MAIL_URL."""
    now = clock.now()
    row = MailMessage(to=to, subject=subject[:255], body=body, language=language, user_id=user_id,
                      notification_id=notification_id,
                      status=MailStatus.PENDING if setting("MAIL_URL") else MailStatus.LOCAL,
                      attempts=0, next_attempt_at=now, created_at=now)
    db.session.add(row)
    return row


# --- SMTP ----------------------------------------------------------------------------------------

def parse_url(url: str) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtp+starttls", "smtps"):
        raise ValueError(f"MAIL_URL must start with smtp://, smtp+starttls:// or smtps://, not {scheme}://")
    return {"host": parts.hostname or "localhost",
            "port": parts.port or {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[scheme],
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "starttls": scheme == "smtp+starttls", "ssl": scheme == "smtps"}


def connect(url: str, timeout: float = 30) -> smtplib.SMTP:
    cfg = parse_url(url)
    if cfg["ssl"]:
        smtp = smtplib.SMTP_SSL(cfg["host"], cfg["port"], timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(cfg["host"], cfg["port"], timeout=timeout)
        if cfg["starttls"]:
            smtp.starttls(context=ssl.create_default_context())
    if cfg["user"]:
        smtp.login(cfg["user"], cfg["password"] or "")
    return smtp


def build_message(row: MailMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"lotse-{row.id}")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    message["Content-Language"] = row.language      # after set_content, which drops Content-* headers
    return message


def backoff(attempts: int) -> timedelta:
    base = setting("MAIL_RETRY_BASE")
    cap = setting("MAIL_RETRY_MAX")
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _permanent(exc) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    return False


def send_pending(limit: int = 100) -> dict:
    """Send the pending mails that are due. Returns counts: sent, retry, failed."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    url = setting("MAIL_URL")
    if not url:
        return counts
    sender = setting("MAIL_FROM")
    now = clock.now()
    due = db.session.execute(
        select(MailMessage.id, MailMessage.next_attempt_at)
        .where(MailMessage.status == MailStatus.PENDING, MailMessage.next_attempt_at <= now)
        .order_by(MailMessage.next_attempt_at, MailMessage.id).limit(limit)).all()
    db.session.rollback()
    smtp, connect_error = None, None
    try:
        for mail_id, attempt_at in due:
            # Lease the row: whoever moves next_attempt_at first owns this attempt.
            leased = db.session.execute(
                update(MailMessage).where(MailMessage.id == mail_id, MailMessage.status == MailStatus.PENDING,
                                          MailMessage.next_attempt_at == attempt_at)
                .values(next_attempt_at=now + LEASE, attempts=MailMessage.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            db.session.commit()
            if leased != 1:
                continue
            row = db.session.get(MailMessage, mail_id, populate_existing=True)
            try:
                if connect_error is not None:
                    raise connect_error
                if smtp is None:
                    try:
                        smtp = connect(url, timeout=setting("MAIL_TIMEOUT"))
                    except (OSError, smtplib.SMTPException) as exc:
                        connect_error = exc    # the server is down: defer the rest of this batch too
                        raise
                smtp.send_message(build_message(row, sender))
            except (OSError, smtplib.SMTPException) as exc:
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if _permanent(exc):
                    row.status = MailStatus.FAILED
                    counts["failed"] += 1
                else:
                    row.next_attempt_at = clock.now() + backoff(row.attempts)
                    counts["retry"] += 1
                    if not isinstance(exc, smtplib.SMTPRecipientsRefused) and smtp is not None:
                        _quit(smtp)
                        smtp = None
                log.warning("mail %s to %s not sent (attempt %s): %s", row.id, row.to, row.attempts, exc)
            else:
                row.status, row.sent_at, row.last_error = MailStatus.SENT, clock.now(), None
                counts["sent"] += 1
            db.session.commit()
    finally:
        if smtp is not None:
            _quit(smtp)
    return counts


def _quit(smtp):
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def next_attempt_at():
    """When the earliest pending mail is due (for the embedded sweeper's sleep)."""
    if not setting("MAIL_URL"):
        return None
    return db.session.scalar(select(MailMessage.next_attempt_at).where(MailMessage.status == MailStatus.PENDING)
                             .order_by(MailMessage.next_attempt_at).limit(1))


def send_job():
    """rq job: send what is pending."""
    with jobs.in_app_context():
        return send_pending()


def after_commit_send_mail():
    """Send pending mail: a job on rq; inline otherwise (errors stay on the rows, the sweeper retries)."""
    run = jobs.runner()
    if run.inline and not setting("MAIL_URL"):
        return
    try:
        run.submit(send_job)
    except Exception:          # Redis down, or the mail server: the periodic sweep sends it
        log.exception("could not send or hand off the pending mail; the sweeper will send it")
