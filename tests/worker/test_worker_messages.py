"""The worker hears of the advisor's answers: a mail (through a real SMTP server) to the address of the case's
live link, in the worker's language, that says only that there is a new message."""
from sqlalchemy import select

from engine import conversations, mail, worker_links
from engine.db import db
from engine.models import CaseEvent
from tests.engine.test_conversations import smtp  # noqa: F401  (the fixture)


def test_the_worker_is_told_of_an_answer_in_their_language_without_case_data(workers, smtp, client_for):
    ravi = workers["ravi"]
    link, token = worker_links.issue(ravi, workers["anna"], {"language": "ar", "email": "ravi@example.org",
                                                             "second_factor": "mail_code"})
    db.session.commit()
    conversations.post(ravi, "worker", "Ihr Termin beim Bürgeramt ist am 12. März.", author=workers["anna"])
    mail.send_pending()
    [(to, message)] = smtp.inbox.messages
    text = message.get_content()
    assert to == ["ravi@example.org"] and message["Subject"] == "لديك رسالة جديدة"
    assert "رسالة جديدة" in text and message["Content-Language"] == "ar"
    for secret in ("Bürgeramt", "Ravi", ravi.reference, token, "/w/", "Anna"):
        assert secret not in text and secret not in message["Subject"]
    db.session.expire_all()
    assert db.session.scalar(select(CaseEvent.details).where(CaseEvent.kind == "worker_told_of_message")) == {
        "link": link.id, "message": conversations.thread(ravi, "worker")[-1].id}
    timeline = client_for("anna").get(f"/cases/{ravi.reference}").get_data(as_text=True)
    assert "Fachkraft per E-Mail auf die Antwort hingewiesen" in timeline


def test_no_mail_without_a_live_link_with_an_address(workers, smtp):
    ravi, olena = workers["ravi"], workers["olena"]
    conversations.post(olena, "worker", "Willkommen!", author=workers["anna"])       # her link has no address
    link, _ = worker_links.issue(ravi, workers["anna"], {"language": "tr", "email": "ravi@example.org"})
    worker_links.revoke(ravi, workers["anna"], link.id)
    db.session.commit()
    conversations.post(ravi, "worker", "Willkommen!", author=workers["anna"])
    mail.send_pending()
    assert smtp.inbox.messages == []


def test_a_language_without_its_template_falls_back_to_english(ctx, monkeypatch):
    monkeypatch.setattr(mail, "WORKER_ONLY_LANGUAGES", (*mail.WORKER_ONLY_LANGUAGES, "fa"))    # a new language
    assert mail.render("worker_message", "fa", center="Welcome Center Aachen")["subject"] == "You have a new message"
    for language in worker_links.WORKER_LANGUAGES:
        parts = mail.render("worker_message", language, center="Welcome Center Aachen")
        assert "Welcome Center Aachen" in parts["body"] and parts["subject"]
