"""engine.report: the funder's figures, recomputed here from the cases this test runs through the bundled
journeys (firms of every size class, one large firm outside the KMU share, a firm with two cases, a worker
with two cases, referrals with and without contact, a dropped firm and a cancelled worker journey)."""
from datetime import date, datetime, timezone

from sqlalchemy import or_, select

from engine import cases, casedata, clock, report, state, users
from engine.db import db
from engine.errors import InvalidFields
from engine.models import Case, CaseReferral, Organisation, ProcessDefinition
from tests.scenarios.driver import Journey, confirm_path, intake, iso

import pytest

CONSULTATION = dict(firm_name="x", firm_size_class="small", staff_count=15, sector="crafts",
                    firm_location="kreis_dueren", contact_name="C", contact_email="c@example.org",
                    hiring_occupations="Elektroniker:in", positions_planned=1, hiring_countries=["IN"],
                    hiring_timeline="6m", prior_experience="none", consent_data_processing=True,
                    continue_cooperation="yes")


def _firm(people, key, name, employees, kreis):
    firm = users.get_organisation("employer", name, center=people["center"])
    firm.employees, firm.kreis = employees, kreis
    people[key] = firm


@pytest.fixture
def scenario(people):
    _firm(people, "micro", "Mikro GmbH", 5, "Kreis Düren")
    _firm(people, "medium", "Mittel AG", 120, "Kreis Heinsberg")
    _firm(people, "large", "Groß AG", 800, "StädteRegion Aachen")
    people["firm"].employees, people["firm"].kreis = 15, "StädteRegion Aachen"
    db.session.commit()
    j = Journey(people)
    employer = {}
    for key in ("firm", "micro", "medium", "large"):
        employer[key] = j.start("employer_journey", firm=key, subject=people[key].name)
        j.complete(employer[key], "task_first_consultation", CONSULTATION)
    second = j.start("employer_journey", firm="firm", subject="Elektro Jansen GmbH, zweite Runde")   # same firm
    j.complete(second, "task_first_consultation", CONSULTATION)
    dropped = j.start("employer_journey", firm="other_firm", subject="Bäckerei Schmitz")    # no headcount on record
    j.complete(dropped, "task_first_consultation", dict(CONSULTATION, staff_count=12, firm_location="staedteregion_aachen",
                                                       continue_cooperation="no", dropout_reason="no_need"))
    # referrals of the small firm: two topics, contact made for one
    small = employer["firm"]
    j.complete(small, "task_referral_needs", dict(referral_topics=["recognition", "language"], firm_is_craft=True))
    for _ in range(2):
        j.complete(small, "task_referral_record", dict(referral_partner_confirmed=True, referral_date=iso(j.today()),
                                                       referral_method="warm_handover"))
    j.advance(days=14, hours=1)
    j.complete(small, "task_referral_followup", dict(referral_contact_made="yes"))
    j.complete(small, "task_referral_followup", dict(referral_contact_made="no"))
    j.complete(small, "task_nominate", dict(kuemmerer_name="Tom Jansen", kuemmerer_email="tom@example.org"),
               actor="jansen")
    # workers: Ravi Kumar twice (one person), Maria Santos, Olena Kovalenko (cancelled)
    workers = []
    for name, nationality in (("Ravi Kumar", "Indien"), ("Ravi  kumar", "Indien"), ("Maria Santos", "Brasilien"),
                              ("Olena Kovalenko", "Ukraine")):
        case = j.start("worker_journey", subject=name, data={"worker_name": name})
        intake(j, case, worker_name=name, nationality=nationality)
        confirm_path(j, case)
        workers.append(case)
    cases.cancel_case(workers[-1].id, people["sara"], "zurückgezogen")
    db.session.commit()
    j.reload()
    return j, employer, workers


def _recomputed(center_id, start, end):
    """The figures straight from the cases' workflows and the firms' records (not from case.facts), of the
    journeys active in [start, end) (started before its end, not ended before its start). A firm or person
    with several journeys counts with its newest one (latest start): the last one read here."""
    firms, workers, referrals = {}, {}, {}
    for case in db.session.scalars(select(Case).where(Case.center_id == center_id, Case.started_at < end,
                                                      or_(Case.ended_at.is_(None), Case.ended_at >= start))
                                   .order_by(Case.started_at, Case.id)):
        data = casedata.current(state.load(case))
        key = case.definition.key
        if key == "employer_journey":
            firm = db.session.get(Organisation, case.employer_id)
            employees = firm.employees if firm.employees is not None else data["staff_count"]
            firms[firm.id] = "large" if employees >= 250 else "kmu"
            for item in data.get("referrals", []):
                if "partner" in item:
                    key = (firm.id, item["topic"], item["partner"])
                    known_type, known_contact = referrals.get(key, ("", "no"))
                    referrals[key] = (max(known_type, item["partner_type"]),
                                      "yes" if "yes" in (item["contact_made"], known_contact) else "no")
        elif key == "worker_journey":
            person = (" ".join(data["worker_name"].split()).casefold(), data["nationality"])
            workers[person] = (data["nationality"], data["residence_path"])
    return firms, workers, referrals


def test_the_figures_equal_those_recomputed_from_the_cases(scenario, people):
    j, employer, workers = scenario
    period = report.parse_period({"period": "quarter", "value": "2026-Q1"}, date(2026, 3, 20))
    # a journey that ran and ended in 2025-Q3, before every period asked for here: counted in none of them
    earlier = j.start("worker_journey", subject="Ana Lima", data={"worker_name": "Ana Lima"})
    intake(j, earlier, worker_name="Ana Lima", nationality="Peru")
    confirm_path(j, earlier)
    cases.cancel_case(earlier.id, people["sara"], "zurückgezogen")
    earlier = db.session.get(Case, earlier.id)
    earlier.started_at, earlier.ended_at = datetime(2025, 8, 1, 8, tzinfo=timezone.utc), datetime(2025, 8, 20, 8, tzinfo=timezone.utc)
    db.session.commit()
    figures = report.funder_report(people["sara"], period)
    firms, persons, referrals = _recomputed(people["center"].id, *period.bounds())
    assert len(_recomputed(people["center"].id, *report.parse_period(
        {"period": "quarter", "value": "2025-Q3"}, date(2026, 3, 20)).bounds())[1]) == 1

    assert figures.firms == len(firms) == 5                          # the small firm's two cases count once
    assert figures.firms_by_size == {"micro": 1, "small": 2, "medium": 1, "large": 1}
    assert figures.kmu == sum(1 for size in firms.values() if size == "kmu") == 4
    assert figures.kmu_share == 80.0                                  # the large firm is outside the share
    assert figures.firms_by_kreis == {"StädteRegion Aachen": 3, "Kreis Düren": 1, "Kreis Heinsberg": 1}
    assert figures.kuemmerer_named == 1 and figures.kuemmerer_trained == 0

    assert figures.workers == len(persons) == 3                      # Ravi Kumar's two cases: one person
    assert figures.workers_by_country == {"Indien": 1, "Brasilien": 1, "Ukraine": 1}
    expected_paths = {}
    for _country, path in persons.values():
        expected_paths[path] = expected_paths.get(path, 0) + 1
    assert figures.workers_by_path == expected_paths
    assert figures.workers_by_outcome == {"open": 2, "stopped": 1}

    # each referral once (a case's referral list must not hold one twice), per partner type
    assert figures.referrals == len(referrals) == 2 and figures.referrals_with_contact == 1
    made = {}
    for partner_type, contact in referrals.values():
        before = made.get(partner_type, (0, 0))
        made[partner_type] = (before[0] + 1, before[1] + (contact == "yes"))
    assert figures.referrals_by_partner == made
    small_referrals = casedata.current(state.load(db.session.get(Case, employer["firm"].id)))["referrals"]
    assert len(small_referrals) == len({(r["topic"], r["partner"]) for r in small_referrals}) == 2

    assert figures.journeys["employer"].dropped == 1 and figures.journeys["employer"].dropped_median_days == 0.0
    assert figures.journeys["worker"].dropped == 1 and figures.journeys["worker"].completed == 0

    rows = figures.rows()
    assert ("firms_by_size", "large", 1) in rows and ("firms", "kmu_share_percent", 80.0) in rows
    csv_lines = report.as_csv(figures).splitlines()
    assert csv_lines[0] == "center,period,section,item,figure" and len(csv_lines) == len(rows) + 1
    from openpyxl import load_workbook
    import io
    sheet = load_workbook(io.BytesIO(report.as_xlsx(figures))).active
    assert [tuple(r[2:]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        (s, str(i), f) for s, i, f in rows]

    # the quarter before: nothing had started; later ones count the journeys still running, not what ended
    before = report.funder_report(people["sara"], report.parse_period({"period": "quarter", "value": "2025-Q4"},
                                                                      date(2026, 3, 20)))
    assert before.firms == before.workers == before.referrals == 0
    later = report.funder_report(people["sara"], report.parse_period({"period": "quarter", "value": "2026-Q3"},
                                                                     date(2026, 3, 20)))
    assert (later.firms, later.workers, later.referrals, later.journeys["employer"].dropped) == (4, 2, 0, 0)
    kim = users.ensure_user("kim", "Kim Köln", organisation=people["other_center"], groups=["supervisor"])
    assert report.funder_report(kim, period).firms == 0
    assert report.funder_report(people["anna"], period) is None


def test_a_person_or_firm_with_several_journeys_counts_with_the_newest(scenario, people):
    j, employer, workers = scenario
    period = report.parse_period({"period": "quarter", "value": "2026-Q1"}, date(2026, 3, 20))

    def oldest_first(rows):
        return sorted((db.session.get(Case, case.id) for case in rows), key=lambda case: (case.started_at, case.id))
    ravi = oldest_first(workers[:2])
    firm = oldest_first(db.session.scalars(select(Case).join(ProcessDefinition).where(
        Case.employer_id == people["firm"].id, ProcessDefinition.key == "employer_journey")))
    assert len(ravi) == len(firm) == 2
    people["firm"].employees = None                          # the firm's size from its journeys' headcount
    for (older, newer), name, values in ((ravi, "residence_path", ("older", "newer")),
                                         (firm, "staff_count", (5, 300))):
        report.keep_facts(older, dict(older.facts, **{name: values[0]}))
        report.keep_facts(newer, dict(newer.facts, **{name: values[1]}))
    db.session.commit()
    figures = report.funder_report(people["sara"], period)
    assert figures.workers == 3 and figures.workers_by_path.get("newer") == 1 and "older" not in figures.workers_by_path
    assert figures.firms == 5 and figures.firms_by_size == {"micro": 1, "small": 1, "medium": 1, "large": 2}


@pytest.mark.parametrize("args, field", [
    ({"period": "month", "value": "2026-13"}, "value"), ({"period": "quarter", "value": "2026-Q5"}, "value"),
    ({"period": "range", "from": "2026-05-01", "to": "2026-04-01"}, "to"), ({"period": "range", "to": "x"}, "from"),
    ({"period": "week"}, "period")])
def test_a_wrong_period_names_its_field(ctx, args, field):
    with pytest.raises(InvalidFields) as wrong:
        report.parse_period(args, date(2026, 3, 20))
    assert field in wrong.value.errors


def test_periods():
    today = date(2026, 5, 20)
    assert report.parse_period({}, today).label == "Q2/2026"
    month = report.parse_period({"period": "month", "value": "2026-02"}, today)
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 3, 1))
    free = report.parse_period({"period": "range", "from": "01.01.2026", "to": "2026-01-31"}, today)
    assert (free.start, free.end, free.kind) == (date(2026, 1, 1), date(2026, 2, 1), "range")
    assert report.parse_period({"period": "year"}, today).label == "2026"


def test_refresh_facts_restores_what_cases_stored_before_kept(scenario, people):
    j, employer, _workers = scenario
    expected = db.session.get(Case, employer["firm"].id).facts
    assert [r["topic"] for r in expected["referrals"]] == ["recognition", "language"]
    period = report.parse_period({"period": "quarter", "value": "2026-Q1"}, date(2026, 3, 20))
    figures = report.funder_report(people["sara"], period).rows()
    db.session.execute(Case.__table__.update().values(facts=None, report_person_key=None, report_country=None,
                                                      report_path=None, report_size=None, report_kreis=None))
    db.session.execute(CaseReferral.__table__.delete())
    db.session.commit()
    assert report.funder_report(people["sara"], period).rows() != figures
    assert report.refresh_facts(batch=3) == len(db.session.scalars(select(Case.id)).all())
    db.session.expire_all()
    assert db.session.get(Case, employer["firm"].id).facts == expected
    assert report.refresh_facts() == 0
    assert report.funder_report(people["sara"], period).rows() == figures
