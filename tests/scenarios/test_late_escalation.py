"""Issue 13, item 1: an escalation closed after the decision it escalated must not reset that decision."""
from datetime import date, timedelta

from tests.scenarios.driver import Journey, confirm_path, intake, iso, recognition_until_decision


def test_closing_the_appointment_escalation_after_the_visa_was_granted_keeps_it_granted(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, case, qualification_type="academic", degree_comparable=True, occupation_group="it",
           annual_salary=56000, employment_start="2026-07-01")
    confirm_path(j, case)
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsche Botschaft Neu-Delhi",
                                               appointment_requested_date=iso(j.today()),
                                               expected_appointment_date=iso(j.today() + timedelta(days=10)),
                                               visa_documents_ready=True))
    j.advance(days=12)                                   # no appointment yet: the escalation opens
    assert j.open_ids(case) == ["task_appointment_escalation", "task_visa_appointment"]
    j.complete(case, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                   visa_application_complete_date=iso(j.today())))
    valid_until = iso(j.today() + timedelta(days=365))
    j.complete(case, "task_visa_decision", dict(visa_result="granted", visa_decision_date=iso(j.today()),
                                                visa_valid_from=iso(j.today()), visa_valid_until=valid_until,
                                                visa_type="18a"))
    assert "visa_granted" in j.milestones(case)
    j.complete(case, "task_appointment_escalation", dict(appointment_escalation_actions=["contacted_mission"],
                                                         appointment_escalation_note="Servicestelle angeschrieben"))
    assert (j.value(case, "visa_result"), j.value(case, "visa_valid_until")) == ("granted", valid_until)
    assert j.open_ids(case) == ["task_entry"]            # not "Alternativen mit der Fachkraft beraten"
    assert not j.ever(case, "task_alternatives")


def test_closing_the_recognition_escalation_after_the_decision_keeps_the_decision(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Maria Santos", data={"worker_name": "Maria Santos"})
    intake(j, case, nationality="Philippinen", qualification_type="academic", degree_comparable=False,
           occupation_group="nursing", regulated_profession=True, annual_salary=41000)
    confirm_path(j, case)
    recognition_until_decision(j, case)
    due = date.fromisoformat(j.value(case, "recognition_decision_due"))
    j.advance(days=(due - j.today()).days + 1)           # the body is late: the escalation opens
    assert "task_recognition_overdue" in j.open_ids(case)
    j.complete(case, "task_recognition_decision", dict(recognition_result="full", recognition_decision_date=iso(j.today())))
    j.complete(case, "task_recognition_overdue", dict(recognition_overdue_actions=["asked_body"]))
    assert j.value(case, "recognition_result") == "full"
    assert "task_visa_prepare" in j.open_ids(case)
