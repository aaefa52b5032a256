"""A date without a time is due at the end of that day in Berlin: due dates, timers and notices agree.

"Register by 20 December" is met by registering on the 20th, so nothing may fire before the 20th is
over in Berlin (23:00 UTC in winter, 22:00 UTC in summer). Each step reloads the case from the
database, with the specs restored anew, as another worker process would.
"""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine import cases, clock, deploy, sandbox, state, timers
from engine.db import db
from engine.errors import DeploymentRejected
from engine.models import Case, CaseEvent, HumanTask, Incident, ProcessDefinition, WaitingTimer
from engine.parsing import DeadlineTimeDateEventDefinition
from tests.conftest import fixture_files

UTC = timezone.utc


def reload():
    db.session.expire_all()
    state.spec_cache.clear()


def start(people, register_by):
    return cases.start_case("deadline_day", center=people["center"], employer=people["firm"], subject="Ana Lima",
                            data={"register_by": register_by}, actor=people["anna"]).id


def tasks(case_id, element_id, state_=None):
    query = select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.element_id == element_id)
    if state_:
        query = query.where(HumanTask.state == state_)
    return db.session.scalars(query).all()


def notices(case_id):
    return sorted((e.element_id, e.kind) for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id,
                                CaseEvent.kind.in_(("reminder_sent", "overdue_notice", "escalated")))))


def sweep_at(moment):
    clock.freeze(moment)
    reload()
    timers.sweep()
    reload()


@pytest.mark.parametrize("day, last_moment", [
    ("2026-12-20", datetime(2026, 12, 20, 22, 59, 59, 999999, tzinfo=UTC)),     # CET, UTC+1
    ("2026-07-20", datetime(2026, 7, 20, 21, 59, 59, 999999, tzinfo=UTC)),      # CEST, UTC+2
])
def test_a_date_only_deadline_ends_with_the_day_in_berlin(people, deploy_fixture, day, last_moment):
    deploy_fixture("deadline_day.bpmn")
    clock.freeze(last_moment - timedelta(days=10))
    case_id = start(people, day)
    reload()
    [register] = tasks(case_id, "register")
    timer = db.session.scalar(select(WaitingTimer).where(WaitingTimer.case_id == case_id))
    # the task's due date, the timer the case waits for and the sweeper's index are the same moment
    assert register.due_at == timer.due_at == db.session.get(Case, case_id).next_timer_at == last_moment

    sweep_at(last_moment.replace(hour=0, minute=30))         # the due day has begun in UTC and in Berlin
    sweep_at(last_moment - timedelta(minutes=30))            # 23:30 in Berlin: still the 20th
    assert tasks(case_id, "chase") == []
    sweep_at(last_moment + timedelta(seconds=1))             # the 21st in Berlin
    assert [t.state for t in tasks(case_id, "chase")] == ["open"]
    assert tasks(case_id, "register", "open")                # non-interrupting: the deadline task stays


def test_a_task_gets_each_notice_from_one_mechanism_and_helper_tasks_do_not_escalate(people, deploy_fixture):
    """`register` has its overdue follow-up in the diagram (`chase`), so Lotse sends it no overdue notice;
    `chase` is that follow-up and sends no escalation of its own."""
    deploy_fixture("deadline_day.bpmn")
    due = datetime(2026, 12, 20, 22, 59, 59, 999999, tzinfo=UTC)
    clock.freeze(due - timedelta(days=10))
    case_id = start(people, "2026-12-20")
    for hours in range(0, 24 * 20, 6):
        sweep_at(due - timedelta(days=10) + timedelta(hours=hours))
    assert notices(case_id) == [("chase", "overdue_notice"), ("chase", "reminder_sent"),
                                ("register", "escalated"), ("register", "reminder_sent")]


def test_a_notices_property_with_an_unknown_kind_is_refused_at_deploy(ctx):
    [(name, content)] = fixture_files("deadline_day.bpmn")
    content = content.replace(b'value="reminder, escalation"', b'value="reminder, sometimes"')
    with pytest.raises(DeploymentRejected) as rejected:
        deploy.deploy([(name, content)])
    [problem] = rejected.value.problems
    assert problem.element_id == "register" and "notices" in problem.message and "sometimes" in problem.message


def test_date_timers_of_earlier_deployments_run_as_deadlines(people, deploy_fixture):
    """The spec JSON keeps the library's type name, so versions deployed before the fix load with it too."""
    deploy_fixture("deadline_day.bpmn")
    definition = db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "deadline_day"))
    assert '"typename": "TimeDateEventDefinition"' in definition.spec_json
    spec, _ = state.restore_specs(definition.spec_json)
    assert isinstance(spec.task_specs["missed"].event_definition, DeadlineTimeDateEventDefinition)


@pytest.mark.parametrize("value, moment", [
    ("2026-12-20", datetime(2026, 12, 20, 22, 59, 59, 999999, tzinfo=UTC)),
    ("2026-12-20T10:00", datetime(2026, 12, 20, 9, 0, tzinfo=UTC)),            # what people type: Berlin time
    ("2026-12-20T10:00:00+00:00", datetime(2026, 12, 20, 10, 0, tzinfo=UTC)),
])
def test_due_dates_read_dates_and_local_times_as_berlin(value, moment):
    created = datetime(2026, 12, 1, tzinfo=UTC)
    assert state.resolve_date(value, {}, created) == moment
    assert state.resolve_date("${d}", {"d": value}, created) == moment


def test_script_helpers_count_days_in_berlin(ctx):
    clock.freeze(datetime(2026, 12, 19, 23, 30, tzinfo=UTC))          # 00:30 on the 20th in Berlin
    assert sandbox.today() == "2026-12-20"
    assert sandbox.parse_date(clock.now().isoformat()) == "2026-12-20"
    assert sandbox.days_between("2026-12-19T23:30:00+00:00", "2026-12-21") == 1
    assert sandbox.add_duration(sandbox.today(), "P14D") == "2027-01-03"


def test_a_timer_date_that_is_no_date_is_an_incident_naming_the_timer(people, deploy_fixture):
    deploy_fixture("timer_date.bpmn")
    case_id = cases.start_case("timer_date", center=people["center"], employer=people["firm"], subject="Ana Lima",
                               data={"register_by": "bald"}, actor=people["anna"]).id
    reload()
    [incident] = db.session.scalars(select(Incident).where(Incident.case_id == case_id)).all()
    assert "'Bis zum Stichtag warten'" in incident.message and "'bald'" in incident.message
    assert db.session.get(Case, case_id).status == "active"
