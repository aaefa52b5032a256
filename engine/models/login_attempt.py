from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import UTCDateTime, db, utcnow


class LoginAttempt(db.Model):
    """A login try, counted against its account name and its client address (engine/login_throttle.py;
    used when there is no Redis). `key` is a hash: what someone typed as a user name is not kept."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)     # to drop old tries
