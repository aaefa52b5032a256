"""engine.workload: open, overdue and completed tasks per person and group, responsible cases, and the
weeks' figures, through the real engine with the clock moved."""
from datetime import timedelta

from sqlalchemy import select

from engine import cases, clock, users, workload
from engine.db import db
from engine.models import HumanTask


def _open(case):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")).all()


def test_workload_per_person_group_and_week(people, deploy_fixture):
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    start = lambda subject, center="center", actor="anna": cases.start_case(  # noqa: E731
        "ws_permit", center=people[center], subject=subject, data={}, actor=people[actor], responsible=people[actor])
    first, second, third = start("A"), start("B"), start("C")
    start("Köln", "other_center", "kai")
    db.session.commit()
    cases.claim_task(_open(first)[0].id, people["anna"])
    cases.claim_task(_open(second)[0].id, people["ben"])
    cases.complete_task(_open(second)[0].id, {"docs_complete": True}, actor=people["ben"])
    clock.advance(timedelta(days=4))                     # the documents checks (P3D) left open are overdue

    load = workload.workload(people["sara"])
    by_name = {p.name: p for p in load.people}
    assert (by_name["Anna Berger"].open, by_name["Anna Berger"].overdue, by_name["Anna Berger"].responsible) == (1, 1, 3)
    assert (by_name["Ben Okafor"].completed, by_name["Ben Okafor"].open) == (1, 0)
    assert "Kai Köln" not in by_name                                    # another center's people
    # unclaimed: C's documents check, and B's "inform employer" (both advisor group)
    assert [(g.group, g.open, g.overdue) for g in load.groups] == [("advisor", 2, 1)]
    assert len(load.weeks) == workload.WEEKS and sum(load.completed_by_week["Ben Okafor"]) == 1
    # now: A's and C's checks and B's follow-up are open; A's and C's checks are overdue
    assert (load.open_by_week[-1], load.overdue_by_week[-1]) == (3, 2)
    header, rows = load.chart_rows("open")
    assert header == ["week", "open", "overdue"] and rows[-1][1:] == [3, 2]
    assert workload.chart_csv(load, "completed").splitlines()[0].startswith("week,")
    assert workload.workload(people["anna"]) is None
    kim = users.ensure_user("kim", "Kim Köln", organisation=people["other_center"], groups=["supervisor"])
    assert {p.name for p in workload.workload(kim).people} == {"Kai Köln", "Kim Köln"}
    assert third.id
