"""`lotse demo` gives the employer portal something to show: Ravi Kumar's case waits for Elektro Jansen's
power of attorney (through the real engine, on the bundled processes)."""
from pathlib import Path

from sqlalchemy import select

from engine import demo, deploy, milestones
from engine.db import db
from engine.models import Case

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_leaves_the_firm_a_step_with_a_date(ctx):
    deploy.deploy(deploy.collect_files([ROOT / "bpmn", ROOT / "forms"]))
    db.session.commit()
    demo.load()
    db.session.expire_all()
    ravi = db.session.scalar(select(Case).where(Case.subject == "Ravi Kumar"))
    journey = milestones.journey(ravi, "de")
    step = journey.next_step("employer")
    assert step.element_id == "task_power_of_attorney" and step.due_at is not None
    assert [m.key for m in journey.done] == ["intake_done", "path_decided"]
    assert demo.load()[-1] == "7 cases already present"          # idempotent: nothing started twice
