"""`lotse demo` gives the employer portal something to show: Ravi Kumar's case waits for Elektro Jansen's
power of attorney (through the real engine, on the bundled processes)."""
import re
from pathlib import Path

from sqlalchemy import select

from engine import demo, milestones
from engine.db import db
from engine.models import Case
from tests.conftest import deploy_bundle

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_leaves_the_firm_a_step_with_a_date(ctx):
    deploy_bundle()
    demo.load()
    db.session.expire_all()
    ravi = db.session.scalar(select(Case).where(Case.subject == "Ravi Kumar"))
    journey = milestones.journey(ravi, "de")
    step = journey.next_step("employer")
    assert step.element_id == "task_power_of_attorney" and step.due_at is not None
    assert [m.key for m in journey.done] == ["intake_done", "path_decided"]
    assert demo.load()[-1] == "7 cases already present"          # idempotent: nothing started twice


def test_the_demo_library_covers_the_topics_the_bundled_diagrams_name(ctx):
    from engine import info_library
    from engine.models import InfoItem
    deploy_bundle()
    demo.load()
    demo.load()                                                     # idempotent: seeded once
    named = {topic for path in (ROOT / "bpmn").glob("*.bpmn")
             for topic in info_library.topics_of(dict.fromkeys(re.findall(r'name="(info:[^"]+)"', path.read_text("utf-8"))))}
    assert named == {"registration", "recognition", "language_course"}
    rows = db.session.scalars(select(InfoItem)).all()
    assert {row.topic for row in rows if row.language == "en"} == named and len(rows) == len(demo.INFO_ITEMS)
    assert all(row.url.startswith("https://") and row.reviewed_on for row in rows)
    found = info_library.for_topics(["recognition"], "tr")
    assert found.in_english and [p.language for p in found.pages] == ["en"]
