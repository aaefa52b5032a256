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


def test_completions_fall_in_their_berlin_week_across_midnights_and_a_clock_change(people, deploy_fixture):
    """The weeks are counted in the database over Berlin-midnight bounds: each completion lands in the week
    of its Berlin date, as a recomputation from the rows says, on the bounds themselves and across the end
    of summer time (25.10.2026)."""
    from datetime import datetime, timezone
    from engine.workload import berlin_midnight, monday_of
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    done = []
    for n in range(7):
        case = cases.start_case("ws_permit", center=people["center"], subject=f"W{n}", data={}, actor=people["ben"])
        db.session.commit()
        task_id = _open(case)[0].id
        cases.claim_task(task_id, people["ben"])
        cases.complete_task(task_id, {"docs_complete": True}, actor=people["ben"])
        done.append(task_id)
    now = datetime(2026, 11, 5, 12, tzinfo=timezone.utc)
    first_monday = monday_of(clock.local_date(now)) - timedelta(weeks=workload.WEEKS - 1)
    moments = [berlin_midnight(first_monday),                                # the first bound: counted
               berlin_midnight(first_monday) - timedelta(seconds=1),         # before it: not counted
               berlin_midnight(datetime(2026, 10, 26).date()),               # Monday after the clock change
               berlin_midnight(datetime(2026, 10, 26).date()) - timedelta(seconds=1),
               datetime(2026, 10, 25, 22, 59, tzinfo=timezone.utc),          # Sunday 23:59 in winter time
               now + timedelta(days=3),                                      # later this week
               berlin_midnight(datetime(2026, 11, 9).date())]                # next week: not counted
    for task_id, at in zip(done, moments):
        db.session.get(HumanTask, task_id).completed_at = at
    db.session.commit()
    db.session.expire_all()

    load = workload.workload(people["sara"], now=now)
    expected = [0] * workload.WEEKS
    for at in moments:
        index = (monday_of(clock.local_date(at)) - load.weeks[0]).days // 7
        if 0 <= index < workload.WEEKS:
            expected[index] += 1
    assert load.weeks[0] == first_monday
    assert load.completed_by_week["Ben Okafor"] == expected
    assert expected == [1, 0, 0, 0, 0, 2, 1, 1]
    assert next(p for p in load.people if p.name == "Ben Okafor").completed == 5


def test_open_overdue_over_weeks_and_per_group_equal_a_recount_from_the_rows(people, deploy_fixture):
    """The figures counted back from the open tasks now (engine.workload._open_over_weeks) and per group from
    the kept group counts equal a plain recount of every task row of the center, after completions, a
    cancellation and clock moves over several weeks, the cases reloaded from the database between steps."""
    from collections import Counter
    from engine.models import Case, HumanTaskGroup
    from engine.workload import berlin_midnight
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    started = []
    for n in range(6):
        started.append(cases.start_case("ws_permit", center=people["center"], subject=f"R{n}", data={},
                                        actor=people["anna"]).id)
        db.session.commit()
        clock.advance(timedelta(days=9))
        db.session.expire_all()
        if n % 2:                                       # every other case: its check done by Ben
            task_id = _open(db.session.get(Case, started[n - 1]))[0].id
            cases.claim_task(task_id, people["ben"])
            cases.complete_task(task_id, {"docs_complete": True}, actor=people["ben"])
            db.session.commit()
    cases.cancel_case(started[2], actor=people["sara"], reason="test")
    db.session.commit()
    clock.advance(timedelta(days=3))
    db.session.expire_all()

    load = workload.workload(people["sara"])
    rows = db.session.scalars(select(HumanTask).where(HumanTask.center_id == people["center"].id)).all()
    ends = [min(berlin_midnight(monday + timedelta(weeks=1)), load.now) for monday in load.weeks]

    def held(row, end):
        return row.created_at <= end and (row.completed_at is None or row.completed_at > end)
    assert load.open_by_week == [sum(held(r, end) for r in rows) for end in ends]
    assert load.overdue_by_week == [sum(held(r, end) and r.due_at is not None and r.due_at < end for r in rows)
                                    for end in ends]
    assert sum(load.open_by_week) and sum(load.overdue_by_week)          # the recount is not trivially empty
    unassigned = {r.id: r for r in rows if r.state == "open" and r.assignee_id is None}
    opened, late = Counter(), Counter()
    for group in db.session.scalars(select(HumanTaskGroup).where(HumanTaskGroup.task_id.in_(list(unassigned)))):
        if not group.group_name.startswith("user:"):
            opened[group.group_name] += 1
            due = unassigned[group.task_id].due_at
            late[group.group_name] += due is not None and due < load.now
    assert [(g.group, g.open, g.overdue) for g in load.groups] == sorted((name, n, late[name])
                                                                          for name, n in opened.items())
    assert load.groups


def _recount(load, center):
    """Each week end's open and overdue tasks per holder and, those nobody held, per group, and completions per
    group and week,
    recounted task by task from the task rows and the case log's claims, releases and assignments."""
    from engine.models import CaseEvent, User
    from engine.models.event import HOLDER_EVENTS
    from engine.workload import berlin_midnight
    ends = [min(berlin_midnight(monday + timedelta(weeks=1)), load.now) for monday in load.weeks]
    names = {u.username: u.display_name for u in db.session.scalars(select(User))}
    moves = {}
    for event in db.session.scalars(select(CaseEvent).where(CaseEvent.kind.in_(HOLDER_EVENTS))
                                    .order_by(CaseEvent.at, CaseEvent.id)):
        to = (event.actor.display_name if event.kind == "task_claimed" else
              names[event.details["assignee"]] if event.kind == "task_assigned" else None)
        moves.setdefault(event.details["task_id"], []).append((event.at, to))
    people = {name: [0] * len(ends) for name in load.people_open}
    people_late = {name: [0] * len(ends) for name in load.people_open}
    groups, groups_late, done = {}, {}, {}
    for task in db.session.scalars(select(HumanTask).where(HumanTask.center_id == center.id)):
        for index, end in enumerate(ends):
            if task.created_at <= end and (task.completed_at is None or task.completed_at > end):
                late = task.due_at is not None and task.due_at < end
                holder = None
                for at, to in moves.get(task.id, []):
                    if at <= end:
                        holder = to
                if holder is None and task.id not in moves and task.assignee_id is not None:
                    holder = task.assignee.display_name
                if holder is not None:
                    people[holder][index] += 1
                    people_late[holder][index] += late
                else:                                   # waiting in its groups
                    for group in task.candidate_groups:
                        groups.setdefault(group, [0] * len(ends))[index] += 1
                        groups_late.setdefault(group, [0] * len(ends))[index] += late
        if task.state == "completed":
            week = (task.completed_at.astimezone(clock.BERLIN).date() - load.weeks[0]).days // 7
            for group in task.candidate_groups:
                if 0 <= week < len(ends):
                    done.setdefault(group, [0] * len(ends))[week] += 1
    return people, people_late, groups, groups_late, done


def test_open_and_overdue_over_the_weeks_per_holder_and_group(people, deploy_fixture):
    """Who held each task at each week's end follows its claims and assignments: a task handed to a colleague
    mid-week counts for her from that week's end on, one completed late counts as overdue until then."""
    from datetime import datetime
    clock.freeze(datetime(2026, 12, 2, 10, tzinfo=clock.BERLIN))          # a Wednesday
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    start = lambda subject: cases.start_case(  # noqa: E731
        "ws_permit", center=people["center"], subject=subject, data={}, actor=people["anna"], responsible=people["anna"])
    first, second, third = start("A"), start("B"), start("C")
    db.session.commit()
    cases.claim_task(_open(first)[0].id, people["anna"])
    cases.claim_task(_open(second)[0].id, people["anna"])
    db.session.commit()
    clock.advance(timedelta(days=9))                     # Friday of the next week: the checks (P3D) are overdue
    moved = _open(second)[0].id
    cases.assign_task(moved, people["ben"], people["sara"])            # mid-week, to Ben
    db.session.commit()
    clock.advance(timedelta(days=7))
    cases.complete_task(_open(first)[0].id, {"docs_complete": True}, actor=people["anna"])   # late
    db.session.commit()
    clock.advance(timedelta(days=7))

    load = workload.workload(people["sara"])
    anna, ben = load.people_open["Anna Berger"], load.people_open["Ben Okafor"]
    # the last four week ends (7, 14, 21 December, now): both of Anna's, overdue; B is Ben's from the end of the
    # week it was handed over in; A, completed late, counts as Anna's and overdue until its completion's week
    assert anna[-4:] == [2, 1, 0, 0] and ben[-4:] == [0, 1, 1, 1]
    assert load.people_overdue["Anna Berger"][-4:] == [2, 1, 0, 0] and load.people_overdue["Ben Okafor"][-4:] == [0, 1, 1, 1]
    assert load.groups_completed["advisor"][-4:] == [0, 0, 1, 0]
    people_open, people_late, groups_open, groups_late, done = _recount(load, people["center"])
    assert load.people_open == people_open and load.people_overdue == people_late
    assert load.groups_open == groups_open and load.groups_overdue == groups_late
    assert {g: c for g, c in load.groups_completed.items() if any(c)} == done
    header, rows = load.chart_rows("groups_open")
    assert header == ["week", "advisor"] and [row[1] for row in rows] == groups_open["advisor"]
    assert workload.chart_csv(load, "people_open").splitlines()[0] == "week," + ",".join(load.people_open)
    assert third.id


def test_a_group_task_completed_unclaimed_counts_for_its_group_while_it_was_open(people, deploy_fixture):
    """A documents check left in the advisors' group for three weeks, then completed by Ben straight from the
    group without claiming it: it was the group's (and overdue there) at those weeks' ends, never Ben's, though
    the completion makes him its assignee; his completion counts in its week."""
    from datetime import datetime
    clock.freeze(datetime(2026, 12, 2, 10, tzinfo=clock.BERLIN))          # a Wednesday
    deploy_fixture("ws_permit.bpmn", "ws_start.form", "ws_documents.form")
    case = cases.start_case("ws_permit", center=people["center"], subject="Unclaimed", data={}, actor=people["anna"])
    db.session.commit()
    clock.advance(timedelta(weeks=3))                    # Wednesday 23 December
    check = _open(case)[0]
    assert check.assignee_id is None and check.candidate_groups == ["advisor"]
    cases.complete_task(check.id, {"docs_complete": True}, actor=people["ben"])
    db.session.commit()
    clock.advance(timedelta(weeks=1))
    db.session.expire_all()
    assert db.session.get(HumanTask, check.id).assignee_id == people["ben"].id

    load = workload.workload(people["sara"])
    # the last five weeks end on 7, 14, 21, 28 December and now (the 30th): the check was open at the first three,
    # overdue (due on the 5th); "inform employer", opened by the completion, at the last two, in the group too
    assert load.people_open["Ben Okafor"] == [0] * workload.WEEKS
    assert load.people_overdue["Ben Okafor"] == [0] * workload.WEEKS
    assert load.groups_open["advisor"][-5:] == [1, 1, 1, 1, 1]
    assert load.groups_overdue["advisor"][-5:-2] == [1, 1, 1]
    assert load.completed_by_week["Ben Okafor"][-5:] == [0, 0, 0, 1, 0]         # the week of 21 December
    people_open, people_late, groups_open, groups_late, _done = _recount(load, people["center"])
    assert load.people_open == people_open and load.people_overdue == people_late
    assert load.groups_open == groups_open and load.groups_overdue == groups_late
