"""Background work: one interface, inline without REDIS_URL and on rq with it (tests/rq runs the rq side)."""
from datetime import timedelta

import pytest

from engine import jobs


def test_without_redis_work_runs_inline_at_once_and_timed_work_waits_for_the_sweeper(ctx, app):
    assert not app.config.get("REDIS_URL")
    run = jobs.runner()
    assert isinstance(run, jobs.InlineRunner)
    assert run.submit(lambda a, b: a + b, 2, 3) == 5
    ran = []
    assert run.submit_in(timedelta(0), ran.append, 1, key="k") is None
    assert ran == []


def test_with_redis_work_goes_to_the_rq_queue(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")    # the queue connects lazily
    run = jobs.runner()
    assert isinstance(run, jobs.RqRunner)
    assert run.queue.name == app.config.get("RQ_QUEUE", "lotse")


def test_a_job_outside_a_worker_says_how_to_run_it():
    with pytest.raises(RuntimeError, match="lotse worker"):
        with jobs.in_app_context():
            pass


def test_an_after_commit_hand_off_nobody_registered_names_init_app():
    with pytest.raises(RuntimeError, match="init_app"):
        jobs.after_commit("no such hand-off")
