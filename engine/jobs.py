"""Background work: inline in the embedded default, on rq when REDIS_URL is set.

Jobs are enqueued only after the transaction that made them necessary has committed, so
a worker never sees state that could still roll back.
"""
import threading

from flask import current_app

_local = threading.local()


def queue():
    """The rq queue, or None in the embedded default."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    ext = current_app.extensions.setdefault("lotse_rq", {})
    if "queue" not in ext:
        from redis import Redis
        from rq import Queue
        ext["queue"] = Queue("lotse", connection=Redis.from_url(url),
                             default_timeout=current_app.config.get("JOB_TIMEOUT", 120))
    return ext["queue"]


def deliver_messages_job():
    from engine import messages
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
