"""Background work: inline in the embedded default, on rq when REDIS_URL is set.

Jobs are enqueued only after the transaction that made them necessary has committed, so
a worker never sees state that could still roll back. Redis is never the truth: every job
re-reads the database and does nothing when there is nothing to do, so a lost, duplicated
or stale job cannot fire anything twice or miss anything (the periodic sweep catches up).

`lotse worker [--with-scheduler] [--burst]` runs `run_worker`: an rq worker on the `lotse`
queue whose work-horse (the forked process that runs one job) gets its own database
connections and a Flask app context. Every job has a timeout (`JOB_TIMEOUT`), so a runaway
script in a diagram cannot hang a worker.
"""
import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context

from engine import timers  # noqa: F401  (registers the after-commit hooks that schedule wake jobs)
from engine.settings import setting

log = logging.getLogger(__name__)
_local = threading.local()

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


@contextmanager
def in_app_context():
    """Run a job body inside a Flask app context (reusing one if there is one) and clean the session up."""
    if has_app_context():
        yield current_app._get_current_object()
        return
    from web import create_app
    app = current_app_for_jobs() or create_app()
    with app.app_context():
        from engine.db import end_session
        try:
            yield app
        finally:
            end_session()


_job_app = None


def current_app_for_jobs():
    return _job_app


# --- after-commit hand-offs ------------------------------------------------------------------------

def deliver_messages_job():
    from engine import messages
    with in_app_context():
        return messages.deliver_pending()


def after_commit_deliver():
    """Route pending outbox messages, now (inline) or on a worker (rq)."""
    q = queue()
    if q is not None:
        q.enqueue(deliver_messages_job)
        return
    if getattr(_local, "delivering", False):    # delivery starts and wakes cases, which call back here
        return
    _local.delivering = True
    try:
        deliver_messages_job()
    finally:
        _local.delivering = False


def after_commit_send_mail():
    """Send pending mail: a job on rq; inline otherwise (errors stay on the rows, the sweeper retries)."""
    from engine import mail
    q = queue()
    if q is not None:
        try:
            q.enqueue(mail.send_job)
        except Exception:          # Redis down: the periodic sweep sends it
            log.exception("could not enqueue the mail job; the sweeper will send the mail")
        return
    if not setting("MAIL_URL"):
        return
    try:
        mail.send_pending()
    except Exception:
        log.exception("sending mail inline failed; the sweeper will retry")


def schedule_wakes(due_by_case: dict):
    """After a commit that set cases' next_timer_at: a wake job at each due time (rq only).

    The job id is per case and due time, so saving a case again with the same due time
    does not add a job. The clock may run ahead of the wall clock (tests, demos): the
    delay is counted on the engine's clock.
    """
    q = queue()
    if q is None or not due_by_case:
        return
    from rq.job import Job
    from engine import clock, timers
    now = clock.now()
    try:
        for case_id, due in due_by_case.items():
            job_id = f"{q.name}-wake-{case_id}-{int(due.timestamp())}"
            if Job.exists(job_id, connection=q.connection):
                continue
            delay = max(timedelta(0), due - now) + timedelta(seconds=1)   # spiff fires strictly after due
            q.enqueue_in(delay, timers.wake_job, case_id, job_id=job_id,
                         result_ttl=600, failure_ttl=86400, description=f"wake case {case_id} at {due.isoformat()}")
    except Exception:
        log.exception("could not schedule wake jobs; the periodic sweep will wake the cases")


# --- the worker ------------------------------------------------------------------------------------

def _worker_class():
    from rq import Worker

    class LotseWorker(Worker):
        """An rq worker whose forked work-horse starts with its own DB pool and an app context."""

        app = None

        def main_work_horse(self, job, queue):
            global _job_app
            _job_app = self.app
            with self.app.app_context():
                from engine.db import db
                db.engine.dispose(close=False)    # never share the parent's connections across fork
                return super().main_work_horse(job, queue)

        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            try:
                with self.app.app_context():
                    from engine import timers
                    timers.schedule_next_sweep()     # re-establish the sweep chain if Redis lost it
            except Exception:
                self.log.exception("could not schedule the next sweep")

    return LotseWorker


def run_worker(with_scheduler=False, burst=False):
    """Run an rq worker on Lotse's queue (called by `lotse worker` inside an app context)."""
    global _job_app
    from engine import timers
    app = current_app._get_current_object()
    q = queue()
    if q is None:
        raise RuntimeError("REDIS_URL is not set")
    _job_app = app
    worker_class = _worker_class()
    worker_class.app = app
    # Catch up at once (after downtime, or on first start), then keep the periodic sweep scheduled.
    q.enqueue(timers.sweep_job, job_id=f"{q.name}-sweep-start-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}",
              result_ttl=3600)
    timers.schedule_next_sweep()
    if not with_scheduler:
        log.warning("worker runs without --with-scheduler: timed jobs (wakes, periodic sweeps) need a "
                    "worker with the scheduler somewhere")
    worker = worker_class([q], connection=q.connection)
    worker.work(burst=burst, with_scheduler=with_scheduler, logging_level="INFO")
