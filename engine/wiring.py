"""Wire the engine into an app: every global SQLAlchemy listener and after-commit hand-off, in one place.

`init_app(app)` is called by `web.create_app`, so the server, the CLI and the rq worker (which the
CLI starts with the app it built) all run with the same hooks. Nothing in the engine switches a
hook on by being imported. The order below is the order SQLAlchemy calls hooks on the same event;
none of them depends on another having run. The table of hooks is in docs/architecture.md.
"""
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from engine import db, jobs, messages, notifications, task_counts, timers
from engine.models import HumanTask

LISTENERS = [
    # (target, event, function)
    (Engine, "before_cursor_execute", db.note_writes),
    (Engine, "do_execute", db.plan_each_time),
    (Engine, "commit", db.transaction_ended),
    (Engine, "rollback", db.transaction_ended),
    (HumanTask, "before_insert", notifications.schedule_notices),
    (HumanTask, "before_update", notifications.schedule_notices),
    (Session, "before_flush", task_counts.note_task_changes),
    (Session, "before_commit", task_counts.apply_notes),
    (Session, "after_rollback", task_counts.discard_notes),
    (Session, "after_flush", timers.note_timer_changes),
    (Session, "after_commit", timers.schedule_wakes_after_commit),
    (Session, "after_rollback", timers.forget_wakes),
]

AFTER_COMMIT = {
    # name a lower module asks for -> the hand-off of the module that owns the work
    "deliver_messages": messages.after_commit_deliver,
}


def init_app(app) -> None:
    """Register the engine's listeners and hand-offs (once per process; later calls change nothing)."""
    for target, name, function in LISTENERS:
        if not event.contains(target, name, function):
            event.listen(target, name, function)
    for name, hand_off in AFTER_COMMIT.items():
        jobs.register_after_commit(name, hand_off)
