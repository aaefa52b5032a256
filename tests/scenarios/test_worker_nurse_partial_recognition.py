"""A nurse from outside the EU: partial recognition, adaptation course, entry under § 16d."""
from datetime import date, timedelta

from tests.scenarios.driver import (Journey, confirm_path, enter, first_steps, intake, iso,
                                    recognition_until_decision, settle, visa)


def test_nurse_with_partial_recognition_and_adaptation_course(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Maria Santos", data={"worker_name": "Maria Santos"})
    intake(j, case, nationality="Philippinen", qualification_type="academic", degree_comparable=False,
           occupation_group="nursing", regulated_profession=True, annual_salary=41000)
    assert j.value(case, "proposed_residence_path") == "skilled_worker_academic"
    assert j.value(case, "recognition_required") is True
    confirm_path(j, case, residence_path="skilled_worker_vocational")   # the advisor corrects the proposal

    # recognition: the table picks the state office for health professions
    assert j.value(case, "proposed_recognition_body") == "bezreg_health"
    prepare = j.task(case, "task_recognition_prepare")
    assert prepare.form_key == "recognition_prepare" and prepare.candidate_groups == ["advisor"]
    recognition_until_decision(j, case)

    # decision due 3 months after the complete file (BQFG § 6; not accelerated)
    decision = j.task(case, "task_recognition_decision")
    assert decision.actor == "authority"
    assert j.value(case, "recognition_decision_due") == "2026-06-02"
    assert decision.due_at.date() == date(2026, 6, 2)
    # the body is late: the boundary timer escalates to the advisor, the decision task stays open
    j.advance(days=(date(2026, 6, 2) - j.today()).days + 1)
    escalation = j.task(case, "task_recognition_overdue")
    assert escalation.candidate_groups == ["advisor", "supervisor"] and escalation.priority == 90
    assert "task_recognition_decision" in j.open_ids(case)
    j.complete(case, "task_recognition_overdue", dict(recognition_overdue_actions=["asked_body"]))

    j.complete(case, "task_recognition_decision", dict(
        recognition_result="partial", recognition_decision_date=iso(j.today()), adaptation_measure="adaptation_course",
        substantial_differences="Praktische Einsätze in der Langzeitpflege"))
    assert j.value(case, "residence_path") == "recognition_measures"          # entry under § 16d (1)
    end_of_course = j.today() + timedelta(days=270)
    j.complete(case, "task_adaptation_plan", dict(adaptation_provider="Pflegeschule Aachen",
                                                  adaptation_end_date=iso(end_of_course),
                                                  adaptation_employer_agrees=True))

    visa(j, case, valid_days=365)
    enter(j, case)
    first_steps(j, case)
    # settling runs the adaptation branch beside the check-ins
    course = j.task(case, "task_adaptation_done")
    assert course.due_at.date() == end_of_course
    j.complete(case, "task_adaptation_done", dict(adaptation_result="passed", adaptation_completed_on=iso(j.today()),
                                                  full_recognition_date=iso(j.today())))
    j.complete(case, "task_permit_change", dict(permit_change_applied_on=iso(j.today()), permit_change_type="18a"))
    settle(j, case)

    assert j.case(case).status == "completed"
    reached = j.milestones(case)
    for key in ("recognition_submitted", "recognition_decided", "recognition_partial", "visa_granted",
                "skilled_worker_permit", "worker_journey_completed"):
        assert key in reached
    assert "recognition_full" not in reached
