"""A visa refusal: the worker journey ends without entry and tells the employer case (status stopped)."""
from tests.scenarios.driver import Journey, confirm_path, intake, iso


def test_refused_visa_ends_the_hire_in_the_employer_case(people):
    j = Journey(people)
    employer = j.start("employer_journey", subject="Elektro Jansen GmbH")
    j.complete(employer, "task_first_consultation", dict(
        firm_name="Elektro Jansen GmbH", firm_size_class="small", staff_count=15, sector="crafts",
        firm_location="kreis_dueren", contact_name="Petra Jansen", contact_email="jansen@example.org",
        hiring_occupations="Elektroniker", positions_planned=1, prior_experience="none",
        consent_data_processing=True, continue_cooperation="yes"))
    j.complete(employer, "task_report_hire", dict(hire_status="hired", worker_name="Amina Haddad",
                                                  worker_nationality="Marokko", hire_occupation="Elektronikerin",
                                                  employment_start="2026-09-01"), actor="jansen")
    [worker] = j.children(employer)
    intake(j, worker, worker_name="Amina Haddad", nationality="Marokko", qualification_type="academic",
           degree_comparable=True, occupation_group="engineering", annual_salary=52000)
    confirm_path(j, worker)
    j.complete(worker, "task_visa_prepare", dict(visa_mission="Deutsche Botschaft Rabat",
                                                 appointment_requested_date=iso(j.today()),
                                                 expected_appointment_date=None))
    j.complete(worker, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                     visa_application_complete_date=iso(j.today())))
    j.complete(worker, "task_visa_decision", dict(visa_result="refused", visa_decision_date=iso(j.today()),
                                                  visa_refusal_reason="Zweifel an der Rückkehrbereitschaft"))
    alternatives = j.task(worker, "task_alternatives")
    assert alternatives.priority == 70
    j.complete(worker, "task_alternatives", dict(alternatives_discussed=["remonstration"], alternatives_result="end"))

    assert j.case(worker).status == "completed"
    assert "worker_journey_stopped" in j.milestones(worker)
    name, status, source, target, correlations = j.outbox()[-1]
    assert (name, status, source, target) == ("worker_arrived", "delivered", worker.id, employer.id)
    assert "hire_stopped" in j.milestones(employer) and "worker_arrived" not in j.milestones(employer)
    assert j.value(employer, "hires")[0]["status"] == "stopped"
