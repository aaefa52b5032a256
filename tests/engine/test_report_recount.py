"""engine.report: every figure of the funder's report equals a plain recount from the cases' facts, on a varied,
seeded set of journeys (firms with and without a record, persons and firms with several journeys, two versions
of a process, cases of another center and of another process, referrals mentioned more than once with differing
types and contacts, journeys completed, cancelled and dropped), for a month, a quarter, a year and a free range."""
import random
import statistics
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import report
from engine.db import db
from engine.models import Case, CaseMilestone, DeployedFile, Deployment, Organisation, ProcessDefinition
from engine.models.organisation import size_class

PROCESSES = (("employer_journey", 1), ("employer_journey", 2), ("worker_journey", 1),
             ("worker_journey_by_hire", 1), ("worker_visa", 1))
NAMES = ("Ravi Kumar", "ravi  KUMAR", "Maria Santos", "Olena Kovalenko", "Ali Yilmaz", "Ana Souza")
REFERRALS = (("language", "bamf_vhs"), ("recognition", "ihk"), ("housing", "city"))
PERIODS = ({"period": "month", "value": "2026-03"}, {"period": "quarter", "value": "2026-Q2"},
           {"period": "year", "value": "2026"}, {"period": "range", "from": "2025-11-15", "to": "2026-08-10"},
           {"period": "year", "value": "2024"})


def _definitions():
    deployment = Deployment(checksum="x" * 64)
    db.session.add(deployment)
    db.session.flush()
    source = DeployedFile(deployment_id=deployment.id, name="t.bpmn", kind="bpmn", checksum="x" * 64, content="")
    db.session.add(source)
    db.session.flush()
    out = []
    for key, version in PROCESSES:
        definition = ProcessDefinition(key=key, version=version, name=key, checksum="x" * 64,
                                       deployment_id=deployment.id, source_file_id=source.id, spec_json="{}",
                                       forms={}, message_starts=[])
        db.session.add(definition)
        out.append(definition)
    db.session.flush()
    return out


@pytest.fixture
def journeys(people):
    rng = random.Random(19)
    definitions = _definitions()
    firms = [people["firm"], people["other_firm"]]
    for n, (employees, kreis) in enumerate(((None, ""), (7, "Kreis Düren"), (120, None), (900, "Kreis Heinsberg"))):
        firm = Organisation(kind="employer", name=f"Firma {n}", center_id=people["center"].id)
        firm.employees, firm.kreis = employees, kreis
        firms.append(firm)
    db.session.add_all(firms)
    db.session.flush()
    for n in range(120):
        definition = rng.choice(definitions)
        started = datetime(2025, 10, 1, 8, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 450),
                                                                             hours=rng.choice((0, 15)))
        status = rng.choice(("active", "active", "completed", "cancelled"))
        journey = Case(reference=f"T-{n}", definition_id=definition.id, subject=f"Fall {n}", state="{}",
                       serializer_version="1", library_version="3.2.0", status=status, started_at=started,
                       center_id=(people["other_center"] if n % 9 == 0 else people["center"]).id,
                       ended_at=None if status == "active" else started + timedelta(days=rng.randint(0, 120)))
        facts = {}
        if definition.key == "employer_journey":
            journey.employer_id = rng.choice([None, None, *(firm.id for firm in firms)])
            if rng.random() < 0.7:
                facts["staff_count"] = rng.choice((3, 12, 60, 300))
            elif rng.random() < 0.5:
                facts["firm_size_class"] = rng.choice(("micro", "medium", "large"))
            if rng.random() < 0.7:
                facts["firm_location"] = rng.choice(sorted(report.LOCATION_KREIS))
            facts["referrals"] = [
                {"topic": topic, "partner": partner, "partner_type": rng.choice(("BAMF", "chamber", "other")),
                 "referred_on": (started + timedelta(days=rng.randint(0, 90))).date().isoformat(),
                 "contact_made": rng.choice(("yes", "no"))}
                for topic, partner in rng.sample(REFERRALS, rng.randint(0, 3))]
        else:
            facts["worker_name"] = rng.choice(NAMES)
            if rng.random() < 0.8:
                facts["nationality"] = rng.choice(("Indien", "Brasilien", "Ukraine"))
            if rng.random() < 0.8:
                facts["residence_path"] = rng.choice(("blue_card", "skilled_worker_vocational"))
            if status == "completed" and rng.random() < 0.6:
                facts["journey_outcome"] = rng.choice(("stayed", "left"))
        report.keep_facts(journey, report.case_facts(facts))
        db.session.add(journey)
        db.session.flush()
        for key in ("kuemmerer_named", "kuemmerer_trained", "closed_after_first_consultation",
                    "worker_journey_stopped"):
            if rng.random() < 0.2:
                db.session.add(CaseMilestone(case_id=journey.id, key=key, label=key, element_id="x",
                                             reached_at=started + timedelta(days=rng.randint(1, 100))))
    db.session.commit()


def _recount(center_id, period) -> report.FunderReport:
    """The report's definitions (engine/report.py's docstring) applied in Python to the cases' facts."""
    start, end = period.bounds()
    expected = report.FunderReport(center="", period=period)
    rows = db.session.scalars(select(Case).where(Case.center_id == center_id)).all()
    milestones = {}
    for milestone in db.session.scalars(select(CaseMilestone)):
        milestones.setdefault(milestone.case_id, []).append(milestone)
    family = {key: "employer" for key in report.EMPLOYER_PROCESSES} | {key: "worker" for key in report.WORKER_PROCESSES}
    journeys = [c for c in rows if c.definition.key in family]
    active = [c for c in journeys if c.started_at < end and (c.ended_at is None or c.ended_at >= start)]

    def newest(key, family_name):
        found = {}
        for c in sorted((c for c in active if family[c.definition.key] == family_name), key=lambda c: (c.started_at, c.id)):
            found[key(c)] = c
        return found

    def firm(c):
        return c.employer_id if c.employer_id is not None else -c.id

    def count(counts, value):
        counts[value] = counts.get(value, 0) + 1

    for c in newest(firm, "employer").values():
        facts, organisation = c.facts, c.employer
        if organisation is not None and organisation.employees is not None:
            size = size_class(organisation.employees)
        elif "staff_count" in facts:
            size = size_class(facts["staff_count"])
        else:
            size = facts.get("firm_size_class", "unknown")
        kreis = (organisation.kreis if organisation is not None and organisation.kreis else None) \
            or report.LOCATION_KREIS.get(facts.get("firm_location"), "unknown")
        expected.firms += 1
        count(expected.firms_by_size, size)
        count(expected.firms_by_kreis, kreis)
    for key, attribute in (("kuemmerer_named", "kuemmerer_named"), ("kuemmerer_trained", "kuemmerer_trained")):
        setattr(expected, attribute, len({firm(c) for c in active if family[c.definition.key] == "employer"
                                          and any(m.key == key and start <= m.reached_at < end
                                                  for m in milestones.get(c.id, []))}))

    def person(c):
        return " ".join(c.facts["worker_name"].split()).casefold(), c.facts.get("nationality")

    for c in newest(person, "worker").values():
        stopped = c.status == "cancelled" or any(m.key == "worker_journey_stopped" for m in milestones.get(c.id, []))
        outcome = c.facts.get("journey_outcome") or ("stopped" if stopped else "open" if c.status == "active"
                                                     else "completed")
        expected.workers += 1
        count(expected.workers_by_country, c.facts.get("nationality", "unknown"))
        count(expected.workers_by_path, c.facts.get("residence_path", "unknown"))
        count(expected.workers_by_outcome, outcome)

    referrals = {}
    for c in active:
        if family[c.definition.key] == "employer":
            for item in c.facts.get("referrals", []):
                if period.start <= date.fromisoformat(item["referred_on"]) < period.end:
                    key = (firm(c), item["topic"], item["partner"])
                    known_type, known_contact = referrals.get(key, ("", False))
                    referrals[key] = (max(known_type, item["partner_type"]),
                                      known_contact or item["contact_made"] == "yes")
    for partner_type, contact in referrals.values():
        made, contacted = expected.referrals_by_partner.get(partner_type, (0, 0))
        expected.referrals_by_partner[partner_type] = (made + 1, contacted + contact)
        expected.referrals += 1
        expected.referrals_with_contact += contact

    for family_name in ("employer", "worker"):
        days = {"completed": [], "dropped": []}
        for c in journeys:
            if family[c.definition.key] == family_name and c.ended_at is not None and start <= c.ended_at < end:
                dropped = c.status == "cancelled" or any(m.key in report.DROPPED_MILESTONES
                                                         for m in milestones.get(c.id, []))
                days["dropped" if dropped else "completed"].append((c.ended_at - c.started_at).total_seconds() / 86400)
        median = {kind: round(statistics.median(values), 1) if values else None for kind, values in days.items()}
        expected.journeys[family_name] = report.Journeys(len(days["completed"]), len(days["dropped"]),
                                                         median["completed"], median["dropped"])
    return expected


@pytest.mark.parametrize("args", PERIODS, ids=lambda args: args.get("value") or "range")
def test_every_figure_equals_a_recount_from_the_facts(journeys, people, args):
    period = report.parse_period(args, date(2026, 12, 6))
    figures = report.funder_report(people["sara"], period)
    expected = _recount(people["center"].id, period)
    assert figures.rows() == expected.rows()
    if args.get("value") != "2024":
        assert figures.firms and figures.workers and figures.referrals      # the data set reaches every section


def test_the_referral_rows_follow_the_kept_facts(people):
    """A change of a case's other facts keeps its referral rows; a change of its referrals replaces them."""
    journey = Case(reference="T-R", definition_id=_definitions()[0].id, subject="Fall R", state="{}",
                   serializer_version="1", library_version="3.2.0", status="active",
                   started_at=datetime(2026, 3, 1, 8, tzinfo=timezone.utc), center_id=people["center"].id)
    db.session.add(journey)
    db.session.flush()

    def kept(data):
        changed = report.keep_facts(journey, report.case_facts(data))
        db.session.flush()
        db.session.expire(journey)              # what the database holds
        return changed, journey.facts, [(r.topic, r.partner, r.referred_on, r.contact_made) for r in journey.referrals]

    referral = {"topic": "language", "partner": "bamf_vhs", "referred_on": "2026-03-02", "contact_made": "no"}
    assert kept({"referrals": [referral]}) == (True, {"referrals": [referral]},
                                               [("language", "bamf_vhs", date(2026, 3, 2), False)])
    assert kept({"referrals": [referral], "staff_count": 12}) == (
        True, {"referrals": [referral], "staff_count": 12}, [("language", "bamf_vhs", date(2026, 3, 2), False)])
    assert kept({"referrals": [referral], "staff_count": 12})[0] is False
    contacted = {**referral, "contact_made": "yes"}
    assert kept({"referrals": [contacted], "staff_count": 12})[2] == [("language", "bamf_vhs", date(2026, 3, 2), True)]
    assert kept({"staff_count": 12})[2] == []
