"""The bundled process content: diagrams, decision tables and forms are complete and consistent."""
import pytest

from tests import journeys_harness as harness

PATH_BASE = dict(nationality_group="third_country", has_job_offer=True, qualification_type="academic",
                 degree_comparable=True, annual_salary=0.0, shortage_or_starter=False, contract_year=2026,
                 years_experience=0, foreign_qualification_state_recognised=False,
                 recognition_partnership_agreed=False, regulated_profession=False)


def test_diagrams_parse_and_every_task_is_complete():
    # ids unique across files; user tasks: groups, due date, form (present), actor; catch events: actor
    assert harness.check_content() == []


def test_forms_are_valid_form_js():
    assert harness.check_forms() == []


def test_bundle_deploys_through_the_engine(ctx):
    from engine import deploy
    from tests.scenarios.driver import ROOT
    result = deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    assert sorted(d.key for d in result.created) == [
        "employer_hire", "employer_journey", "employer_kuemmerer", "employer_referral", "employer_referral_item",
        "worker_arrival", "worker_fast_track", "worker_journey", "worker_journey_by_hire", "worker_recognition",
        "worker_settling", "worker_visa"]
    assert len(result.forms) == len(harness.load_forms())
    starts = {d.key: d.message_starts for d in result.created if d.message_starts}
    assert starts == {"worker_journey_by_hire": ["hire_confirmed"]}


@pytest.mark.parametrize("case, expected", [
    (dict(nationality_group="eu"), ("eu_free_movement", False, False)),
    (dict(nationality_group="eu", regulated_profession=True), ("eu_free_movement", True, False)),
    (dict(has_job_offer=False), ("opportunity_card", False, False)),
    (dict(annual_salary=50700.0), ("blue_card", False, False)),                      # exactly the 2026 threshold
    (dict(annual_salary=50699.0), ("skilled_worker_academic", False, True)),
    (dict(annual_salary=46000.0, shortage_or_starter=True), ("blue_card", False, True)),
    (dict(annual_salary=48300.0, contract_year=2025), ("blue_card", False, False)),
    (dict(annual_salary=43759.80, shortage_or_starter=True, contract_year=2025), ("blue_card", False, True)),
    (dict(annual_salary=60000.0, regulated_profession=True), ("blue_card", True, False)),   # e.g. a doctor
    (dict(qualification_type="vocational", degree_comparable=False, annual_salary=46000.0, years_experience=3,
          foreign_qualification_state_recognised=True), ("experience_based", False, True)),
    (dict(qualification_type="vocational", degree_comparable=False, annual_salary=40000.0,
          foreign_qualification_state_recognised=True, recognition_partnership_agreed=True),
     ("recognition_partnership", False, True)),
    (dict(qualification_type="vocational", degree_comparable=False, annual_salary=40000.0),
     ("skilled_worker_vocational", True, True)),
    (dict(degree_comparable=False, annual_salary=40000.0), ("skilled_worker_academic", True, True)),
    (dict(qualification_type="none", degree_comparable=False, annual_salary=30000.0), ("individual_review", False, True)),
])
def test_worker_path_table(case, expected):
    result = harness.decide("worker_path", **{**PATH_BASE, **case})
    assert (result["residence_path"], result["recognition_required"], result["ba_approval_required"]) == expected


@pytest.mark.parametrize("group, qualification, regulated, body", [
    ("nursing", "vocational", True, "bezreg_health"),
    ("medicine", "academic", True, "bezreg_approbation"),
    ("teaching", "academic", True, "bezreg_teaching"),
    ("engineering", "academic", True, "ingenieurkammer"),
    ("engineering", "academic", False, "zab"),
    ("crafts", "vocational", False, "hwk"),
    ("it", "vocational", False, "ihk_fosa"),
    ("commercial_industrial", "vocational", False, "ihk_fosa"),
    ("other", "none", False, "other"),
])
def test_recognition_body_table(group, qualification, regulated, body):
    result = harness.decide("recognition_body", occupation_group=group, qualification_type=qualification,
                            regulated_profession=regulated)
    assert result["recognition_body"] == body


@pytest.mark.parametrize("topic, craft, partner", [
    ("recruitment_abroad", False, "ba_ag_service"), ("recognition", True, "hwk"), ("recognition", False, "ihk"),
    ("residence_law", False, "abh_central"), ("qualification", False, "iq_netzwerk"), ("language", False, "bamf_vhs"),
    ("funding", False, "ba_funding"), ("housing", False, "municipality_housing"),
    ("labour_rights", False, "fair_work"), ("something_else", False, "welcome_center"),
])
def test_referral_partner_table(topic, craft, partner):
    assert harness.decide("referral_partner", referral={"topic": topic}, firm_is_craft=craft)["referral_partner"] == partner


def test_harness_runs_a_journey_without_the_engine():
    """The stand-alone harness (plain SpiffWorkflow + sandbox) reaches the same first tasks."""
    from datetime import datetime, timezone
    harness.Clock.set(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    with harness.Lotse() as lotse:
        case = lotse.start_case("employer_journey")
        lotse.complete(case, "task_first_consultation", dict(firm_name="X", positions_planned=1,
                                                             continue_cooperation="yes", firm_location="kreis_dueren",
                                                             contact_name="A", contact_email="a@example.org"))
        assert sorted(t.id for t in lotse.tasks(case)) == ["task_nominate", "task_referral_needs", "task_report_hire"]
        lotse.complete(case, "task_report_hire", dict(hire_status="hired", worker_name="Luca", worker_nationality="IT",
                                                      hire_occupation="Elektroniker", employment_start="2026-05-04"))
        [worker] = lotse.cases_of("worker_journey_by_hire")
        assert [t.id for t in lotse.tasks(worker)] == ["task_intake"]
        assert lotse.outbox[0][1] == "hire_confirmed"
