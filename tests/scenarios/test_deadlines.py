"""Deadlines at the right moment: from the legal event, to the end of the Berlin day, one notice each.

The driver reloads the case from the database (and restores its specs anew) before every step.
"""
from datetime import date, timedelta

from sqlalchemy import select

from engine import clock, notifications
from engine.db import db
from engine.models import CaseEvent
from tests.scenarios.driver import Journey, confirm_path, enter, intake, iso, recognition_until_decision
from tests.scenarios.test_employer_first_hire import FIRST_CONSULTATION
from tests.scenarios.test_worker_fast_track import fast_track_start


def notices(j, case):
    """(element, notice) of every deadline notice the case got."""
    return sorted((e.element_id, e.kind) for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == j.case(case).id, CaseEvent.kind.in_(("reminder_sent", "overdue_notice", "escalated")))))


def eu_worker_entered(j, move_in, work_start=None):
    case = j.start("worker_journey", data={"worker_name": "Lucía García"})
    intake(j, case, nationality="Spanien", nationality_group="eu", occupation_group="crafts", annual_salary=38000)
    confirm_path(j, case)
    enter(j, case, move_in=move_in, work_start=work_start)
    return case


def test_registration_is_due_at_the_end_of_the_fourteenth_day_in_berlin(people):
    j = Journey(people)
    case = eu_worker_entered(j, move_in=j.today())
    deadline = clock.end_of_day(j.today() + timedelta(days=14))        # 16 March, 22:59:59 UTC (CET)
    assert j.task(case, "task_registration").due_at == deadline
    j.advance(days=14, hours=14)                                      # 16 March, 23:00 in Berlin
    assert "task_registration_overdue" not in j.open_ids(case)
    j.advance(hours=1)                                                # 17 March in Berlin
    assert "task_registration_overdue" in j.open_ids(case)
    assert "task_registration" in j.open_ids(case)


def test_each_notice_of_the_registration_comes_from_one_mechanism(people):
    """The diagram reminds (day 10) and follows up (day 14) itself; Lotse adds only the supervisors'
    escalation of the registration. The helper tasks do not escalate themselves."""
    j = Journey(people)
    case = eu_worker_entered(j, move_in=j.today())
    for _ in range(24):
        j.advance(days=1)
        notifications.send_due_notices()
    kinds = notices(j, case)
    assert [k for e, k in kinds if e == "task_registration"] == ["escalated"]
    assert ("task_registration_reminder", "overdue_notice") in kinds
    helpers = ("task_registration_reminder", "task_registration_overdue")
    assert [k for e, k in kinds if e in helpers and k == "escalated"] == []


def test_health_insurance_is_due_before_work_starts(people):
    j = Journey(people)
    work_start = j.today() + timedelta(days=5)
    case = eu_worker_entered(j, move_in=j.today(), work_start=work_start)
    assert j.task(case, "task_health_insurance").due_at == clock.end_of_day(work_start - timedelta(days=1))


def test_recognition_decision_is_due_at_the_end_of_the_day_three_months_after_the_complete_file(people):
    j = Journey(people)
    case = j.start("worker_journey", data={"worker_name": "Emir Hodžić"})
    intake(j, case, qualification_type="vocational", occupation_group="crafts", annual_salary=42000)
    confirm_path(j, case)
    complete_on = recognition_until_decision(j, case)
    due = date(2026, 6, 2)
    assert (complete_on, j.value(case, "recognition_decision_due")) == (date(2026, 3, 2), iso(due))
    assert j.task(case, "task_recognition_decision").due_at == clock.end_of_day(due)
    j.advance(days=(due - j.today()).days, hours=13)                  # 2 June, 23:00 in Berlin (CEST)
    assert "task_recognition_overdue" not in j.open_ids(case)
    j.advance(hours=1)
    assert "task_recognition_overdue" in j.open_ids(case)


def test_visa_appointment_is_due_three_weeks_after_the_pre_approval(people):
    j = Journey(people)
    case = j.start("worker_journey", data={"worker_name": "Chen Wei"})
    intake(j, case, nationality="China", qualification_type="academic", degree_comparable=True,
           occupation_group="it", annual_salary=60000)
    confirm_path(j, case, use_fast_track=True)
    fast_track_start(j, case)
    preapproved = j.today()
    j.complete(case, "task_preapproval", dict(preapproval_date=iso(preapproved)))
    j.advance(days=6)                                  # the worker asks for the appointment a week later
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsches Generalkonsulat Shanghai",
                                               appointment_requested_date=iso(j.today()), expected_appointment_date=None))
    assert j.value(case, "visa_appointment_due") == iso(preapproved + timedelta(days=21))
    assert j.task(case, "task_visa_appointment").due_at == clock.end_of_day(preapproved + timedelta(days=21))


def test_the_employer_follow_ups_are_three_and_six_months_after_the_start(people):
    j = Journey(people)
    case = j.start("employer_journey", subject="Elektro Jansen GmbH")
    started = j.today()
    j.complete(case, "task_first_consultation", FIRST_CONSULTATION)
    j.advance(days=(date(2026, 6, 2) - started).days)                 # 2 June, 10:00 in Berlin
    assert "task_followup_3m" not in j.open_ids(case)
    j.advance(days=1)
    assert "task_followup_3m" in j.open_ids(case)
    j.advance(days=60)                                                # the 3-month follow-up is done late
    j.complete(case, "task_followup_3m", dict(followup3_date=iso(j.today()), followup3_hires_status="offen"))
    j.advance(days=(date(2026, 9, 3) - j.today()).days)               # six months after the start, not three after that
    assert "task_followup_6m" in j.open_ids(case)


def test_a_changed_residence_path_changes_its_legal_basis(people):
    j = Journey(people)
    case = j.start("worker_journey", data={"worker_name": "Maria Santos"})
    intake(j, case, nationality="Philippinen", qualification_type="vocational", occupation_group="nursing",
           regulated_profession=True, annual_salary=41000)
    assert j.value(case, "legal_basis") == "§ 18a AufenthG"              # the table's proposal
    confirm_path(j, case, residence_path="recognition_partnership")     # the advisor decides otherwise
    assert (j.value(case, "residence_path_label"), j.value(case, "legal_basis")) == (
        "Anerkennungspartnerschaft", "§ 16d Abs. 6 AufenthG")


def test_a_partial_recognition_moves_the_legal_basis_to_recognition_measures(people):
    j = Journey(people)
    case = j.start("worker_journey", data={"worker_name": "Maria Santos"})
    intake(j, case, nationality="Philippinen", qualification_type="vocational", occupation_group="nursing",
           regulated_profession=True, annual_salary=41000)
    confirm_path(j, case)
    recognition_until_decision(j, case)
    j.complete(case, "task_recognition_decision", dict(
        recognition_result="partial", recognition_decision_date=iso(j.today()), adaptation_measure="adaptation_course",
        substantial_differences="Langzeitpflege"))
    assert (j.value(case, "residence_path"), j.value(case, "legal_basis")) == (
        "recognition_measures", "§ 16d Abs. 1 AufenthG")


def test_the_referral_list_holds_each_referral_once(people):
    j = Journey(people)
    case = j.start("employer_journey", subject="Elektro Jansen GmbH")
    j.complete(case, "task_first_consultation", FIRST_CONSULTATION)
    j.complete(case, "task_referral_needs", dict(referral_topics=["recognition", "language", "funding"],
                                                 firm_is_craft=True))
    for _ in range(3):
        j.complete(case, "task_referral_record", dict(referral_partner_confirmed=True, referral_date=iso(j.today()),
                                                      referral_method="warm_handover"))
    j.advance(days=15)
    for _ in range(3):
        j.complete(case, "task_referral_followup", dict(referral_contact_made="yes"))
    assert sorted(r["topic"] for r in j.value(case, "referrals")) == ["funding", "language", "recognition"]
    assert all(r["contact_made"] == "yes" for r in j.value(case, "referrals"))
