"""A firm that drops out after the first consultation."""
from tests.scenarios.driver import Journey


def test_firm_drops_out_after_first_consultation(people):
    j = Journey(people)
    case = j.start("employer_journey", firm="other_firm", subject="Bäckerei Schmitz")

    task = j.task(case, "task_first_consultation")
    assert task.candidate_groups == ["advisor"] and task.actor == "center"
    assert task.form_key == "employer_first_consultation"
    assert task.due_at.date().isoformat() == "2026-03-12"          # P10D

    j.complete(case, "task_first_consultation", dict(
        firm_name="Bäckerei Schmitz", firm_size_class="small", staff_count=12, sector="crafts",
        firm_location="staedteregion_aachen", contact_name="Jo Schmitz", contact_email="jo@example.org",
        hiring_occupations="Bäcker:in", positions_planned=1, prior_experience="none",
        consent_data_processing=True, continue_cooperation="no", dropout_reason="no_need"))

    assert j.case(case).status == "completed"
    assert j.open(case) == []
    assert j.milestones(case) == ["first_consultation", "closed_after_first_consultation"]
    assert j.outbox() == [] and j.children(case) == []
