"""Real rq workers (`lotse worker` subprocesses) against the test database and a real Redis.

Each test gets its own queue name, so it never sees another run's jobs. A worker learns the
test's (moved) clock through LOTSE_CLOCK_OFFSET_SECONDS; nothing here sleeps to let time pass.
CI always sets REDIS_URL (and tests/conftest.py refuses to run in CI without it), so the skip
below only applies to a developer's machine without Redis.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import cases, clock
from engine.db import db
from engine.models import Case, CaseEvent, HumanTask, Notification

REDIS_URL = os.environ.get("REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent.parent
LOTSE = str(Path(sys.executable).parent / "lotse")

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI always sets it)")


class Workers:
    """Starts `lotse worker` processes on a private queue and cleans the queue up afterwards."""

    def __init__(self, app, tmp_path):
        from redis import Redis
        from rq import Queue
        self.app, self.tmp_path = app, tmp_path
        self.name = f"lotse-test-{uuid.uuid4().hex[:10]}"
        self.redis = Redis.from_url(REDIS_URL)
        self.queue = Queue(self.name, connection=self.redis)
        self.procs = []

    def env(self, **extra):
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": REDIS_URL,
            "LOTSE_RQ_QUEUE": self.name, "LOTSE_SECRET_KEY": "test", "MAIL_URL": "",
            "LOTSE_CLOCK_OFFSET_SECONDS": str(clock.offset_from_real_time().total_seconds()),
            "LOTSE_SWEEP_INTERVAL": "3600", "PYTHONPATH": str(ROOT)})
        env.pop("CI", None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, *args, **env):
        db.session.commit()            # the worker must see everything; hold no lock while it runs
        log = open(self.tmp_path / f"worker-{len(self.procs)}.log", "w")
        proc = subprocess.Popen([LOTSE, "worker", *args], cwd=ROOT, env=self.env(**env),
                                stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = log.name
        self.procs.append(proc)
        return proc

    def run_burst(self, *args, timeout=90, **env):
        proc = self.start("--burst", *args, **env)
        try:
            proc.wait(timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, Path(proc.log_path).read_text()[-3000:]
        db.session.rollback()
        db.session.expire_all()
        return Path(proc.log_path).read_text()

    def stop(self, proc, timeout=30):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)          # warm shutdown: finish the current job
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cleanup(self):
        for proc in self.procs:
            self.stop(proc, timeout=10)
        from rq.registry import (FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry,
                                 StartedJobRegistry)
        for registry in (ScheduledJobRegistry, FinishedJobRegistry, FailedJobRegistry, StartedJobRegistry):
            reg = registry(queue=self.queue)
            for job_id in reg.get_job_ids():
                self.redis.delete(f"rq:job:{job_id}")
            self.redis.delete(reg.key)
        self.queue.empty()
        self.queue.delete(delete_jobs=True)


@pytest.fixture
def workers(ctx, tmp_path):
    pool = Workers(ctx, tmp_path)
    yield pool
    pool.cleanup()


@pytest.fixture
def processes(people, deploy_fixture):
    deploy_fixture("timer_boundary.bpmn", "timer_cycle.bpmn", "timer_date.bpmn")
    return people


def start(key, people, **data):
    return cases.start_case(key, center=people["center"], employer=people["firm"], subject="Ana Lima",
                            data=data, actor=people["anna"]).id


def kinds(case_id, *only):
    query = select(CaseEvent.kind, CaseEvent.element_id).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    rows = db.session.execute(query).all()
    return [f"{k}:{e}" if e else k for k, e in rows if not only or k in only]


def open_elements(case_id):
    return sorted(db.session.scalars(select(HumanTask.element_id).where(HumanTask.case_id == case_id,
                                                                        HumanTask.state == "open")))


def test_boundary_timer_fires_and_the_task_escalates(processes, workers):
    case_id = start("timer_boundary", processes)          # wait_ba due in 2 days; boundary timer after 7
    clock.advance(timedelta(days=4, seconds=5))            # past due and grace: overdue + escalation
    workers.run_burst()
    assert kinds(case_id, "reminder_sent", "overdue_notice", "escalated") == [
        "overdue_notice:wait_ba", "escalated:wait_ba"]
    escalations = db.session.scalars(select(Notification).where(Notification.kind == "escalation")).all()
    assert [n.user.username for n in escalations] == ["sara"]
    assert open_elements(case_id) == ["wait_ba"]

    clock.advance(timedelta(days=3))                       # the BPMN boundary timer (P7D)
    workers.run_burst()
    assert open_elements(case_id) == ["chase"]
    assert kinds(case_id, "timer_fired") == ["timer_fired:ba_late"]
    workers.run_burst()                                    # again: nothing more happens
    assert kinds(case_id, "timer_fired") == ["timer_fired:ba_late"]


def test_cycle_reminder_repeats_exactly_three_times(processes, workers):
    case_id = start("timer_cycle", processes)              # R3/PT1H, non-interrupting
    clock.advance(timedelta(hours=1, seconds=5))
    workers.run_burst()
    assert open_elements(case_id) == ["collect", "nudge"]
    clock.advance(timedelta(days=1))
    workers.run_burst()
    assert open_elements(case_id) == ["collect", "nudge", "nudge", "nudge"]
    clock.advance(timedelta(days=1))
    workers.run_burst()
    assert open_elements(case_id) == ["collect", "nudge", "nudge", "nudge"]
    assert db.session.get(Case, case_id).next_timer_at is None


def test_two_workers_sweeping_at_once_fire_each_timer_exactly_once(processes, workers):
    from rq import Worker
    from rq.job import Job
    from engine import timers
    n = 120
    # Both workers run ahead by two hours and idle until there is work.
    clock_offset = clock.offset_from_real_time() + timedelta(hours=2)
    procs = [workers.start(LOTSE_CLOCK_OFFSET_SECONDS=clock_offset.total_seconds()) for _ in range(2)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        idle = [w for w in Worker.all(queue=workers.queue) if w.get_state() == "idle"]
        if len(idle) == 2 and workers.queue.count == 0:
            break
        time.sleep(0.1)
    else:
        pytest.fail("workers did not start: " + Path(procs[0].log_path).read_text()[-2000:])

    register_by = (clock.now() + timedelta(hours=1)).isoformat()
    ids = [start("timer_date", processes, register_by=register_by) for _ in range(n)]
    db.session.commit()
    jobs = [workers.queue.enqueue(timers.sweep_job) for _ in range(2)]     # two sweeps, one per worker
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.rollback()
        fired = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "timer_fired"))
        if fired >= n and all(Job.fetch(j.id, connection=workers.redis).is_finished for j in jobs):
            break
        time.sleep(0.2)
    for proc in procs:
        workers.stop(proc)
    db.session.rollback()
    per_case = dict(db.session.execute(
        select(CaseEvent.case_id, func.count()).where(CaseEvent.kind == "timer_fired").group_by(CaseEvent.case_id)).all())
    assert per_case == {case_id: 1 for case_id in ids}
    assert all(open_elements(case_id) == ["check"] for case_id in ids)
    woken = [Job.fetch(j.id, connection=workers.redis).return_value()["woken"] for j in jobs]
    if workers.app.backend == "postgresql":
        assert all(w > 0 for w in woken), woken      # both really swept side by side,
        assert sum(woken) == n, woken                # and row locks spared even a no-op wake
    # SQLite locks the whole database, so one worker may well do all the work, and it has no row
    # locks: a worker may re-wake a case the other just woke; the engine state it loads already
    # shows the timer fired, so that wake fires nothing (counted above, per case).


def test_a_worker_stopped_for_a_day_catches_up(processes, workers):
    now = clock.now()
    dated = {start("timer_date", processes, register_by=(now + timedelta(hours=h)).isoformat()): h
             for h in (5, 1, 3)}
    cycle = start("timer_cycle", processes)
    boundary = start("timer_boundary", processes)
    clock.advance(timedelta(days=1, seconds=5))            # the worker was down for a day
    workers.run_burst()
    fired = db.session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "timer_fired",
                                                               CaseEvent.case_id.in_(dated))
                               .order_by(CaseEvent.id)).all()
    assert [dated[c] for c in fired] == [1, 3, 5]          # in due order
    assert open_elements(cycle) == ["collect", "nudge", "nudge", "nudge"]
    assert kinds(boundary, "reminder_sent") == ["reminder_sent:wait_ba"]
    before = db.session.scalar(select(func.count()).select_from(CaseEvent))
    workers.run_burst()                                    # a second start changes nothing
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == before
    from rq.registry import ScheduledJobRegistry
    assert any(j.startswith(f"{workers.name}-sweep-") for j in ScheduledJobRegistry(queue=workers.queue).get_job_ids())


def test_a_wake_job_is_scheduled_at_the_due_time(processes, workers, ctx):
    from rq.job import Job
    from rq.registry import FinishedJobRegistry
    # The worker sweeps once as it starts; the case is started only after that sweep, so its timer
    # can be fired by nothing but its own wake job, however slowly the worker came up.
    proc = workers.start("--with-scheduler")               # periodic sweeps hourly: the wake job does it
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not any(
            job_id.startswith(f"{workers.name}-sweep-start-")
            for job_id in FinishedJobRegistry(queue=workers.queue).get_job_ids()):
        time.sleep(0.2)
    assert proc.poll() is None, Path(proc.log_path).read_text()[-2000:]
    ctx.config.update(REDIS_URL=REDIS_URL, RQ_QUEUE=workers.name)
    try:
        due = clock.now() + timedelta(seconds=3)
        case_id = start("timer_date", processes, register_by=due.isoformat())
        scheduled = wake_jobs(workers)
        assert scheduled == [f"{workers.name}-wake-{case_id}-{int(due.timestamp())}"]
        cases.wake(case_id)                                # saved again, same due time: no second job
        assert wake_jobs(workers) == scheduled
    finally:
        ctx.config.update(REDIS_URL=None, RQ_QUEUE="lotse")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        db.session.rollback()
        if kinds(case_id, "timer_fired"):
            break
        time.sleep(0.2)
    workers.stop(proc)
    assert kinds(case_id, "timer_fired") == ["timer_fired:until"], Path(proc.log_path).read_text()[-2000:]
    job = Job.fetch(scheduled[0], connection=workers.redis)
    assert job.is_finished and job.return_value() == 1


def wake_jobs(workers):
    """The scheduled wake jobs (the worker's next periodic sweep is scheduled beside them)."""
    from rq.registry import ScheduledJobRegistry
    return [job_id for job_id in ScheduledJobRegistry(queue=workers.queue).get_job_ids() if "-wake-" in job_id]


def test_a_runaway_job_is_stopped_by_its_timeout(workers):
    job = workers.queue.enqueue(time.sleep, 60, job_timeout=1)
    started = time.monotonic()
    workers.run_burst()
    assert time.monotonic() - started < 40
    from rq.job import Job
    job = Job.fetch(job.id, connection=workers.redis)
    assert job.is_failed and "JobTimeoutException" in (job.latest_result().exc_string or "")
