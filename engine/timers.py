"""Time: the sweeper that wakes due cases, sends deadline notices and retries mail.

The database is the truth. `case.next_timer_at` (kept by `state.sync`) says when a case's
earliest BPMN timer is due; `human_task.next_notice_at` when a task's next deadline notice
(reminder, overdue notice, escalation) is due; `mail_message.next_attempt_at` when a mail
is (re)sent. `sweep()` works through all three in due order:

- Due cases are claimed in due order, WAKE_BATCH at a time, with `SELECT … FOR UPDATE SKIP
  LOCKED` (PostgreSQL) in the transaction that wakes them (`cases.wake_due`:
  `refresh_timers()` + `do_engine_steps()`, sync, one commit for the batch), so several
  workers sweep side by side and a case is only ever woken by one of them; a case another
  worker holds is skipped. On SQLite (one writer at a time) the case's `lock_version` check
  turns a lost race into a Conflict; the batch is then redone case by case. A case whose next
  timer is still due after waking (a cycle timer after downtime) is claimed again by a later
  batch, so missed repetitions are caught up one by one, in order, each exactly once.
- Deadline notices: see `engine.notifications`.
- Pending mail: see `engine.mail`.

Scheduling: with `REDIS_URL`, `sweep_job` runs on rq and schedules its successor at the next
multiple of `SWEEP_INTERVAL` with rq's scheduler (`rq worker --with-scheduler`; job id per
slot, so several workers never pile up sweeps); every worker start sweeps once (catch-up
after downtime) and re-establishes the chain, and so does the worker's maintenance round if
Redis lost the scheduled job. For precision, every commit that moves a case's
`next_timer_at` also enqueues `wake_job` at that time (id per case and due time). A lost,
duplicated or stale job never matters: `wake_job` re-checks the database.
Without `REDIS_URL`, `start_embedded_sweeper` runs the same `sweep` in a daemon thread every
`SWEEP_INTERVAL` seconds, sooner when a commit brings a timer closer.
"""
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import has_app_context
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine import cases, clock, jobs, mail, messages, notifications, state, timer_starts
from engine.db import db, end_session
from engine.errors import Conflict, NotFound
from engine.models import Case, HumanTask, ProcessDefinition, TimerStart, TimerStartRound
from engine.settings import setting
from engine.models.statuses import CaseStatus, TaskStatus

log = logging.getLogger(__name__)

MAX_CATCH_UP = 1000       # wakes of one case in one sweep (a cycle timer's missed repetitions)
WAKE_BATCH = 20           # cases woken per transaction by the sweeper


def wake_if_due(case_id, now=None, skip_locked=True) -> int:
    """Wake one case while its timers are due. Returns how many times it was woken (0: nothing due)."""
    woken = 0
    while woken < MAX_CATCH_UP:
        try:
            result = cases.wake_due(now or clock.now(), case_id=case_id, skip_locked=skip_locked)
        except (Conflict, NotFound, OperationalError) as exc:   # a lost race (SQLite) or a vanished case
            db.session.rollback()
            log.info("wake of case %s skipped: %s", case_id, str(exc).split("\n")[0])
            break
        if not result:
            break                        # nothing due, or another worker has it
        woken += 1
        before, after = result[case_id]
        if after is None or after == before or after >= (now or clock.now()):
            break                        # nothing more due, or no progress
    return woken


def wake_due_cases(now=None, limit=500, deadline=None) -> int:
    """Wake due cases in due order, WAKE_BATCH per transaction; returns the number of wakes.

    A case still due after its wake (a cycle timer's missed repetitions) is claimed again by
    a later batch, in due order. A case that made no progress, or reached MAX_CATCH_UP, is left
    for the next sweep. A batch that fails is rolled back and its cases are woken one by one,
    so one broken case neither blocks the others nor fires anything twice.
    """
    now = now or clock.now()
    woken, wakes_per_case, skip = 0, {}, set()
    while woken < limit and (deadline is None or time.monotonic() < deadline):
        try:
            result = cases.wake_due(now, limit=min(WAKE_BATCH, limit - woken), skip=skip)
        except Exception as exc:
            db.session.rollback()
            log.info("a batch of wakes failed (%s); waking its cases one by one", str(exc).split("\n")[0])
            result = _wake_singly(now, min(WAKE_BATCH, limit - woken), skip)
        if not result:
            break
        for case_id, (before, after) in result.items():
            if before is None:               # failed alone: leave it for the next sweep
                skip.add(case_id)
                continue
            woken += 1
            wakes_per_case[case_id] = wakes_per_case.get(case_id, 0) + 1
            if after == before or wakes_per_case[case_id] >= MAX_CATCH_UP:
                skip.add(case_id)
    return woken


def _wake_singly(now, count, skip) -> dict:
    """Wake the next `count` due cases one transaction each; a failing one maps to (None, None)."""
    result = {}
    for case_id in cases.due_case_ids(now, count, skip):
        try:
            result.update(cases.wake_due(now, case_id=case_id))
        except Exception:
            db.session.rollback()
            log.exception("waking case %s failed", case_id)
            result[case_id] = (None, None)
    db.session.rollback()
    return result


def start_timer_cases(now=None, limit=100) -> int:
    """Claim the timer start events that are due and start the cases their rounds owe, one per Welcome
    Center (engine.timer_starts), including those a crashed worker left pending."""
    timer_starts.claim_due(now, limit)
    started = 0
    for round_id in timer_starts.pending_rounds(limit):
        try:
            started += _start_round(round_id)
        except Exception:                 # one center's failure leaves the others' cases; its row stays pending
            db.session.rollback()
            log.exception("timer start round %s failed", round_id)
    return started


def _start_round(round_id) -> bool:
    """Start the case a round owes a center, marking its row done in the case's transaction. False when
    another worker holds the row or has settled it."""
    owed = db.session.scalar(select(TimerStartRound).where(TimerStartRound.id == round_id,
                                                          TimerStartRound.done.is_(False))
                             .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if owed is None:
        db.session.rollback()
        return False
    definition = db.session.get(ProcessDefinition, owed.definition_id)
    cases.start_case(definition, center=owed.center_id, by_message=True, fire_start_timer=owed.element_id,
                     timer_round=owed)
    return True


def sweep(now=None, limit=500, time_budget=None) -> dict:
    """One round over everything due. Idempotent: what is not due, or already done, is left alone."""
    deadline = time.monotonic() + time_budget if time_budget else None
    try:
        started = start_timer_cases(now)
    except Exception:
        db.session.rollback()
        log.exception("timer starts failed")
        started = 0
    result = {"woken": wake_due_cases(now, limit, deadline), "timer_starts": started}
    try:
        result["notices"] = notifications.send_due_notices(now, limit)
    except Exception:
        db.session.rollback()
        log.exception("deadline notices failed")
        result["notices"] = 0
    try:
        result["digests"] = notifications.send_digests(now)
    except Exception:
        db.session.rollback()
        log.exception("daily digests failed")
    try:
        result["mail"] = mail.send_pending(limit)
    except Exception:
        db.session.rollback()
        log.exception("sending mail failed")
    try:
        result["messages"] = messages.deliver_pending(limit)
    except Exception:
        db.session.rollback()
        log.exception("delivering messages failed")
    result["more"] = (result["woken"] >= limit or result["notices"] >= limit
                      or (deadline is not None and time.monotonic() >= deadline))
    return result


def next_due_at():
    """The earliest moment anything will be due (for the embedded sweeper's sleep)."""
    times = [db.session.scalar(select(func.min(Case.next_timer_at)).where(Case.status == CaseStatus.ACTIVE)),
             db.session.scalar(select(func.min(HumanTask.next_notice_at)).where(HumanTask.state == TaskStatus.OPEN)),
             mail.next_attempt_at(), db.session.scalar(select(func.min(TimerStart.next_at)))]
    db.session.rollback()
    times = [t for t in times if t is not None]
    return min(times) if times else None


# --- rq jobs ---------------------------------------------------------------------------------------

def wake_job(case_id):
    """rq job at a case's due time. Stale (already woken, case gone) or early: does nothing."""
    with jobs.in_app_context():
        woken = wake_if_due(case_id, skip_locked=False)
        if woken:
            notifications.send_due_notices()
        return woken


def sweep_job(limit=None):
    """rq job: one sweep; schedules the next one, and a follow-up at once if it stopped at its limit."""
    with jobs.in_app_context():
        limit = limit or setting("SWEEP_LIMIT")
        budget = setting("JOB_TIMEOUT") / 2
        try:
            result = sweep(limit=limit, time_budget=budget)
        finally:
            if jobs.queue() is not None:
                schedule_next_sweep()      # whatever this sweep did (or the job timeout), the chain goes on
        if result["more"] and jobs.queue() is not None:
            jobs.queue().enqueue(sweep_job, result_ttl=600)
        return result


def start_worker_sweeps():
    """When an rq worker starts: catch up at once (after downtime, or on first start), then keep the
    periodic sweep scheduled."""
    q = jobs.queue()
    q.enqueue(sweep_job, job_id=f"{q.name}-sweep-start-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}",
              result_ttl=3600)
    schedule_next_sweep()


def schedule_next_sweep():
    """Schedule the periodic sweep at the next multiple of SWEEP_INTERVAL (once, whoever asks)."""
    from rq.job import Job
    q = jobs.queue()
    if q is None:
        return None
    interval = max(1.0, setting("SWEEP_INTERVAL"))
    real_now = datetime.now(timezone.utc).timestamp()
    slot = int(real_now // interval) + 1
    job_id = f"{q.name}-sweep-{int(interval)}-{slot}"
    if Job.exists(job_id, connection=q.connection):
        return job_id
    at = datetime.fromtimestamp(slot * interval, timezone.utc)
    q.enqueue_at(at, sweep_job, job_id=job_id, result_ttl=600, failure_ttl=86400,
                 description="periodic sweep")
    return job_id


# --- precise wake jobs after commit ----------------------------------------------------------------

def schedule_wakes(due_by_case: dict):
    """After a commit that set cases' next_timer_at: a wake job at each due time (rq only).

    The job key is per case and due time, so saving a case again with the same due time
    does not add a job. The clock may run ahead of the wall clock (tests, demos): the
    delay is counted on the engine's clock.
    """
    now = clock.now()
    run = jobs.runner()
    try:
        for case_id, due in due_by_case.items():
            delay = max(timedelta(0), due - now) + timedelta(seconds=1)   # spiff fires strictly after due
            run.submit_in(delay, wake_job, case_id, key=f"wake-{case_id}-{int(due.timestamp())}",
                          description=f"wake case {case_id} at {due.isoformat()}")
    except Exception:
        log.exception("could not schedule wake jobs; the periodic sweep will wake the cases")


def note_timer_changes(session, flush_context):
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Case):
            state.note_wake(session, obj)


def schedule_wakes_after_commit(session):
    wakes = session.info.pop(state.WAKES, None)
    if not wakes or not has_app_context():
        return
    if setting("REDIS_URL"):
        schedule_wakes(wakes)
    elif _embedded is not None:
        _embedded.kick.set()


def forget_wakes(session):
    session.info.pop(state.WAKES, None)


# --- the embedded sweeper (no REDIS_URL) -----------------------------------------------------------

class EmbeddedSweeper(threading.Thread):
    """Sweeps every SWEEP_INTERVAL seconds (sooner when something falls due) in an app context."""

    def __init__(self, app):
        super().__init__(name="lotse-sweeper", daemon=True)
        self.app = app
        self.kick = threading.Event()
        self._stop_requested = threading.Event()
        self.rounds = 0

    def run(self):
        interval = max(0.05, setting("SWEEP_INTERVAL", self.app))
        while not self._stop_requested.is_set():
            wait = interval
            try:
                with self.app.app_context():
                    try:
                        wait = self._round(interval)
                    finally:
                        end_session()
            except BaseException:          # nothing a round meets (even a SystemExit) may end the thread
                log.exception("embedded sweep failed")
            self.kick.wait(timeout=wait)
            self.kick.clear()

    def _round(self, interval) -> float:
        """One sweep; returns how long to wait before the next."""
        result = sweep(limit=setting("SWEEP_LIMIT"))
        self.rounds += 1
        if result["more"]:
            return 0
        upcoming = next_due_at()
        if upcoming is None:
            return interval
        return min(interval, max(0.0, (upcoming - clock.now()).total_seconds()) + 0.05)

    def stop(self, timeout=10):
        self._stop_requested.set()
        self.kick.set()
        self.join(timeout)


_embedded: EmbeddedSweeper | None = None


def start_embedded_sweeper(app) -> EmbeddedSweeper:
    """Start the in-process sweeper thread used when there is no REDIS_URL."""
    global _embedded
    if _embedded is not None and _embedded.is_alive():
        return _embedded
    _embedded = EmbeddedSweeper(app)
    _embedded.start()
    return _embedded


def stop_embedded_sweeper():
    global _embedded
    if _embedded is not None:
        _embedded.stop()
        _embedded = None
