"""engine.conversations: a firm writes to its advisor and the advisor answers; each side is told in the app
and by mail (through a real SMTP server)."""
import pytest
from sqlalchemy import select

from engine import cases, conversations, mail
from engine.db import db
from engine.errors import InvalidData
from engine.models import Notification
from tests.engine.test_mail import SmtpServer


@pytest.fixture
def smtp(ctx):
    server = SmtpServer().start()
    ctx.config["MAIL_URL"] = server.url
    yield server
    server.stop()
    ctx.config["MAIL_URL"] = None


def test_a_firm_and_its_advisor_write_to_each_other(people, deploy_fixture, smtp):
    deploy_fixture("candidate_user.bpmn")
    people["anna"].email, people["jansen"].email = "anna@wc.example", "jansen@firm.example"
    people["jansen"].language = "en"
    case = cases.start_case("candidate_user", center=people["center"], employer=people["firm"], subject="Ravi Kumar",
                            actor=people["anna"], responsible=people["anna"])
    conversations.post(case, "employer", "Wann kommt die Vorabzustimmung?", author=people["jansen"])
    conversations.post(case, "employer", "Voraussichtlich nächste Woche.", author=people["anna"])
    mail.send_pending()
    db.session.expire_all()
    messages = conversations.thread(case, "employer")
    assert [(m.from_center, m.author_name) for m in messages] == [(False, "Petra Jansen"), (True, "Anna Berger")]
    assert conversations.threads(case)["worker"] == []
    notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.user_id, n.kind) for n in notes] == [(people["anna"].id, "message"), (people["jansen"].id, "message")]
    received = {tuple(to): message for to, message in smtp.inbox.messages}
    assert "Wann kommt die Vorabzustimmung?" in received[("anna@wc.example",)].get_content()
    to_firm = received[("jansen@firm.example",)]
    assert to_firm["Subject"].startswith("New message") and "/portal/cases/" in to_firm.get_content()


def test_an_empty_or_overlong_message_is_refused(people, deploy_fixture):
    deploy_fixture("candidate_user.bpmn")
    case = cases.start_case("candidate_user", center=people["center"], employer=people["firm"], subject="X",
                            actor=people["anna"])
    for body in ("", "   ", "x" * (conversations.MAX_LENGTH + 1)):
        with pytest.raises(InvalidData):
            conversations.post(case, "employer", body, author=people["jansen"])
    assert conversations.thread(case, "employer") == []


def test_a_party_without_accounts_writes_by_name_and_is_told_by_its_own_function(people, deploy_fixture, monkeypatch):
    deploy_fixture("candidate_user.bpmn")
    case = cases.start_case("candidate_user", center=people["center"], employer=people["firm"], subject="Ravi Kumar",
                            actor=people["anna"], responsible=people["anna"])
    conversations.post(case, "worker", "Ich bin angekommen.", author_name="Ravi Kumar")
    note = db.session.scalar(select(Notification))
    assert note.user_id == people["anna"].id and note.kind == "message"
    told = []
    monkeypatch.setitem(conversations.TELL_PARTY, "worker", lambda c, m: told.append((c.id, m.body)) or False)
    conversations.post(case, "worker", "Willkommen!", author=people["anna"])
    assert told == [(case.id, "Willkommen!")]
    assert [(m.from_center, m.author_name) for m in conversations.thread(case, "worker")] == [
        (False, "Ravi Kumar"), (True, "Anna Berger")]
