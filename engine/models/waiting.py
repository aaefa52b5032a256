from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import JSONText, UTCDateTime, db


class WaitingTimer(db.Model):
    """A timer event a case waits on, with its due time: the sweeper's and the deadline view's index."""

    __tablename__ = "waiting_timer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))              # date | duration | cycle
    actor: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class MessageSubscription(db.Model):
    """A message a case waits for, with the correlation values it already holds."""

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(128), index=True)
    element_id: Mapped[str] = mapped_column(String(128))
    correlations: Mapped[dict] = mapped_column(JSONText, default=dict)
