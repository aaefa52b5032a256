"""Background work: inline in the embedded default, on rq when REDIS_URL is set.

Jobs are enqueued only after the transaction that made them necessary has committed, so
a worker never sees state that could still roll back. Redis is never the truth: every job
re-reads the database and does nothing when there is nothing to do, so a lost, duplicated
or stale job cannot fire anything twice or miss anything (the periodic sweep catches up).

This module knows no job by name: the module that owns a piece of work defines its job
function (`timers.wake_job`, `mail.send_job`, ...) and its after-commit hand-off, and hands
them here. The one hand-off a lower module triggers without importing its owner (a case that
threw messages asks for delivery, which starts and wakes cases) is registered by
`engine.wiring.init_app` and run with `after_commit(name)`.

`lotse worker [--with-scheduler] [--burst]` runs `run_worker(app, ...)`: an rq worker on the
`lotse` queue whose work-horse (the forked process that runs one job) gets its own database
connections and an app context of the app the CLI built. Every job has a timeout
(`JOB_TIMEOUT`), so a runaway script in a diagram cannot hang a worker.
"""
import logging
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app, has_app_context

from engine.db import db, end_session
from engine.settings import setting

log = logging.getLogger(__name__)
_job_app = None        # the worker's app, set by run_worker


def queue():
    """The rq queue, or None in the embedded default."""
    if not has_app_context():
        return None
    url = setting("REDIS_URL")
    if not url:
        return None
    name = setting("RQ_QUEUE")
    timeout = setting("JOB_TIMEOUT")
    ext = current_app.extensions.setdefault("lotse_rq", {})
    key = (url, name, timeout)
    if key not in ext:
        from redis import Redis
        from rq import Queue
        ext[key] = Queue(name, connection=Redis.from_url(url), default_timeout=timeout)
    return ext[key]


class InlineRunner:
    """No REDIS_URL: a job runs in this process at once; timed work is left to the embedded sweeper."""

    inline = True

    def submit(self, job, *args):
        return job(*args)

    def submit_in(self, delay: timedelta, job, *args, key: str, description: str = ""):
        return None


class RqRunner:
    """REDIS_URL set: a job is enqueued on Lotse's rq queue and runs on a `lotse worker`."""

    inline = False

    def __init__(self, rq_queue):
        self.queue = rq_queue

    def submit(self, job, *args):
        return self.queue.enqueue(job, *args)

    def submit_in(self, delay: timedelta, job, *args, key: str, description: str = ""):
        """Run `job` after `delay`, once per `key` (a job with the same key already waiting is kept)."""
        from rq.job import Job
        job_id = f"{self.queue.name}-{key}"
        if Job.exists(job_id, connection=self.queue.connection):
            return None
        return self.queue.enqueue_in(delay, job, *args, job_id=job_id, result_ttl=600, failure_ttl=86400,
                                     description=description)


def runner() -> InlineRunner | RqRunner:
    """Where background work runs in this app: on rq when REDIS_URL is set, else inline."""
    q = queue()
    return InlineRunner() if q is None else RqRunner(q)


@contextmanager
def in_app_context():
    """Run a job body inside a Flask app context (reusing one if there is one) and clean the session up."""
    if has_app_context():
        yield current_app._get_current_object()
        return
    app = _job_app
    if app is None:
        raise RuntimeError("a Lotse job ran outside an app context: run jobs with `lotse worker`")
    with app.app_context():
        try:
            yield app
        finally:
            end_session()


# --- after-commit hand-offs registered by engine.wiring ----------------------------------------------

_after_commit = {}


def register_after_commit(name, hand_off):
    _after_commit[name] = hand_off


def after_commit(name):
    """Run the hand-off registered under `name` (inline it does the work, on rq it enqueues a job)."""
    try:
        hand_off = _after_commit[name]
    except KeyError:
        raise RuntimeError(f"no after-commit hand-off {name!r}: engine.wiring.init_app(app) was not called") from None
    hand_off()


# --- the worker ------------------------------------------------------------------------------------

def _worker_class():
    from rq import Worker

    class LotseWorker(Worker):
        """An rq worker whose forked work-horse starts with its own DB pool and an app context."""

        app = None
        maintenance = ()

        def main_work_horse(self, job, queue):
            global _job_app
            _job_app = self.app
            with self.app.app_context():
                db.engine.dispose(close=False)    # never share the parent's connections across fork
                return super().main_work_horse(job, queue)

        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            for task in self.maintenance:
                try:
                    with self.app.app_context():
                        task()
                except Exception:
                    self.log.exception("maintenance task %s failed", getattr(task, "__name__", task))

    return LotseWorker


def run_worker(app, *, on_start=(), maintenance=(), with_scheduler=False, burst=False):
    """Run an rq worker on Lotse's queue with `app` (built by the CLI's app factory).

    `on_start` callables run once before the first job (the timers' catch-up sweep), `maintenance`
    callables at each of rq's maintenance rounds (re-establishing the periodic sweep), both in an
    app context.
    """
    global _job_app
    with app.app_context():
        q = queue()
        if q is None:
            raise RuntimeError("REDIS_URL is not set")
        _job_app = app
        worker_class = _worker_class()
        worker_class.app = app
        worker_class.maintenance = tuple(maintenance)
        for task in on_start:
            task()
        if not with_scheduler:
            log.warning("worker runs without --with-scheduler: timed jobs (wakes, periodic sweeps) need a "
                        "worker with the scheduler somewhere")
        worker = worker_class([q], connection=q.connection)
        worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
