"""An EU citizen: free movement, so no recognition, no visa, no approval — registration only."""
from datetime import timedelta

from tests.scenarios.driver import Journey, enter, first_steps, intake, iso, settle, confirm_path

VISA_AND_RECOGNITION = {"task_visa_prepare", "task_recognition_prepare", "task_power_of_attorney",
                        "task_permit_apply", "task_ba_answer"}


def test_eu_citizen_takes_the_short_path(people):
    j = Journey(people)
    case = j.start("worker_journey", subject="Lucía García", data={"worker_name": "Lucía García"})
    intake(j, case, nationality="Spanien", nationality_group="eu", qualification_type="vocational",
           occupation_group="crafts", annual_salary=38000)
    assert j.value(case, "proposed_residence_path") == "eu_free_movement"
    assert j.value(case, "recognition_required") is False
    assert j.value(case, "ba_approval_required") is False
    confirm_path(j, case)

    # straight to arrival: nothing about visas, recognition or the agency
    assert j.open_ids(case) == ["task_entry"]
    enter(j, case, move_in=j.today())
    registration = j.task(case, "task_registration")
    assert registration.actor == "worker" and registration.due_at.date() == j.today() + timedelta(days=14)
    assert "task_permit_apply" not in j.open_ids(case)
    assert j.outbox() == []                      # not linked to an employer case: no arrival message

    # the non-interrupting reminder fires when four days are left (day 10 is over), the task stays open
    j.advance(days=10, hours=1)
    assert "task_registration_reminder" not in j.open_ids(case)
    j.advance(days=1)
    assert "task_registration_reminder" in j.open_ids(case)
    assert "task_registration" in j.open_ids(case)
    j.complete(case, "task_registration_reminder", dict(registration_reminder_channel="phone"))
    first_steps(j, case)
    settle(j, case)

    assert j.case(case).status == "completed"
    assert not any(j.ever(case, element) for element in VISA_AND_RECOGNITION)
    assert j.milestones(case) == ["intake_done", "path_decided", "worker_entered", "registered", "arrival_done",
                                  "checkin_1m", "checkin_3m", "checkin_6m", "settling_closed",
                                  "worker_journey_completed"]
