"""Mail: rendered per language, sent over real SMTP (aiosmtpd on localhost), retried through an outage."""
import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import cases, clock, mail, timers
from engine.db import db
from engine.models import MailMessage


class Inbox:
    """An aiosmtpd handler that keeps what it receives; refuses recipients at refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(ctx):
    server = SmtpServer()
    ctx.config["MAIL_URL"] = server.url
    yield server
    server.stop()
    ctx.config["MAIL_URL"] = None


def pending_mail(to="anna@wc-aachen.example", subject="Hallo"):
    row = mail.queue(to, subject, "Text\n", "de")
    db.session.commit()
    return row.id


def test_render_in_the_users_language():
    context = dict(name="Anna", task="Aufenthaltstitel prüfen", case="WC-AC-2026-00001", subject="Ravi Kumar",
                   process="Visum", due="03.03.2026, 10:00 Uhr", assigned=True, center="Aachen",
                   base_url="https://lotse.example", case_path="/cases/WC-AC-2026-00001")
    de = mail.render("reminder", "de", **context)
    en = mail.render("reminder", "en", **context)
    fallback = mail.render("reminder", "fr", **context)      # not a language of Lotse: German
    assert de["subject"] == "Erinnerung: „Aufenthaltstitel prüfen“ ist fällig am 03.03.2026, 10:00 Uhr (WC-AC-2026-00001)"
    assert en["subject"].startswith('Reminder: "Aufenthaltstitel prüfen"')
    assert "Sie ist Ihnen zugewiesen." in de["body"] and "https://lotse.example/cases/WC-AC-2026-00001" in de["body"]
    assert "<" not in de["body"] or "&lt;" not in de["body"]          # text mail: no HTML escaping
    assert fallback == de


def test_mail_url_forms():
    assert mail.parse_url("smtp://mail.example:2525") == {
        "host": "mail.example", "port": 2525, "user": None, "password": None, "starttls": False, "ssl": False}
    tls = mail.parse_url("smtp+starttls://lotse%40wc.example:p%3Ass@mail.example")
    assert (tls["user"], tls["password"], tls["port"], tls["starttls"]) == ("lotse@wc.example", "p:ss", 587, True)
    assert mail.parse_url("smtps://mail.example")["ssl"] is True
    with pytest.raises(ValueError):
        mail.parse_url("http://mail.example")


def test_without_mail_url_mails_stay_in_the_local_outbox(ctx):
    mail_id = pending_mail()
    assert db.session.get(MailMessage, mail_id).status == "local"
    assert mail.send_pending() == {"sent": 0, "retry": 0, "failed": 0}


def test_pending_mail_is_sent_once(smtp, ctx):
    smtp.start()
    ids = [pending_mail(subject="Erste"), pending_mail(to="ben@wc-aachen.example", subject="Zweite")]
    assert mail.send_pending()["sent"] == 2
    assert mail.send_pending()["sent"] == 0
    assert [(to, m["Subject"]) for to, m in smtp.inbox.messages] == [
        (["anna@wc-aachen.example"], "Erste"), (["ben@wc-aachen.example"], "Zweite")]
    rows = [db.session.get(MailMessage, i) for i in ids]
    assert all(r.status == "sent" and r.sent_at is not None and r.attempts == 1 for r in rows)
    _to, message = smtp.inbox.messages[0]
    assert message["From"] == ctx.config["MAIL_FROM"] and message["Content-Language"] == "de"
    assert message.get_content().strip() == "Text"


def test_smtp_outage_delays_but_loses_nothing(smtp, ctx):
    mail_id = pending_mail()                         # the server is down
    assert mail.send_pending() == {"sent": 0, "retry": 1, "failed": 0}
    row = db.session.get(MailMessage, mail_id)
    assert row.status == "pending" and row.attempts == 1 and "Connection refused" in row.last_error
    assert row.next_attempt_at == clock.now() + timedelta(seconds=60)
    assert mail.send_pending()["retry"] == 0          # not due yet: no hammering
    clock.advance(timedelta(seconds=61))
    assert timers.sweep()["mail"]["retry"] == 1       # still down: the sweeper retries, backoff doubles
    row = db.session.get(MailMessage, mail_id)
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(seconds=120)

    smtp.start()                                      # the server is back
    clock.advance(timedelta(seconds=121))
    assert timers.sweep()["mail"]["sent"] == 1
    assert timers.sweep()["mail"]["sent"] == 0
    assert len(smtp.inbox.messages) == 1
    row = db.session.get(MailMessage, mail_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_backoff_is_capped(ctx):
    assert mail.backoff(1) == timedelta(minutes=1)
    assert mail.backoff(4) == timedelta(minutes=8)
    assert mail.backoff(30) == timedelta(hours=1)


def test_refused_recipient_fails_for_good_without_blocking_others(smtp, ctx):
    smtp.start()
    bad = pending_mail(to="nobody@refused.example")
    good = pending_mail()
    assert mail.send_pending() == {"sent": 1, "retry": 0, "failed": 1}
    assert db.session.get(MailMessage, bad).status == "failed"
    assert "550" in db.session.get(MailMessage, bad).last_error
    assert db.session.get(MailMessage, good).status == "sent"


def test_the_reminder_mail_reaches_the_smtp_server(smtp, ctx, people, deploy_fixture):
    smtp.start()
    deploy_fixture("timer_boundary.bpmn")
    people["anna"].email = "anna@wc-aachen.example"
    db.session.commit()
    case = cases.start_case("timer_boundary", center=people["center"], subject="Ravi Kumar", actor=people["anna"])
    clock.advance(timedelta(days=1, seconds=1))
    timers.sweep()
    [(to, message)] = smtp.inbox.messages
    assert to == ["anna@wc-aachen.example"]
    assert message["Subject"].startswith("Erinnerung: „Zustimmung der BA eintragen“")
    assert case.reference in message["Subject"] and "Ravi Kumar" in message.get_content()
    row = db.session.scalar(select(MailMessage))
    assert row.status == "sent" and row.notification_id is not None
