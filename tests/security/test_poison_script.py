"""A script that raises SystemExit stops neither the sweeper nor another center's deadline notices
(issue 14, item 2): under the embedded sweeper thread of `lotse serve` and under a real rq worker."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import cases, clock, timers
from engine.db import db
from engine.models import CaseEvent, Incident
from tests.conftest import fixture_files
from tests.rq.test_rq_worker import REDIS_URL, Workers
from tests.security.conftest import script_process


@pytest.fixture
def poisoned(people, deploy_files):
    """A poison case due in an hour at Aachen; a task at Köln whose overdue notice is due in two days."""
    deploy_files(script_process("poison", "raise SystemExit", wait="PT1H"), *fixture_files("timer_boundary.bpmn"))
    poison = cases.start_case("poison", center=people["center"], actor=people["anna"]).id
    other = cases.start_case("timer_boundary", center=people["other_center"], actor=people["kai"]).id
    db.session.commit()
    clock.advance(timedelta(days=2, seconds=5))
    return poison, other


def overdue_sent(case_id):
    db.session.rollback()
    return db.session.scalars(select(CaseEvent.element_id).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == "overdue_notice")).all()


def incident_types(case_id):
    return db.session.scalars(select(Incident.error_type).where(Incident.case_id == case_id)).all()


def test_the_embedded_sweeper_survives_a_poison_script(poisoned, ctx, monkeypatch):
    poison, other = poisoned
    monkeypatch.setitem(ctx.config, "SWEEP_INTERVAL", 0.2)
    thread = timers.start_embedded_sweeper(ctx)
    try:
        deadline = time.monotonic() + 20
        while not overdue_sent(other) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert overdue_sent(other) == ["wait_ba"]          # the other center's notice went out
        rounds = thread.rounds
        deadline = time.monotonic() + 20
        while thread.rounds == rounds and time.monotonic() < deadline:
            time.sleep(0.05)
        assert thread.is_alive() and thread.rounds > rounds  # and the thread sweeps on
    finally:
        timers.stop_embedded_sweeper()
    assert incident_types(poison) == ["ScriptAborted"]


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI always sets it)")
def test_an_rq_worker_survives_a_poison_script_and_keeps_the_sweep_chain(poisoned, ctx, tmp_path):
    from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry
    poison, other = poisoned
    workers = Workers(ctx, tmp_path)
    try:
        log = workers.run_burst()
        assert overdue_sent(other) == ["wait_ba"], log[-3000:]
        assert incident_types(poison) == ["ScriptAborted"]
        finished = FinishedJobRegistry(queue=workers.queue).get_job_ids()
        assert any(job.startswith(f"{workers.name}-sweep-start-") for job in finished), log[-3000:]
        assert FailedJobRegistry(queue=workers.queue).get_job_ids() == []
        assert any(job.startswith(f"{workers.name}-sweep-") and "start" not in job
                   for job in ScheduledJobRegistry(queue=workers.queue).get_job_ids())
    finally:
        workers.cleanup()


def _failing_once(real):
    """`timers.sweep` that raises SystemExit on its first call, then sweeps as usual."""
    calls = []

    def sweep(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise SystemExit("a round that fails in any way")
        return real(*args, **kwargs)
    return sweep


def test_the_embedded_sweeper_thread_outlives_any_failing_round(people, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "SWEEP_INTERVAL", 0.1)
    monkeypatch.setattr(timers, "sweep", _failing_once(timers.sweep))
    thread = timers.start_embedded_sweeper(ctx)
    try:
        deadline = time.monotonic() + 20
        while thread.rounds < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert thread.is_alive() and thread.rounds >= 2
    finally:
        timers.stop_embedded_sweeper()


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI always sets it)")
def test_a_failing_rq_sweep_still_schedules_the_next(ctx, monkeypatch, tmp_path):
    from rq.registry import ScheduledJobRegistry
    workers = Workers(ctx, tmp_path)              # a private queue, cleaned up after
    monkeypatch.setitem(ctx.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(ctx.config, "RQ_QUEUE", workers.name)
    monkeypatch.setattr(timers, "sweep", _failing_once(timers.sweep))
    try:
        with pytest.raises(SystemExit):
            timers.sweep_job()
        assert [job for job in ScheduledJobRegistry(queue=workers.queue).get_job_ids()
                if job.startswith(f"{workers.name}-sweep-")]
    finally:
        workers.cleanup()
