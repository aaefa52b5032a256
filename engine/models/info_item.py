from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import UTCDateTime, db, utcnow


class InfoItem(db.Model):
    """An entry of the information library (engine/info_library.py): a page of an office or portal on one
    topic, in one language, with the date a process owner last checked it. Diagram elements name their
    topics (`info:<topic>` properties); the worker's page shows the items next to the step."""

    __tablename__ = "info_item"
    __table_args__ = (Index("ix_info_item_topic_language", "topic", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reviewed_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    updated_by = relationship("User")
