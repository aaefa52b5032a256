"""Demo organisations, users and cases for `make run` (idempotent: run it as often as you like)."""
from sqlalchemy import func, select

from engine import cases, users
from engine.db import db
from engine.deploy import latest_definition
from engine.models import Case

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
        cases.start_case(key, center=aachen, employer=orgs.get(employer), subject=subject, data=data,
                         actor=created["berater"], responsible=created["berater"])
        started += 1
    return lines + [f"{started} demo cases started"]


DEMO_CASES = [
    ("employer_journey", "Elektro Jansen GmbH", "jansen", {"firm_name": "Elektro Jansen GmbH"}),
    ("employer_journey", "Pflegedienst Schmitz", "schmitz", {"firm_name": "Pflegedienst Schmitz"}),
    ("worker_journey", "Ravi Kumar", "jansen", {"worker_name": "Ravi Kumar"}),
    ("worker_journey", "Maria Santos", "schmitz", {"worker_name": "Maria Santos"}),
    ("worker_journey", "Olena Kovalenko", "jansen", {"worker_name": "Olena Kovalenko"}),
]
