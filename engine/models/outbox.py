from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import JSONText, UTCDateTime, db, utcnow
from engine.models.statuses import MessageStatus


class OutboxMessage(db.Model):
    """A BPMN message thrown by a case, written in the same transaction, delivered after commit."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    event: Mapped[dict] = mapped_column(JSONText)            # the serialized BpmnEvent
    correlations: Mapped[dict] = mapped_column(JSONText, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.PENDING, index=True)  # MessageStatus
    target_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
