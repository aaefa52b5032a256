"""Login throttling: at most LOGIN_TRIES_PER_ACCOUNT tries for one account name, and at most
LOGIN_TRIES_PER_ADDRESS from one client address, within LOGIN_THROTTLE_WINDOW seconds.

A try is counted before its password is checked, and a try over a limit is refused before any
hashing, so parallel tries cannot keep the web workers busy with argon2. A successful login forgets
the account's tries; the address's count keeps it. The account name is counted as typed, whether
or not such an account exists, so a refusal says nothing about which accounts exist.

The counts live in Redis when REDIS_URL is set (shared by every web process, expiring by
themselves), in the `login_attempt` table otherwise, or when Redis cannot be reached.
"""
import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from engine import clock
from engine.db import db
from engine.errors import LotseError
from engine.models import LoginAttempt
from engine.settings import setting

log = logging.getLogger(__name__)
REDIS_PREFIX = "lotse:login-tries:"


class Throttled(LotseError):
    """Too many login tries for this account name or from this address."""

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many login tries; try again in {self.retry_after} s")


@dataclass
class Attempt:
    """A counted try, to forget when it succeeds."""
    account_key: str
    address_key: str
    counted_in_database: bool = False


def _key(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:40]


def _limits() -> tuple[int, int, int]:
    return setting("LOGIN_TRIES_PER_ACCOUNT"), setting("LOGIN_TRIES_PER_ADDRESS"), setting("LOGIN_THROTTLE_WINDOW")


def _redis():
    url = setting("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("lotse_login_redis", {})
    if url not in clients:
        from redis import Redis
        clients[url] = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return clients[url]


def begin(username: str, address: str) -> Attempt:
    """Count a login try; raises `Throttled` if it is one too many (then nothing is hashed)."""
    attempt = Attempt(_key("account", username.strip().lower()), _key("address", address or "-"))
    account_limit, address_limit, window = _limits()
    limits = {attempt.account_key: account_limit, attempt.address_key: address_limit}
    redis = _redis()
    if redis is not None:
        from redis.exceptions import RedisError
        try:
            _begin_redis(redis, limits, window)
            return attempt
        except RedisError as exc:
            log.warning("login throttling falls back to the database: Redis failed (%s)", exc)
    _begin_database(attempt, limits, window)
    return attempt


def succeeded(attempt: Attempt) -> None:
    """The try was right: forget the account's tries (the address's count keeps it)."""
    redis = _redis()
    if redis is not None and not attempt.counted_in_database:
        from redis.exceptions import RedisError
        try:
            redis.delete(REDIS_PREFIX + attempt.account_key)
            return
        except RedisError as exc:
            log.warning("login throttling: Redis failed (%s)", exc)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == attempt.account_key))


def _begin_redis(redis, limits: dict[str, int], window: int) -> None:
    """One counter per key for a fixed window that starts with its first try."""
    pipe = redis.pipeline()
    for key in limits:
        pipe.set(REDIS_PREFIX + key, 0, ex=window, nx=True)        # a new window starts at 0
        pipe.incr(REDIS_PREFIX + key)
        pipe.ttl(REDIS_PREFIX + key)
    results = pipe.execute()
    waits = [ttl for (_new, count, ttl), limit in zip(zip(*[iter(results)] * 3), limits.values()) if count > limit]
    if waits:
        raise Throttled(max(waits))


def _begin_database(attempt: Attempt, limits: dict[str, int], window: int) -> None:
    """The tries within the last `window` seconds, as rows. The try is committed before it is counted,
    so tries running side by side see each other."""
    now = clock.now()
    since = now - timedelta(seconds=window)

    def over_limit(counting_own: bool):
        rows = db.session.execute(
            select(LoginAttempt.key, func.count(), func.min(LoginAttempt.at))
            .where(LoginAttempt.key.in_(limits), LoginAttempt.at > since).group_by(LoginAttempt.key)).all()
        waits = [(oldest + timedelta(seconds=window) - now).total_seconds()
                 for key, count, oldest in rows if count > limits[key] - (0 if counting_own else 1)]
        return max(waits) if waits else None

    wait = over_limit(counting_own=False)        # already at a limit: refuse without writing
    if wait is None:
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.at <= since))     # every key's old tries
        rows = [LoginAttempt(key=key, at=now) for key in limits]
        db.session.add_all(rows)
        db.session.commit()
        attempt.counted_in_database = True
        wait = over_limit(counting_own=True)
    if wait is not None:
        raise Throttled(wait)
