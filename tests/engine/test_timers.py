"""Time: the sweeper wakes due cases exactly once, catches up in order, and sends deadline notices once."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, notifications, timers
from engine.db import db
from engine.models import Case, CaseEvent, HumanTask, MailMessage, Notification


@pytest.fixture
def timer_processes(people, deploy_fixture):
    deploy_fixture("timer_boundary.bpmn", "timer_cycle.bpmn", "timer_wait.bpmn", "timer_date.bpmn",
                   "timer_deadline.bpmn")
    return people


def open_tasks(case_id):
    return db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open")
                              .order_by(HumanTask.created_at, HumanTask.element_id)).all()


def events(case_id, *kinds):
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    if kinds:
        query = query.where(CaseEvent.kind.in_(kinds))
    return db.session.scalars(query).all()


def start(key, people, **data):
    return cases.start_case(key, center=people["center"], employer=people["firm"], subject="Ana Lima",
                            data=data, actor=people["anna"]).id


def test_boundary_timer_fires_once_when_due(timer_processes):
    case_id = start("timer_boundary", timer_processes)
    version = db.session.get(Case, case_id).lock_version
    assert timers.sweep()["woken"] == 0
    clock.advance(timedelta(days=6, hours=23))
    assert timers.sweep()["woken"] == 0
    assert db.session.get(Case, case_id).lock_version == version        # nothing due: not even written
    clock.advance(timedelta(hours=1, seconds=1))
    assert timers.sweep()["woken"] == 1
    assert [t.element_id for t in open_tasks(case_id)] == ["chase"]       # interrupting: wait_ba is gone
    assert [e.element_id for e in events(case_id, "timer_fired")] == ["ba_late"]
    assert db.session.get(Case, case_id).next_timer_at is None
    clock.advance(timedelta(days=30))
    assert timers.sweep()["woken"] == 0
    assert len(events(case_id, "timer_fired")) == 1


def test_cycle_reminder_repeats_exactly_the_configured_times_and_catches_up(timer_processes):
    case_id = start("timer_cycle", timer_processes)
    clock.advance(timedelta(hours=1, seconds=1))
    timers.sweep()
    assert [t.element_id for t in open_tasks(case_id)] == ["collect", "nudge"]
    clock.advance(timedelta(days=3))                  # two repetitions missed while "down"
    timers.sweep()
    assert sorted(t.element_id for t in open_tasks(case_id)) == ["collect", "nudge", "nudge", "nudge"]
    clock.advance(timedelta(days=3))
    assert timers.sweep()["woken"] == 0
    assert len([t for t in open_tasks(case_id) if t.element_id == "nudge"]) == 3
    assert db.session.get(Case, case_id).next_timer_at is None
    # Each repetition is in the case's history, once.
    assert [e.element_id for e in events(case_id, "timer_fired")].count("nag") == 3


def test_catch_up_after_downtime_fires_in_due_order(timer_processes):
    now = clock.now()
    order = {}
    for hours in (3, 1, 2):
        order[start("timer_date", timer_processes, register_by=(now + timedelta(hours=hours)).isoformat())] = hours
    clock.advance(timedelta(days=1))
    assert timers.sweep()["woken"] == 3
    fired = db.session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "timer_fired")
                               .order_by(CaseEvent.id)).all()
    assert [order[c] for c in fired] == [1, 2, 3]
    assert all(open_tasks(c)[0].element_id == "check" for c in order)


def test_sweeper_wakes_in_batches_and_a_broken_case_does_not_block_the_others(timer_processes, monkeypatch):
    """Cases are woken several per transaction; one that cannot be loaded rolls its batch back,
    the others are then woken one by one, and the broken one stays due for the next sweep."""
    from sqlalchemy import update
    monkeypatch.setattr(timers, "WAKE_BATCH", 3)
    case_ids = [start("timer_boundary", timer_processes) for _ in range(5)]
    broken = case_ids[1]
    db.session.execute(update(Case).where(Case.id == broken).values(state='{"not": "a workflow"}'))
    db.session.commit()
    clock.advance(timedelta(days=7, seconds=1))
    assert timers.sweep()["woken"] == 4
    for case_id in case_ids:
        fired = [e.element_id for e in events(case_id, "timer_fired")]
        assert fired == ([] if case_id == broken else ["ba_late"])
    db.session.expire_all()
    assert db.session.get(Case, broken).next_timer_at < clock.now()     # still due, nothing lost
    assert [t.element_id for t in open_tasks(broken)] == ["wait_ba"]
    assert timers.sweep()["woken"] == 0                                   # the others are done


def test_expression_timers(timer_processes):
    register_by = (clock.now() + timedelta(days=1)).isoformat()
    case_id = start("timer_wait", timer_processes, wait_for="PT2H", register_by=register_by)
    assert db.session.get(Case, case_id).next_timer_at == clock.now() + timedelta(minutes=30)
    clock.advance(timedelta(minutes=31))
    timers.sweep()
    assert db.session.get(Case, case_id).next_timer_at == clock.now() + timedelta(hours=2)
    clock.advance(timedelta(hours=2, seconds=1))
    timers.sweep()
    clock.advance(timedelta(days=1))
    timers.sweep()
    assert [e.element_id for e in events(case_id, "timer_fired")] == ["wait_first", "wait_hours", "wait_date"]
    assert [t.element_id for t in open_tasks(case_id)] == ["check"]


def test_wake_job_is_idempotent_and_stale_jobs_do_nothing(timer_processes):
    case_id = start("timer_boundary", timer_processes)
    version = db.session.get(Case, case_id).lock_version
    assert timers.wake_job(case_id) == 0                    # early: nothing happens, nothing is written
    assert timers.wake_job(999999) == 0                     # a job for a case that is gone
    db.session.expire_all()
    assert db.session.get(Case, case_id).lock_version == version
    clock.advance(timedelta(days=7, seconds=1))
    assert timers.wake_job(case_id) == 1
    assert timers.wake_job(case_id) == 0                    # the duplicate / stale job
    assert len(events(case_id, "timer_fired")) == 1


def test_cancelled_case_is_not_woken(timer_processes):
    case_id = start("timer_boundary", timer_processes)
    cases.cancel_case(case_id, actor=timer_processes["sara"])
    clock.advance(timedelta(days=8))
    assert timers.sweep()["woken"] == 0


# --- deadlines -------------------------------------------------------------------------------------

def notes(kind=None):
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


def test_reminder_overdue_and_escalation_each_go_out_once(timer_processes):
    people = timer_processes
    people["anna"].email, people["sara"].language = "anna@wc-aachen.example", "en"
    db.session.commit()
    case_id = start("timer_boundary", people)          # wait_ba: due in 2 days, group advisor
    [task] = open_tasks(case_id)
    assert task.next_notice_at == task.due_at - timedelta(days=1)
    clock.advance(timedelta(hours=23))
    assert timers.sweep()["notices"] == 0

    clock.advance(timedelta(hours=1, seconds=1))        # one day before due: reminder to the candidates
    assert timers.sweep()["notices"] == 1
    assert sorted(n.user.username for n in notes("reminder")) == ["anna", "ben", "sara"]   # not kai, not firms
    assert {n.task_id for n in notes()} == {task.id}
    english = next(n for n in notes() if n.user.username == "sara")
    assert english.title.startswith("Reminder:") and task.case_reference in english.title
    [mail] = db.session.scalars(select(MailMessage)).all()   # only anna has an address
    assert mail.to == "anna@wc-aachen.example" and mail.status == "local"       # no MAIL_URL: the outbox
    assert mail.subject.startswith("Erinnerung:") and f"/cases/{task.case_reference}" in mail.body
    assert timers.sweep()["notices"] == 0                                         # once

    cases.claim_task(task.id, people["ben"])
    clock.advance(timedelta(days=1))                    # due: overdue notice to the assignee only
    assert timers.sweep()["notices"] == 1
    assert [n.user.username for n in notes("overdue")] == ["ben"]

    clock.advance(timedelta(days=2))                    # grace (P2D) over: the center's supervisors
    assert timers.sweep()["notices"] == 1
    assert [n.user.username for n in notes("escalation")] == ["sara"]
    clock.advance(timedelta(days=1))
    assert timers.sweep()["notices"] == 0
    row = db.session.get(HumanTask, task.id)
    assert row.notices_sent == ["reminder", "overdue", "escalation"] and row.next_notice_at is None
    logged = events(case_id, "reminder_sent", "overdue_notice", "escalated")
    assert [e.kind for e in logged] == ["reminder_sent", "overdue_notice", "escalated"]
    assert logged[2].details["recipients"] == ["sara"] and logged[2].task_id == task.id


def test_catch_up_skips_a_superseded_reminder(timer_processes):
    case_id = start("timer_boundary", timer_processes)
    clock.advance(timedelta(days=5))                    # down past due and grace
    assert timers.sweep()["notices"] == 2
    assert [e.kind for e in events(case_id, "reminder_sent", "overdue_notice", "escalated")] == \
        ["overdue_notice", "escalated"]
    assert notes("reminder") == []


def test_completed_task_gets_no_notices(timer_processes):
    case_id = start("timer_boundary", timer_processes)
    [task] = open_tasks(case_id)
    cases.complete_task(task.id, {}, actor=timer_processes["anna"])
    assert db.session.get(HumanTask, task.id).next_notice_at is None
    clock.advance(timedelta(days=6))
    assert timers.sweep()["notices"] == 0 and notes() == []


@pytest.mark.parametrize("follow_up, reminder_after", [(None, timedelta(days=4)),
                                                       ("P4DT12H", timedelta(days=4, hours=12)),
                                                       ("P6D", None)])
def test_follow_up_date_postpones_the_reminder(timer_processes, follow_up, reminder_after):
    """Reminder at due − P1D, but not before the follow-up date; none if that is after the due date."""
    people = timer_processes
    case_id = start("timer_deadline", people, follow_up=follow_up)
    [task] = open_tasks(case_id)
    created = task.created_at
    assert notifications.schedule(task)[0] == (("reminder", created + reminder_after) if reminder_after
                                               else ("overdue", created + timedelta(days=5)))
    clock.advance(timedelta(days=5, seconds=1))
    timers.sweep()
    kinds = [e.kind for e in events(case_id, "reminder_sent", "overdue_notice")]
    # The employer task goes to the firm's employer users only.
    assert {n.user.username for n in notes()} == {"jansen"}
    assert kinds == ["overdue_notice"]          # caught up at once: the overdue notice supersedes


def test_reminder_at_the_follow_up_date(timer_processes):
    start("timer_deadline", timer_processes, follow_up="P4DT12H")
    clock.advance(timedelta(days=4, hours=1))
    assert timers.sweep()["notices"] == 0
    clock.advance(timedelta(hours=11, seconds=1))
    assert timers.sweep()["notices"] == 1
    assert [n.user.username for n in notes("reminder")] == ["jansen"]


def test_reminder_window_is_configurable(timer_processes, ctx):
    before = ctx.config.get("REMINDER_BEFORE")
    ctx.config["REMINDER_BEFORE"] = "PT6H"
    try:
        case_id = start("timer_boundary", timer_processes)
        [task] = open_tasks(case_id)
        assert task.next_notice_at == task.due_at - timedelta(hours=6)
    finally:
        ctx.config["REMINDER_BEFORE"] = before


# --- the embedded sweeper ------------------------------------------------------------------------

def test_embedded_sweeper_thread_wakes_due_cases(timer_processes, ctx):
    case_id = start("timer_boundary", timer_processes)
    clock.advance(timedelta(days=7, seconds=1))
    interval = ctx.config["SWEEP_INTERVAL"]
    ctx.config["SWEEP_INTERVAL"] = 0.2
    thread = timers.start_embedded_sweeper(ctx)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            db.session.rollback()
            if [t.element_id for t in open_tasks(case_id)] == ["chase"] and thread.rounds >= 1:
                break   # the sweep commits before it counts its round
            time.sleep(0.05)
        assert [t.element_id for t in open_tasks(case_id)] == ["chase"]
        assert thread.is_alive() and thread.rounds >= 1
    finally:
        timers.stop_embedded_sweeper()
        ctx.config["SWEEP_INTERVAL"] = interval
    assert not thread.is_alive()
