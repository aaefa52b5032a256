"""Demo organisations, users and cases for `make run` (idempotent: run it as often as you like)."""
from datetime import timedelta

from sqlalchemy import func, select

from engine import cases, clock, snapshot, users
from engine.db import db
from engine.deploy import latest_definition
from engine.models import Case, HumanTask

PASSWORD = "lotse-demo"

PEOPLE = [
    # username, name, organisation key, groups
    ("berater", "Anna Berger", "aachen", ["advisor"]),
    ("berater2", "Ben Okafor", "aachen", ["advisor"]),
    ("leitung", "Sara Klein", "aachen", ["advisor", "supervisor"]),
    ("prozess", "Paul Prozess", "aachen", ["process_owner"]),
    ("admin", "Ada Admin", "aachen", ["admin", "supervisor", "process_owner"]),
    ("dueren", "Dilara Demir", "dueren", ["advisor", "supervisor"]),
    ("jansen", "Petra Jansen", "jansen", ["employer"]),
    ("schmitz", "Jo Schmitz", "schmitz", ["employer"]),
]


def load() -> list[str]:
    """Create what is missing and return lines describing the demo logins."""
    aachen = users.get_organisation("center", "Welcome Center Region Aachen", code="AC", region="StädteRegion Aachen")
    dueren = users.get_organisation("center", "Welcome Center Kreis Düren", code="DN", region="Kreis Düren")
    orgs = {
        "aachen": aachen, "dueren": dueren,
        "jansen": users.get_organisation("employer", "Elektro Jansen GmbH", center=aachen, region="Stadt Aachen"),
        "schmitz": users.get_organisation("employer", "Pflegedienst Schmitz", center=aachen, region="Kreis Heinsberg"),
    }
    # The administration's fields (engine/organisations.py), set once: an admin may change them later.
    for org, values in ((aachen, {"areas": ["StädteRegion Aachen", "Kreis Heinsberg", "Kreis Euskirchen"]}),
                        (dueren, {"areas": ["Kreis Düren"]}),
                        (orgs["jansen"], {"kreis": "StädteRegion Aachen", "legal_form": "GmbH",
                                          "sector": "Elektrotechnik", "employees": 24, "city": "Aachen"}),
                        (orgs["schmitz"], {"kreis": "Kreis Heinsberg", "sector": "Pflege", "employees": 8,
                                           "city": "Heinsberg"})):
        if org.areas is None and org.kreis is None:
            for field, value in values.items():
                setattr(org, field, value)
    created = {}
    for username, name, org, groups in PEOPLE:
        created[username] = users.ensure_user(username, name, organisation=orgs[org], groups=groups,
                                              password=PASSWORD, email=f"{username}@example.org")
    for key in ("jansen", "schmitz"):          # each firm's own contact is its Kümmerer:in
        orgs[key].kuemmerer_id = orgs[key].kuemmerer_id or created[key].id
    db.session.commit()

    lines = [f"demo login: {u:<9} password: {PASSWORD}  ({n}, {', '.join(g)})" for u, n, _o, g in PEOPLE]
    existing = db.session.scalar(select(func.count()).select_from(Case))
    if existing:
        return lines + [f"{existing} cases already present"]
    started = 0
    for key, subject, employer, data in DEMO_CASES:
        if latest_definition(key) is None:
            lines.append(f"process {key!r} not deployed; demo case for {subject} skipped")
            continue
        case = cases.start_case(key, center=aachen, employer=orgs.get(employer), subject=subject, data=data,
                                actor=created["berater"], responsible=created["berater"])
        if subject == FAST_TRACK_WORKER:
            _to_the_power_of_attorney(case, created["berater"])
        started += 1
    return lines + [f"{started} demo cases started"]


DEMO_CASES = [
    ("employer_journey", "Elektro Jansen GmbH", "jansen", {"firm_name": "Elektro Jansen GmbH"}),
    ("employer_journey", "Pflegedienst Schmitz", "schmitz", {"firm_name": "Pflegedienst Schmitz"}),
    ("worker_journey", "Ravi Kumar", "jansen", {"worker_name": "Ravi Kumar"}),
    ("worker_journey", "Maria Santos", "schmitz", {"worker_name": "Maria Santos"}),
    ("worker_journey", "Olena Kovalenko", "jansen", {"worker_name": "Olena Kovalenko"}),
]


# Ravi Kumar's journey is further on: counselled and on the fast-track procedure (§ 81a AufenthG), it waits for
# the power of attorney that Elektro Jansen collects, so the employer portal shows the firm a step and its date.
FAST_TRACK_WORKER = "Ravi Kumar"
RAVI_INTAKE = dict(consultation_language="en", worker_name="Ravi Kumar", nationality="Indien",
                   nationality_group="third_country", qualification_type="academic", qualification_title="B.Tech.",
                   occupation_group="other", regulated_profession=False, years_experience=4,
                   foreign_qualification_state_recognised=True, has_job_offer=True,
                   occupation="Elektroingenieur", annual_salary=60000, weekly_hours=40, german_level="A2",
                   english_level="C1", family_joining=False, consent_data_processing=True)


def _open_task(case, element_id) -> HumanTask | None:
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.element_id == element_id,
                                                     HumanTask.state == "open"))


def _to_the_power_of_attorney(case, advisor) -> None:
    """The intake and the path (the table's proposal, with the fast track), as the advisor would enter them."""
    intake = _open_task(case, "task_intake")
    if intake is None:
        return
    start = (clock.now().date() + timedelta(days=120)).isoformat()
    cases.complete_task(intake.id, dict(RAVI_INTAKE, employment_start=start), actor=advisor)
    confirm = _open_task(case, "task_path_confirm")
    if confirm is None:
        return
    proposal = snapshot.task_data(case, confirm.id)
    cases.complete_task(confirm.id, {**{k: proposal.get(k) for k in ("residence_path", "recognition_required",
                                                                      "ba_approval_required")},
                                     "use_fast_track": True, "path_note": ""}, actor=advisor)
