"""The worker journey in random orders: whatever order people complete the tasks that are open at the
same time (main path, escalations, reminders) and however the clock moves, no recorded value is
ever reset and no step fails.

Each seed is one journey: at every step one open task is picked at random and completed with
plausible data (fixed decisions for the main path, each other form filled from its definition),
and now and then the clock moves on and the timer sweep runs. The case is reloaded from the
database, with the spec cache emptied, before every step.
"""
import random
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from engine import casedata, state
from engine.db import db
from engine.forms import FormDefinition
from engine.models import Incident
from tests.scenarios.driver import ROOT, Journey, intake_data, iso

MAX_STEPS = 150
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

PATHS = {   # what the intake records: an EU Blue Card without recognition, or a nurse who needs recognition
    "blue_card": dict(nationality="Indien", qualification_type="academic", degree_comparable=True,
                      occupation_group="it", annual_salary=56000, regulated_profession=False),
    "nurse": dict(nationality="Philippinen", qualification_type="academic", degree_comparable=False,
                  occupation_group="nursing", regulated_profession=True, annual_salary=41000),
}


def decisions(j, case, element_id):
    """The main path's decisions (the rest of each form is filled from its definition)."""
    today = j.today()
    if element_id == "task_path_confirm":     # accept the table's proposal
        proposal = {key: j.value(case, key) for key in ("recognition_required", "ba_approval_required")}
        return dict(proposal, residence_path=j.value(case, "proposed_residence_path"), use_fast_track=False,
                    path_note="")
    return {
        "task_recognition_receipt": dict(recognition_file_complete="yes", recognition_complete_date=iso(today)),
        "task_recognition_decision": dict(recognition_result="full", recognition_decision_date=iso(today)),
        "task_visa_prepare": dict(appointment_requested_date=iso(today),
                                  expected_appointment_date=iso(today + timedelta(days=7))),
        "task_visa_decision": dict(visa_result="granted", visa_decision_date=iso(today), visa_valid_from=iso(today),
                                   visa_valid_until=iso(today + timedelta(days=365)), visa_type="18a"),
        "task_closure": dict(journey_outcome="stayed"),
    }.get(element_id, {})


def filled(definition: FormDefinition, today) -> dict:
    """A value for every field a person could fill: its default, else the first choice, a date, text."""
    data = {}
    for key, comp in definition.fields.items():
        if comp.readonly or comp.disabled:
            continue
        if comp.default not in (None, ""):
            data[key] = comp.default
        elif comp.multiple:
            data[key] = []
        elif comp.options:
            data[key] = comp.options[0].value
        elif comp.type == "checkbox":
            data[key] = True
        elif comp.type == "number":
            data[key] = 1
        elif comp.type == "datetime":
            data[key] = iso(today)
        else:
            data[key] = "Notiz"
    return data


def recomputed_keys() -> set:
    """Keys a script assigns after the case has begun (a script right after a start event sets defaults)."""
    keys = set()
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        starts = {node.get("id") for node in root.iter(f"{BPMN}startEvent")}
        after_start = {flow.get("targetRef") for flow in root.iter(f"{BPMN}sequenceFlow")
                       if flow.get("sourceRef") in starts}
        for script_task in root.iter(f"{BPMN}scriptTask"):
            if script_task.get("id") in after_start:
                continue
            for line in (script_task.findtext(f"{BPMN}script") or "").splitlines():
                name, sep, rest = line.partition("=")
                if sep and name.strip().isidentifier() and not rest.startswith("="):
                    keys.add(name.strip())
    return keys


class Walk:
    def __init__(self, people, seed):
        self.j = Journey(people)
        self.random = random.Random(seed)
        self.forms = {path.stem: FormDefinition.from_file(path) for path in (ROOT / "forms").glob("*.form")}
        self.recorded = {}              # key -> the value a person recorded last
        self.recomputed = recomputed_keys()
        self.history = []
        path = self.random.choice(sorted(PATHS))
        self.case = self.j.start("worker_journey", subject="Test Person", data={"worker_name": "Test Person"})
        self.intake = intake_data(self.j, **PATHS[path])
        self.history.append(f"path {path}")

    def step(self):
        j = self.j
        if self.random.random() < 0.35:
            days = self.random.randint(1, 30)
            self.history.append(f"advance {days} days")
            j.advance(days=days)
        db.session.expire_all()
        state.spec_cache.clear()            # as if another worker process took the next step
        tasks = j.open(self.case)
        if not tasks:                       # waiting for a timer only: let time pass until it fires
            case = j.case(self.case)
            if case.status != "active" or case.next_timer_at is None:
                return False
            self.history.append("advance to the next timer")
            j.advance(days=(case.next_timer_at.date() - j.today()).days + 1)
            return True
        task = self.random.choice(tasks)
        data = filled(self.forms[task.form_key], j.today()) if task.form_key in self.forms else {}
        data.update(self.intake if task.element_id == "task_intake" else decisions(j, self.case, task.element_id))
        self.history.append(f"complete {task.element_id}")
        j.complete(self.case, task.element_id, data, index=tasks.index(task) - [t.element_id for t in tasks]
                   .index(task.element_id))
        self.recorded.update({key: value for key, value in data.items() if key not in self.recomputed})
        return True

    def check(self):
        j = self.j
        data = casedata.current(state.load(j.case(self.case)))
        reset = {key: (value, data.get(key)) for key, value in self.recorded.items() if data.get(key) != value}
        assert not reset, f"recorded values were reset (recorded, now): {reset}"
        if "visa_granted" in j.milestones(self.case):
            assert not j.ever(self.case, "task_alternatives"), "a granted visa led to the refused-visa branch"
        incidents = db.session.scalars(select(Incident.message).where(Incident.case_id == self.case.id)).all()
        assert not incidents, f"failed steps: {incidents}"


@pytest.mark.parametrize("seed", [20, 23, 27])
def test_worker_journey_in_random_order_keeps_recorded_values(people, seed):
    walk = Walk(people, seed)
    try:
        for _ in range(MAX_STEPS):
            if not walk.step():
                break
            walk.check()
    except Exception as exc:
        raise AssertionError(f"seed {seed}, after: {' → '.join(walk.history[-12:])}: {exc}") from exc
    assert walk.j.case(walk.case).status == "completed", f"seed {seed}: {walk.history[-12:]}"
