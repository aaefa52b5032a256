"""§ 81a AufenthG: an electrician via the accelerated procedure; the agency stays silent; a late visa appointment."""
from datetime import date, timedelta

from engine import clock
from tests.scenarios.driver import (Journey, confirm_path, enter, first_steps, intake, iso,
                                    recognition_until_decision, settle)


def fast_track_start(j, case):
    poa = j.task(case, "task_power_of_attorney")
    assert poa.candidate_groups == ["employer", "advisor"] and poa.actor == "worker"
    j.complete(case, "task_power_of_attorney", dict(poa_signed=True, poa_date=iso(j.today())), actor="jansen")
    agreement = j.task(case, "task_agreement")
    assert agreement.actor == "employer" and agreement.due_at == agreement.created_at + timedelta(days=14)
    j.complete(case, "task_agreement", dict(abh_office="zab_koeln", agreement_date=iso(j.today()),
                                            agreement_signatory="Petra Jansen", signatory_entitled=True,
                                            fast_track_fee_paid=True), actor="jansen")


def test_electrician_via_fast_track_with_approval_fiction(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Elektroniker", data={"worker_name": "Emir Hodžić"})
    intake(j, case, nationality="Bosnien und Herzegowina", qualification_type="vocational",
           occupation_group="crafts", annual_salary=42000)
    assert (j.value(case, "proposed_residence_path"), j.value(case, "recognition_required"),
            j.value(case, "ba_approval_required")) == ("skilled_worker_vocational", True, True)
    confirm_path(j, case, use_fast_track=True)
    fast_track_start(j, case)

    # accelerated recognition (§ 14a BQFG) at the chamber of crafts: 2 months after the complete file
    assert j.value(case, "proposed_recognition_body") == "hwk"
    assert j.value(case, "recognition_accelerated") is True
    recognition_until_decision(j, case, complete_on=j.today())
    assert j.task(case, "task_recognition_decision").due_at.date() == date(2026, 5, 2)
    j.advance(days=30)
    j.complete(case, "task_recognition_decision", dict(recognition_result="full",
                                                       recognition_decision_date=iso(j.today())))

    # agency approval: nobody answers within a week of receiving the request -> approval deemed given
    # (§ 36 (2) BeschV). The week runs from the request, not from when the advisor recorded it.
    requested = j.today()
    j.advance(days=3)
    j.complete(case, "task_ba_forwarded", dict(ba_request_date=iso(requested)))
    answer = j.task(case, "task_ba_answer")
    assert answer.actor == "authority" and answer.due_at == clock.end_of_day(requested + timedelta(days=7))
    j.advance(days=4)                                  # the request's 7th day, 08:00 UTC
    assert "task_ba_answer" in j.open_ids(case)
    j.advance(days=1)
    assert "task_ba_answer" not in j.open_ids(case)
    assert j.value(case, "ba_approval") == "fiction"
    assert j.value(case, "ba_approval_date") == iso(requested + timedelta(days=7))
    assert j.ever(case, "task_ba_answer")[0].state == "cancelled"

    j.complete(case, "task_preapproval", dict(preapproval_date=iso(j.today()), preapproval_sent_to_worker=True))
    assert j.value(case, "fast_track_result") == "preapproval"

    # visa: the mission should give an appointment within 3 weeks and decide within 3 weeks (§ 31a AufenthV)
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsche Botschaft Sarajewo",
                                               appointment_requested_date=iso(j.today()), expected_appointment_date=None))
    appointment = j.task(case, "task_visa_appointment")
    assert appointment.due_at.date() == j.today() + timedelta(days=21)
    j.advance(days=10)
    j.complete(case, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                   visa_application_complete_date=iso(j.today())))
    decision = j.task(case, "task_visa_decision")
    assert decision.due_at.date() == j.today() + timedelta(days=21)
    j.advance(days=12)
    j.complete(case, "task_visa_decision", dict(visa_result="granted", visa_decision_date=iso(j.today()),
                                                visa_valid_from=iso(j.today()),
                                                visa_valid_until=iso(j.today() + timedelta(days=180)), visa_type="18a"))
    assert not j.ever(case, "task_appointment_escalation") and not j.ever(case, "task_decision_escalation")

    enter(j, case)
    first_steps(j, case)
    settle(j, case)
    reached = j.milestones(case)
    assert reached.index("fast_track_agreement") < reached.index("recognition_full") < reached.index("preapproval")
    assert reached.index("preapproval") < reached.index("visa_granted") < reached.index("worker_journey_completed")


def test_late_visa_appointment_escalates(people):
    j = Journey(people)
    case = j.start("worker_journey", data={"worker_name": "Chen Wei"})
    intake(j, case, nationality="China", qualification_type="academic", degree_comparable=True,
           occupation_group="it", annual_salary=60000)
    confirm_path(j, case, use_fast_track=True)
    fast_track_start(j, case)
    # Blue Card above the general threshold: no recognition, no agency approval
    assert j.open_ids(case) == ["task_preapproval"]
    j.complete(case, "task_preapproval", dict(preapproval_date=iso(j.today())))
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsches Generalkonsulat Shanghai",
                                               appointment_requested_date=iso(j.today()), expected_appointment_date=None))

    j.advance(days=20)
    assert "task_appointment_escalation" not in j.open_ids(case)
    j.advance(days=2)
    escalation = j.task(case, "task_appointment_escalation")
    assert escalation.candidate_groups == ["advisor", "supervisor"] and escalation.priority == 90
    assert escalation.actor == "center"
    late = j.task(case, "task_visa_appointment")          # still waiting on the mission, now overdue
    assert late.actor == "authority" and late.due_at < escalation.created_at
    j.complete(case, "task_appointment_escalation", dict(appointment_escalation_actions=["contacted_mission", "contacted_abh"],
                                                         appointment_escalation_note="Servicestelle angeschrieben"))
    assert len(j.ever(case, "task_appointment_escalation")) == 1     # fires once
    j.advance(days=5)
    j.complete(case, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                   visa_application_complete_date=iso(j.today())))
    assert "task_visa_decision" in j.open_ids(case)
