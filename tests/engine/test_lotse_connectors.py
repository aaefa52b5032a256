"""Lotse's own connectors as service tasks (camunda:connector): send a mail, start a case, record a referral.
Through the real engine: deploy, start, reload from the database; mail through a real SMTP server."""
import pytest
from sqlalchemy import select

from engine import cases, clock, report
from engine.db import db
from engine.models import Case, CaseEvent, CaseReferral, HumanTask, Incident, MailMessage
from tests.engine.test_camunda_dialect import data, deploy_text, diagram, flow, refusal, reloaded
from tests.engine.test_mail import smtp  # noqa: F401  (the fixture: a real local SMTP server)


def connector(task_id, connector_id, params: str) -> str:
    return (f'<bpmn:serviceTask id="{task_id}"><bpmn:extensionElements><camunda:connector>'
            f'<camunda:connectorId>{connector_id}</camunda:connectorId><camunda:inputOutput>{params}'
            '</camunda:inputOutput></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>')


def param(name, value):
    return f'<camunda:inputParameter name="{name}">{value}</camunda:inputParameter>'


def one_step(process_id, step: str, then="") -> str:
    """start → the connector `step` (id "step") → [a user task "then"] → end."""
    if then:
        return diagram(process_id, '<bpmn:startEvent id="s"/>' + flow("f1", "s", "step") + step
                       + flow("f2", "step", "then") + f'<bpmn:userTask id="then" name="{then}"/>'
                       + flow("f3", "then", "e") + '<bpmn:endEvent id="e"/>')
    return diagram(process_id, '<bpmn:startEvent id="s"/>' + flow("f1", "s", "step") + step
                   + flow("f2", "step", "e") + '<bpmn:endEvent id="e"/>')


def incidents(case_id) -> list:
    return db.session.scalars(select(Incident).where(Incident.case_id == case_id)).all()


def open_tasks(case_id) -> list:
    return db.session.scalars(select(HumanTask.title).where(HumanTask.case_id == case_id,
                                                             HumanTask.state == "open")).all()


MAIL = one_step("welcome_mail", connector("step", "lotse-send-mail", param("to", "${employer_mail}")
                + param("subject", "Willkommen, ${worker}") + param("body", "${worker} beginnt am ${start}.")))


def test_send_mail_fills_the_placeholders_and_reaches_the_smtp_server(smtp, people):  # noqa: F811
    smtp.start()
    deploy_text(("mail.bpmn", MAIL))
    case = cases.start_case("welcome_mail", center=people["center"],
                            data={"worker": "Ana", "start": "2027-03-01", "employer_mail": "hr@jansen.example"})
    assert reloaded(case.id).status == "completed" and not reloaded(case.id).has_incident
    [(to, message)] = smtp.inbox.messages
    assert to == ["hr@jansen.example"]
    assert message["Subject"] == f"{case.reference}: Willkommen, Ana"
    assert message.get_content().strip() == "Ana beginnt am 2027-03-01."
    assert db.session.scalar(select(MailMessage.status)) == "sent"
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "connector"))
    assert event.details == {"connector": "lotse-send-mail", "to": "hr@jansen.example"}


def test_send_mail_without_to_goes_to_the_responsible_advisor(smtp, people):  # noqa: F811
    smtp.start()
    people["anna"].email = "anna@wc-aachen.example"
    db.session.commit()
    deploy_text(("mail.bpmn", MAIL.replace(param("to", "${employer_mail}"), "")))
    case = cases.start_case("welcome_mail", center=people["center"], responsible=people["anna"],
                            data={"worker": "Ana", "start": "2027-03-01"})
    assert reloaded(case.id).status == "completed"
    assert [to for to, _ in smtp.inbox.messages] == [["anna@wc-aachen.example"]]


def test_send_mail_without_any_recipient_is_an_incident_naming_the_task(people):
    deploy_text(("mail.bpmn", MAIL.replace(param("to", "${employer_mail}"), "")))
    case = cases.start_case("welcome_mail", center=people["center"], data={"worker": "Ana", "start": "x"})
    row = reloaded(case.id)
    assert row.status == "active" and row.has_incident
    [incident] = incidents(case.id)
    assert incident.element_id == "step" and "no recipient" in incident.message
    assert db.session.scalar(select(MailMessage)) is None


CHILD = diagram("settling", '<bpmn:startEvent id="s"/>' + flow("f1", "s", "t")
                + '<bpmn:userTask id="t" name="Wohnung suchen"/>' + flow("f2", "t", "e") + '<bpmn:endEvent id="e"/>')
PARENT = one_step("hire", connector("step", "lotse-start-case", param("process", "settling") + (
    '<camunda:inputParameter name="data"><camunda:map><camunda:entry key="worker_name">${worker}</camunda:entry>'
    '<camunda:entry key="from_case">hire</camunda:entry></camunda:map></camunda:inputParameter>')),
    then="Vertrag prüfen")


def test_start_case_starts_a_case_of_another_process_at_the_same_center_and_employer(people):
    deploy_text(("settling.bpmn", CHILD), ("hire.bpmn", PARENT))
    parent = cases.start_case("hire", center=people["center"], employer=people["firm"],
                              responsible=people["anna"], data={"worker": "Ana"})
    parent = reloaded(parent.id)
    [child] = db.session.scalars(select(Case).where(Case.parent_case_id == parent.id)).all()
    assert child.definition.key == "settling" and child.status == "active"
    assert (child.center_id, child.employer_id, child.responsible_id) == (
        people["center"].id, people["firm"].id, people["anna"].id)
    assert data(child.id) == {"worker_name": "Ana", "from_case": "hire"}
    assert open_tasks(child.id) == ["Wohnung suchen"]       # the new case runs: its first task is open
    assert open_tasks(parent.id) == ["Vertrag prüfen"] and parent.status == "active"
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == parent.id, CaseEvent.kind == "connector"))
    assert event.details == {"connector": "lotse-start-case", "case": child.reference, "process": "settling"}


def test_start_case_of_a_process_not_deployed_starts_nothing_and_is_an_incident(people):
    deploy_text(("hire.bpmn", PARENT))
    parent = cases.start_case("hire", center=people["center"], data={"worker": "Ana"})
    parent = reloaded(parent.id)
    [incident] = incidents(parent.id)
    assert parent.has_incident and "settling" in incident.message and incident.element_id == "step"
    assert db.session.scalars(select(Case)).all() == [parent]


REFERRAL = one_step("refer", connector("step", "lotse-record-referral", param("topic", "${topic}")
                    + param("partner", "IHK Aachen") + param("partner_type", "chamber")
                    + param("contact_made", "yes")), then="Nachfassen")


def test_record_referral_keeps_it_as_the_employer_referral_process_does(people):
    deploy_text(("refer.bpmn", REFERRAL))
    case = cases.start_case("refer", center=people["center"], employer=people["firm"],
                            data={"topic": "recognition", "referrals": [{"topic": "housing", "partner": "Stadt"}]})
    today = clock.now().astimezone(clock.BERLIN).date()
    assert data(case.id)["referrals"][1] == {"topic": "recognition", "partner": "IHK Aachen", "partner_type": "chamber",
                                             "referred_on": today.isoformat(), "contact_made": "yes"}
    rows = db.session.scalars(select(CaseReferral).where(CaseReferral.case_id == case.id)
                              .order_by(CaseReferral.topic)).all()
    assert [(r.topic, r.partner, r.partner_type, r.contact_made) for r in rows] == [
        ("housing", "Stadt", report.UNKNOWN, False), ("recognition", "IHK Aachen", "chamber", True)]
    assert rows[1].referred_on == today


@pytest.mark.parametrize("connector_id, needed", [("lotse-send-mail", "subject"), ("lotse-start-case", "process"),
                                                  ("lotse-record-referral", "partner")])
def test_a_connector_without_its_parameters_is_refused_naming_them(ctx, connector_id, needed):
    message = refusal(("x.bpmn", one_step("x", connector("step", connector_id, param("topic", "t")))))
    assert "[step]" in message and f"'{connector_id}'" in message and needed in message


def test_an_unknown_connector_is_refused_naming_it_and_listing_lotse_s(ctx):
    message = refusal(("x.bpmn", one_step("x", connector("step", "lotse-send-fax", param("to", "x")))))
    assert "'lotse-send-fax'" in message and "lotse-send-mail" in message and "lotse-record-referral" in message
