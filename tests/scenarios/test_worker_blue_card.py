"""An IT specialist from a third country on an EU Blue Card: no recognition, no agency approval."""
from datetime import date, timedelta

from tests.scenarios.driver import Journey, confirm_path, enter, first_steps, intake, iso, settle, visa


def test_it_specialist_on_blue_card_without_recognition(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Ravi Kumar", data={"worker_name": "Ravi Kumar"})
    intake(j, case, nationality="Indien", qualification_type="academic", degree_comparable=True,
           occupation_group="it", annual_salary=56000, employment_start="2026-07-01")

    # DMN with the 2026 figures: 56,000 EUR is above the general threshold of 50,700 EUR
    assert j.value(case, "proposed_residence_path") == "blue_card"
    assert j.value(case, "legal_basis") == "§ 18g Abs. 1 AufenthG"
    assert j.value(case, "salary_threshold") == 50700
    assert j.value(case, "recognition_required") is False
    assert j.value(case, "ba_approval_required") is False
    path = j.task(case, "task_path_confirm")
    assert path.candidate_groups == ["advisor"] and path.due_at == path.created_at + timedelta(days=3)
    confirm_path(j, case)

    # regular visa procedure: no legal deadline, the advisor's expected date is the due date
    prepare = j.task(case, "task_visa_prepare")
    assert prepare.actor == "worker" and prepare.form_key == "visa_prepare"
    visa(j, case, fast_track=False, valid_days=120)
    valid_until = date.fromisoformat(j.value(case, "visa_valid_until"))

    enter(j, case)
    permit = j.task(case, "task_permit_apply")
    assert permit.due_at.date() == valid_until - timedelta(days=28)     # residence permit before the visa expires
    first_steps(j, case)
    settle(j, case)

    assert j.case(case).status == "completed"
    assert not j.ever(case, "task_recognition_prepare") and not j.ever(case, "task_ba_answer")
    assert j.milestones(case) == [
        "intake_done", "path_decided", "visa_decided", "visa_granted", "worker_entered", "registered",
        "residence_permit", "arrival_done", "checkin_1m", "checkin_3m", "checkin_6m", "settling_closed",
        "worker_journey_completed"]


def test_2025_contract_uses_2025_thresholds(people):
    j = Journey(people)
    case = j.start("worker_journey", data={"worker_name": "Wen Li"})
    # 49,000 EUR: above the 2025 threshold (48,300) but below 2026 (50,700); shortage occupation
    intake(j, case, qualification_type="academic", degree_comparable=True, occupation_group="engineering",
           annual_salary=49000, employment_start="2025-12-01")
    assert (j.value(case, "proposed_residence_path"), j.value(case, "salary_threshold"),
            j.value(case, "ba_approval_required")) == ("blue_card", 48300, False)

    other = j.start("worker_journey", data={"worker_name": "Ana Souza"})
    intake(j, other, qualification_type="academic", degree_comparable=True, occupation_group="engineering",
           annual_salary=49000, shortage_or_starter=True, employment_start="2026-09-01")
    assert (j.value(other, "proposed_residence_path"), j.value(other, "salary_threshold"),
            j.value(other, "ba_approval_required")) == ("blue_card", 45934.20, True)
