from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import UTCDateTime, db, utcnow


class WorkerLink(db.Model):
    """A worker's personal link to their journey (engine/worker_links.py): no account, a random token
    of which only the SHA-256 is stored. It opens the one case it was issued for (and the cases that
    case started) until it expires or is revoked; the browser session it opened ends with it."""

    __tablename__ = "worker_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    second_factor: Mapped[str] = mapped_column(String(16), default="")     # "" | birth_date | mail_code
    birth_date: Mapped[date | None] = mapped_column(Date)
    code_hash: Mapped[str | None] = mapped_column(String(64))               # the mailed code's SHA-256
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoke_reason: Mapped[str] = mapped_column(String(16), default="")      # revoked | renewed
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case = relationship("Case")
    created_by = relationship("User", foreign_keys=[created_by_id])
