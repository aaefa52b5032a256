"""Demo organisations, users and cases for `make run` (idempotent: run it as often as you like).

The cases tell a story: they stand at different steps, one task is overdue, one case is in error, an
employer's task is open, and one case belongs to the Düren center (README, "Demo logins").
"""
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import func, select

from engine import cases, clock, pages, snapshot, users
from engine.db import db, drop_everything
from engine.errors import LotseError
from engine.deploy import latest_definition
from engine.forms import validate_submission
from engine.models import Case, HumanTask, InfoItem, User
from engine.models.statuses import TaskStatus

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


# The information library's first items (engine/info_library.py): official German sites, linked from the steps
# whose diagram element names the topic (`info:<topic>`). topic, language, title, url, text.
INFO_ITEMS = [
    ("registration", "de", "Stadt Aachen: Wohnsitz anmelden", "https://www.aachen.de",
     "Termin beim Bürgerservice buchen. Mitbringen: Pass oder Ausweis und die Wohnungsgeberbestätigung."),
    ("registration", "en", "City of Aachen: registering your address", "https://www.aachen.de",
     "Book an appointment at the citizens' office (Bürgerservice). Bring your passport and the landlord's "
     "confirmation (Wohnungsgeberbestätigung)."),
    ("registration", "en", "Make it in Germany: the federal government's portal for skilled workers",
     "https://www.make-it-in-germany.com/en/", ""),
    ("recognition", "de", "Anerkennung in Deutschland: das Portal der Bundesregierung",
     "https://www.anerkennung-in-deutschland.de", "Der Anerkennungs-Finder nennt die zuständige Stelle für Ihren Beruf."),
    ("recognition", "en", "Recognition in Germany: the federal government's portal",
     "https://www.anerkennung-in-deutschland.de", "The Recognition Finder names the body responsible for your occupation."),
    ("recognition", "ar", "الاعتراف في ألمانيا: البوابة الرسمية للحكومة الاتحادية",
     "https://www.anerkennung-in-deutschland.de", "يحدد «Anerkennungs-Finder» الجهة المختصة بمهنتك."),
    ("language_course", "de", "BAMF: Integrationskurse und Berufssprachkurse", "https://www.bamf.de", ""),
    ("language_course", "en", "BAMF: integration courses and job-related German courses", "https://www.bamf.de", ""),
]
INFO_REVIEWED_ON = date(2026, 12, 1)


class NotADemoDatabase(LotseError):
    """The database holds people the demo did not create: it is not reset."""


def reset(force: bool = False) -> None:
    """Empty the demo database (every table; the caller migrates, deploys and loads the demo again).

    Refused when it holds people the demo did not create, unless `force`: a real center's database
    must never be emptied by a mistyped DATABASE_URL."""
    if not force and db.inspect(db.engine).has_table("user"):
        demo_names = {username for username, *_ in PEOPLE}
        others = sorted(set(db.session.scalars(select(User.username))) - demo_names)
        if others:
            raise NotADemoDatabase(
                f"the database has people the demo did not create ({', '.join(others[:5])}"
                f"{', …' if len(others) > 5 else ''}); not resetting it. Check DATABASE_URL; to empty it "
                f"anyway: lotse demo --reset --force")
    drop_everything()


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
    if db.session.scalar(select(func.count()).select_from(InfoItem)) == 0:
        db.session.add_all(InfoItem(topic=topic, language=language, title=title, url=url, text=text,
                                    reviewed_on=INFO_REVIEWED_ON, updated_by_id=created["prozess"].id)
                           for topic, language, title, url, text in INFO_ITEMS)
    db.session.commit()

    lines = [f"demo login: {u:<9} password: {PASSWORD}  ({n}, {', '.join(g)})" for u, n, _o, g in PEOPLE]
    existing = db.session.scalar(select(func.count()).select_from(Case))
    if existing:
        return lines + [f"{existing} cases already present"]
    missing = [key for key in ("employer_journey", "worker_journey", "worker_arrival") if latest_definition(key) is None]
    if missing:
        return lines + [f"processes not deployed ({', '.join(missing)}): run `lotse deploy bpmn forms`, then "
                        f"`lotse demo` again"]
    story = _Story(aachen, dueren, orgs, created)
    return lines + story.tell()


class _Story:
    """The demo cases, told through the engine as people would have worked them: started on different days
    (the engine's clock is set back while a case is started and worked, then put back), so the cases stand
    at different steps, one task is overdue and one case is in error."""

    def __init__(self, aachen, dueren, orgs, people):
        self.aachen, self.dueren, self.orgs, self.people = aachen, dueren, orgs, people
        self.lines = []

    def tell(self) -> list[str]:
        berater, dueren = self.people["berater"], self.people["dueren"]
        # Elektro Jansen: first consultation done; the firm's own tasks are open (Kümmerer:in, report the hire).
        jansen = self.start("employer_journey", "Elektro Jansen GmbH", "jansen", {"firm_name": "Elektro Jansen GmbH"},
                            days_ago=9)
        self.complete(jansen, "task_first_consultation", FIRST_CONSULTATION, berater, days_ago=3)
        # Pflegedienst Schmitz: the first consultation is still to do.
        self.start("employer_journey", "Pflegedienst Schmitz", "schmitz", {"firm_name": "Pflegedienst Schmitz"},
                   days_ago=2)
        # Ravi Kumar: counselled and on the fast-track procedure (§ 81a AufenthG), he waits for the power of
        # attorney that Elektro Jansen collects, so the employer portal shows the firm a step and its date.
        ravi = self.start("worker_journey", "Ravi Kumar", "jansen", {"worker_name": "Ravi Kumar"}, days_ago=5)
        self.complete(ravi, "task_intake", intake("Ravi Kumar", nationality="Indien", occupation_group="it",
                                                  qualification_type="academic", degree_comparable=True,
                                                  occupation="Softwareentwickler", annual_salary=52000),
                      berater, days_ago=2)
        self.complete(ravi, "task_path_confirm", {"residence_path": "blue_card", "recognition_required": False,
                                                  "ba_approval_required": False, "use_fast_track": True,
                                                  "path_note": ""}, berater, days_ago=1)
        # Maria Santos, a nurse: route confirmed, the recognition of her qualification is being prepared.
        maria = self.start("worker_journey", "Maria Santos", "schmitz", {"worker_name": "Maria Santos"}, days_ago=6)
        self.complete(maria, "task_intake", intake("Maria Santos", nationality="Philippinen", occupation_group="nursing",
                                                   qualification_type="academic", degree_comparable=False,
                                                   regulated_profession=True, occupation="Pflegefachkraft",
                                                   annual_salary=41000), berater, days_ago=5)
        self.complete(maria, "task_path_confirm", {"residence_path": "skilled_worker_vocational",
                                                   "recognition_required": True, "ba_approval_required": True,
                                                   "use_fast_track": False,
                                                   "path_note": "Pflegeausbildung, Anerkennung als Pflegefachkraft"},
                      berater, days_ago=4)
        # Olena Kovalenko: nobody has held her intake, due a week after the start: overdue.
        self.start("worker_journey", "Olena Kovalenko", "jansen", {"worker_name": "Olena Kovalenko"}, days_ago=12)
        # Amir Haddad: the arrival part of a journey started by hand, without the journey's data: in error.
        self.start("worker_arrival", "Amir Haddad", "jansen", {"worker_name": "Amir Haddad"}, days_ago=1)
        # At the Düren center: Lena Petrova's intake is done, the route waits for Dilara Demir.
        lena = self.start("worker_journey", "Lena Petrova", None, {"worker_name": "Lena Petrova"}, days_ago=3,
                          center=self.dueren, responsible=dueren)
        self.complete(lena, "task_intake", intake("Lena Petrova", nationality="Serbien", occupation_group="crafts",
                                                  qualification_type="vocational", occupation="Elektronikerin",
                                                  annual_salary=44000), dueren, days_ago=2)
        db.session.commit()
        return self.lines

    def start(self, key, subject, employer, data, *, days_ago, center=None, responsible=None):
        with _days_ago(days_ago):
            case = cases.start_case(key, center=center or self.aachen, employer=self.orgs.get(employer),
                                    subject=subject, data=data, actor=responsible or self.people["berater"],
                                    responsible=responsible or self.people["berater"])
        where = "in error" if case.has_incident else "started"
        self.lines.append(f"demo case {case.reference} ({subject}, {key}): {where}")
        return case

    def complete(self, case, element_id, data, actor, *, days_ago):
        task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == TaskStatus.OPEN,
                                                         HumanTask.element_id == element_id))
        # as the task page would: the form's checks, and only what the form takes
        clean, errors = validate_submission(pages.load_form(task.form_version_id), data,
                                            context=snapshot.task_data(case, task.id))
        if errors:
            raise ValueError(f"demo data for {element_id} does not pass its form: {sorted(errors)}")
        with _days_ago(days_ago):
            cases.complete_task(task.id, clean, actor=actor)


@contextmanager
def _days_ago(days):
    """Run what follows as if it happened `days` days ago (the engine's clock only, put back after)."""
    clock.advance(-timedelta(days=days))
    try:
        yield
    finally:
        clock.advance(timedelta(days=days))


def intake(name, **facts) -> dict:
    """An intake as an advisor enters it (the options are those of forms/worker_intake.form)."""
    data = dict(consultation_language="en", worker_name=name, nationality_group="third_country",
                qualification_type="vocational", degree_comparable=False, regulated_profession=False,
                years_experience=4, foreign_qualification_state_recognised=True, recognition_partnership_agreed=False,
                has_job_offer=True, weekly_hours=40, employment_start=(clock.now().date() + timedelta(days=120)).isoformat(),
                shortage_or_starter=False, german_level="A2", english_level="B2", family_joining=False,
                consent_data_processing=True)
    data.update(facts)
    return data


FIRST_CONSULTATION = dict(
    firm_name="Elektro Jansen GmbH", firm_size_class="small", staff_count=24, sector="crafts",
    firm_location="staedteregion_aachen", contact_name="Petra Jansen", contact_email="jansen@example.org",
    hiring_occupations="Elektroniker:in für Energie- und Gebäudetechnik", positions_planned=1,
    hiring_countries=["EU"], hiring_timeline="6m", prior_experience="none", consent_data_processing=True,
    continue_cooperation="yes")
