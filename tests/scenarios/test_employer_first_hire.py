"""A firm of 15 staff: first international hire, a Kümmerer, two referrals, follow-ups, closure."""
from datetime import timedelta

from tests.scenarios.driver import Journey, confirm_path, enter, first_steps, intake, iso

FIRST_CONSULTATION = dict(
    firm_name="Elektro Jansen GmbH", firm_size_class="small", staff_count=15, sector="crafts",
    firm_location="kreis_dueren", contact_name="Petra Jansen", contact_email="jansen@example.org",
    hiring_occupations="Elektroniker:in für Energie- und Gebäudetechnik", positions_planned=1,
    hiring_countries=["EU"], hiring_timeline="6m", prior_experience="none", consent_data_processing=True,
    continue_cooperation="yes")


def test_small_firm_first_hire_with_kuemmerer_and_two_referrals(people):
    j = Journey(people)
    case = j.start("employer_journey", subject="Elektro Jansen GmbH")
    j.complete(case, "task_first_consultation", FIRST_CONSULTATION)
    assert j.open_ids(case) == ["task_nominate", "task_referral_needs", "task_report_hire"]
    hire_task = j.task(case, "task_report_hire")
    assert hire_task.candidate_groups == ["employer", "advisor"] and hire_task.actor == "employer"
    assert hire_task.due_at == hire_task.created_at + timedelta(days=90)

    # referral advice: two topics, the table picks the partners (a craft firm -> chamber of crafts)
    j.complete(case, "task_referral_needs", dict(referral_topics=["recognition", "language"], firm_is_craft=True))
    records = [t for t in j.open(case) if t.element_id == "task_referral_record"]
    assert len(records) == 2 and all(t.due_at == t.created_at + timedelta(days=5) for t in records)
    for _ in range(2):
        j.complete(case, "task_referral_record", dict(referral_partner_confirmed=True, referral_date=iso(j.today()),
                                                      referral_method="warm_handover"))
    assert "task_referral_followup" not in j.open_ids(case)
    j.advance(days=14, hours=1)                                      # follow up two weeks later
    followups = [t for t in j.open(case) if t.element_id == "task_referral_followup"]
    assert len(followups) == 2 and {t.actor for t in followups} == {"employer"}
    for _ in range(2):
        j.complete(case, "task_referral_followup", dict(referral_contact_made="yes"))
    referrals = j.value(case, "referrals")
    assert sorted((r["topic"], r["partner"], r["contact_made"]) for r in referrals) == [
        ("language", "bamf_vhs", "yes"), ("recognition", "hwk", "yes")]

    # the Kümmerer: named by the firm, trained, welcome-culture check and onboarding plan
    j.complete(case, "task_nominate", dict(kuemmerer_name="Tom Jansen", kuemmerer_email="tom@example.org"),
               actor="jansen")
    j.complete(case, "task_training_plan", dict(training_date=iso(j.today() + timedelta(days=10)),
                                                training_format="workshop"))
    j.complete(case, "task_culture_check", dict(culture_check_date=iso(j.today()), culture_check=["contact_person"]),
               actor="jansen")
    j.complete(case, "task_onboarding_plan", dict(mentor_name="Uwe Braun", first_day_plan="Rundgang, Werkzeug, Team",
                                                  housing_support="search_help"), actor="jansen")
    assert "task_training_done" not in j.open_ids(case)
    j.advance(days=11)
    j.complete(case, "task_training_done", dict(training_attended="yes", training_certificate=True))

    # the hire: reported by the firm, starts a worker case, correlated by hire_id
    j.complete(case, "task_report_hire", dict(hire_status="hired", worker_name="Luca Rossi", worker_nationality="Italien",
                                              hire_occupation="Elektroniker", employment_start="2026-05-04"),
               actor="jansen")
    [worker] = j.children(case)
    assert worker.definition.key == "worker_journey_by_hire" and worker.employer_id == people["firm"].id
    [(name, status, source, target, correlations)] = j.outbox()
    assert (name, status, source, target) == ("hire_confirmed", "delivered", case.id, worker.id)
    hire_id = correlations["hire"]["hire_id"]
    assert j.value(worker, "hire_id") == hire_id and j.value(worker, "worker_name") == "Luca Rossi"

    intake(j, worker, worker_name="Luca Rossi", nationality="Italien", nationality_group="eu",
           occupation_group="crafts", employment_start="2026-05-04")
    confirm_path(j, worker)
    enter(j, worker)
    arrived = j.outbox()[-1]
    assert arrived[:4] == ("worker_arrived", "delivered", worker.id, case.id)
    assert arrived[4]["hire"]["hire_id"] == hire_id
    first_steps(j, worker)

    # follow-ups after 3 and 6 months, then evaluation and closure
    assert "task_followup_3m" not in j.open_ids(case)
    j.advance(days=92)
    j.complete(case, "task_followup_3m", dict(followup3_date=iso(j.today()), followup3_hires_status="angekommen"))
    j.advance(days=93)
    j.complete(case, "task_followup_6m", dict(followup6_date=iso(j.today()), followup6_retention="all_stayed",
                                              followup6_kuemmerer_active="yes"))
    j.complete(case, "task_evaluation", dict(evaluation_date=iso(j.today()), evaluation_benefit="high", next_step="close"))

    assert j.case(case).status == "completed"
    [hire] = j.value(case, "hires")
    assert hire["status"] == "arrived" and hire["hire_id"] == hire_id
    assert j.milestones(case) == [
        "first_consultation", "referrals_done", "kuemmerer_named", "onboarding_plan", "kuemmerer_trained",
        "kuemmerer_structure", "hire_confirmed", "worker_arrived", "followup_3m", "followup_6m",
        "employer_journey_closed"]
    assert not j.ever(case, "task_open_hires")        # every hire arrived before the 9-month check
    assert "worker_entered" in j.milestones(worker)
