from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import UTCDateTime, db, utcnow
from engine.models.statuses import MailStatus


class Notification(db.Model):
    """An in-app notice for one user (deadline reminders, overdue notices, escalations)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))            # NoticeKind, or 'incident', 'assigned'
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its mail waits for the recipient's daily digest (their setting for this kind is "daily").
    digest_pending: Mapped[bool] = mapped_column(Boolean, default=False)

    user = relationship("User")
    case = relationship("Case")


# The digest (engine.notifications.send_digests) reads the few notices waiting for it.
_waiting = Notification.digest_pending.is_(True)
Index("ix_notification_digest_pending", Notification.user_id, Notification.created_at,
      postgresql_where=_waiting, sqlite_where=_waiting)


class MailMessage(db.Model):
    """An outgoing e-mail: sent by a job after commit, retried with backoff, never dropped.

    status: pending (to send; `next_attempt_at` says when) | sent | failed (refused for good by
    the server) | local (no MAIL_URL: kept in the local outbox the UI shows).
    """

    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"))
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="de")
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    user = relationship("User")

