"""Drive the bundled journeys (bpmn/, forms/) through the real engine, for the scenario tests.

A `Journey` wraps the engine's operations (deploy, start_case, complete_task, the clock, the timer
sweep, message delivery) behind the few verbs a scenario reads with: start, complete, advance, open
tasks, milestones, messages. Domain helpers below fill the forms with plausible data.
"""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from engine import casedata, cases, clock, messages, state
from engine.db import db
from engine.models import Case, CaseMilestone, HumanTask, OutboxMessage
from engine.models.statuses import TaskStatus
from tests.conftest import deploy_bundle

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)       # a Monday


def iso(d):
    return d.isoformat() if isinstance(d, date) else str(d)


class Journey:
    def __init__(self, people, start=START):
        self.people = people
        clock.freeze(start)
        deploy_bundle()

    # --- time -------------------------------------------------------------------------------------
    def today(self):
        return clock.now().date()

    def advance(self, days=0, hours=0):
        clock.advance(timedelta(days=days, hours=hours))
        self.sweep()

    def reload(self):
        """Forget what this process holds (loaded rows, restored specs): the next step reads the case
        from the database as another worker process would."""
        db.session.expire_all()
        state.spec_cache.clear()

    def sweep(self):
        """What the timer sweeper does (`engine.timers.sweep`): wake the due cases through `cases.wake_due`,
        then deliver the messages they threw."""
        self.reload()
        for _ in range(100):
            if not cases.wake_due(clock.now(), limit=50):
                break
            messages.deliver_pending()

    # --- cases ------------------------------------------------------------------------------------
    def start(self, process, firm="firm", subject="", data=None):
        return cases.start_case(process, center=self.people["center"], employer=self.people[firm], subject=subject,
                                data=data or {}, actor=self.people["anna"])

    def case(self, case):
        return db.session.get(Case, case if isinstance(case, int) else case.id)

    def children(self, case):
        return db.session.scalars(select(Case).where(Case.parent_case_id == self.case(case).id)
                                  .order_by(Case.id)).all()

    # --- tasks ------------------------------------------------------------------------------------
    def open(self, case=None):
        query = select(HumanTask).where(HumanTask.state == TaskStatus.OPEN).order_by(HumanTask.created_at, HumanTask.id)
        if case is not None:
            query = query.where(HumanTask.case_id == self.case(case).id)
        return db.session.scalars(query).all()

    def open_ids(self, case=None):
        return sorted(t.element_id for t in self.open(case))

    def task(self, case, element_id, index=0):
        found = [t for t in self.open(case) if t.element_id == element_id]
        assert len(found) > index, f"{element_id} is not open; open: {self.open_ids(case)}"
        return found[index]

    def complete(self, case, element_id, data=None, actor="anna", index=0):
        self.reload()
        task = self.task(case, element_id, index)
        cases.complete_task(task.id, data or {}, actor=self.people[actor])
        messages.deliver_pending()
        return task

    def ever(self, case, element_id):
        """Tasks (open, completed or cancelled) ever created for this element."""
        return db.session.scalars(select(HumanTask).where(HumanTask.case_id == self.case(case).id,
                                                          HumanTask.element_id == element_id)).all()

    # --- results ----------------------------------------------------------------------------------
    def milestones(self, case):
        return [m.key for m in db.session.scalars(select(CaseMilestone).where(
            CaseMilestone.case_id == self.case(case).id).order_by(CaseMilestone.id))]

    def value(self, case, key):
        """A case variable as the case page shows it (with those of called processes still running)."""
        data = casedata.current(state.load(self.case(case)))
        assert key in data, f"{key} not in case data"
        return data[key]

    def outbox(self):
        return [(m.name, m.status, m.source_case_id, m.target_case_id, m.correlations)
                for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


# --- domain helpers: plausible form data ---------------------------------------------------------

def intake(j, case, **overrides):
    j.complete(case, "task_intake", intake_data(j, **overrides))


def intake_data(j, **overrides):
    data = dict(consultation_language="en", worker_name="Test Person", nationality="Indien",
                nationality_group="third_country", qualification_type="vocational", qualification_title="",
                occupation_group="other", regulated_profession=False, years_experience=3,
                foreign_qualification_state_recognised=True, has_job_offer=True, occupation="Fachkraft",
                annual_salary=45000, weekly_hours=40, employment_start=iso(j.today() + timedelta(days=120)),
                german_level="A2", english_level="B2", family_joining=False, consent_data_processing=True)
    data.update(overrides)
    return data


def confirm_path(j, case, **overrides):
    """Accept the table's proposal: the advisor chooses it (the required field is not prefilled with it)."""
    data = {k: j.value(case, k) for k in ("recognition_required", "ba_approval_required")}
    data["residence_path"] = j.value(case, "proposed_residence_path")
    data.update(use_fast_track=False, path_note="")
    data.update(overrides)
    j.complete(case, "task_path_confirm", data)


def recognition_until_decision(j, case, complete_on=None):
    """Prepare, collect, submit, receipt with a complete file. Returns the complete-file date."""
    j.complete(case, "task_recognition_prepare", dict(recognition_body=j.value(case, "proposed_recognition_body"),
                                                      documents_needed=["certificate", "transcript", "translations"],
                                                      recognition_fee_payer="employer"))
    j.complete(case, "task_recognition_documents", dict(documents_received=["certificate", "transcript", "translations"],
                                                        translations_certified=True))
    j.complete(case, "task_recognition_submit", dict(recognition_submitted_on=iso(j.today()), recognition_fee_paid=True))
    complete_on = complete_on or j.today()
    j.complete(case, "task_recognition_receipt", dict(recognition_receipt_date=iso(j.today()),
                                                      recognition_file_complete="yes",
                                                      recognition_complete_date=iso(complete_on)))
    return complete_on


def visa(j, case, fast_track=False, valid_days=180):
    j.complete(case, "task_visa_prepare", dict(visa_mission="Deutsche Botschaft Neu-Delhi",
                                               appointment_requested_date=iso(j.today()),
                                               expected_appointment_date=None if fast_track else iso(j.today() + timedelta(days=60)),
                                               visa_documents_ready=True))
    j.complete(case, "task_visa_appointment", dict(visa_appointment_date=iso(j.today()),
                                                   visa_application_complete_date=iso(j.today())))
    j.complete(case, "task_visa_decision", dict(visa_result="granted", visa_decision_date=iso(j.today()),
                                                visa_valid_from=iso(j.today()),
                                                visa_valid_until=iso(j.today() + timedelta(days=valid_days)),
                                                visa_type="18a"))


ONBOARDING = {
    "task_tax_id": dict(tax_id_status="done", tax_id_received_on=None, tax_id_forwarded=True),
    "task_health_insurance": dict(health_insurance_status="done", health_insurer="AOK Rheinland/Hamburg",
                                  social_insurance_number_received=True),
    "task_bank_account": dict(bank_account_status="done", bank_account_opened_on=None),
    "task_language_course": dict(language_course_status="pending", language_course_type="professional"),
    "task_housing": dict(housing_status="not_applicable"),
}


def enter(j, case, move_in=None, work_start=None):
    move_in = move_in or j.today()
    j.complete(case, "task_entry", dict(entry_date=iso(j.today()), move_in_date=iso(move_in),
                                        arrival_address="Theaterstraße 1, 52062 Aachen", landlord_confirmation=True,
                                        work_start_date=iso(work_start or j.today() + timedelta(days=3))))


def first_steps(j, case):
    """Registration, onboarding, permit and family tasks that are open: complete them."""
    j.complete(case, "task_registration", dict(registration_date=iso(j.today()), registration_certificate=True))
    for element, data in ONBOARDING.items():
        j.complete(case, element, data)
    if any(t.element_id == "task_permit_apply" for t in j.open(case)):
        j.complete(case, "task_permit_apply", dict(permit_applied_on=iso(j.today())))
        j.complete(case, "task_permit_issued", dict(permit_type="18a", permit_issued_on=iso(j.today()),
                                                    permit_valid_until=iso(j.today() + timedelta(days=4 * 365))))
    if any(t.element_id == "task_family" for t in j.open(case)):
        j.complete(case, "task_family", dict(family_members_names="Ehefrau, 1 Kind"))


def checkin(m):
    data = {f"checkin{m}_date": None, f"checkin{m}_wellbeing": "good", f"checkin{m}_open_issues": [],
            f"checkin{m}_referral_needed": False}
    if m == 6:
        data["probation_result"] = "passed"
    return data


def settle(j, case, outcome="stayed"):
    """Move through the 1/3/6-month check-ins and close the journey."""
    for m in (1, 3, 6):
        due = date.fromisoformat(j.value(case, f"checkin_{m}_at")[:10])
        j.advance(days=(due - j.today()).days + 1)
        data = checkin(m)
        data[f"checkin{m}_date"] = iso(j.today())
        j.complete(case, f"task_checkin_{m}m", data)
    j.complete(case, "task_closure", dict(journey_outcome=outcome, closure_date=iso(j.today())))
