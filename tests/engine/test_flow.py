"""engine.flow: cases started and completed per week, durations per process and step (median, p90), and
the heat per diagram element, through the real engine with the clock moved."""
from datetime import timedelta

from sqlalchemy import select

from engine import cases, clock, flow, users
from engine.db import db
from engine.models import HumanTask


def _open(case):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")).all()


def test_durations_per_process_and_step_and_the_heat(people, deploy_fixture):
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    done = []
    for days in (1, 2, 4):                            # the documents check takes 1, 2 and 4 days
        case = cases.start_case("ws_permit", center=people["center"], subject=f"{days}", data={},
                                actor=people["anna"])
        clock.advance(timedelta(days=days))
        cases.complete_task(_open(case)[0].id, {"docs_complete": True}, actor=people["anna"])
        clock.advance(timedelta(hours=1))
        cases.complete_task(_open(case)[0].id, {}, actor=people["anna"])   # inform the employer: an hour
        done.append(case)
    cases.start_case("ws_permit", center=people["other_center"], data={}, actor=people["kai"])
    clock.advance(timedelta(days=8))
    for case in done:                                 # the BA's 7 days pass: the cases end
        cases.wake(case.id)
    db.session.commit()

    result = flow.flow(people["sara"], "ws_permit")
    assert sum(result.started) == 3 and sum(result.completed) == 3     # not the other center's case
    [permit] = result.processes
    assert permit.key == "ws_permit" and permit.count == 3
    steps = {s.key: s for s in result.steps}
    assert (steps["check_docs"].median_days, steps["check_docs"].count) == (2.0, 3)
    assert steps["check_docs"].p90_days == 3.6                       # between 2 and 4, nearer 4
    assert result.steps[0].key == "check_docs"                       # the longest wait first
    assert result.heat["check_docs"] == {"level": 5, "label": "2 d"} and result.heat["inform_employer"]["level"] == 1
    header, rows = result.chart_rows()
    assert header == ["week", "started", "completed"] and sum(r[1] for r in rows) == 3
    assert "ws_permit" in flow.process_diagram(people["sara"], "ws_permit")
    assert flow.flow(people["anna"]) is None and flow.process_diagram(people["anna"], "ws_permit") is None
    kim = users.ensure_user("kim", "Kim Köln", organisation=people["other_center"], groups=["supervisor"])
    assert sum(flow.flow(kim).started) == 1 and flow.flow(kim).processes == []
