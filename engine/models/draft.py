from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import UTCDateTime, db, utcnow


class ProcessDraft(db.Model):
    """A process owner's named, unfinished edit of one file (BPMN, DMN or form), kept until deployed or deleted.

    Drafts are never read by the engine when it runs cases: only a deploy turns one into a version."""

    __tablename__ = "process_draft"
    __table_args__ = (UniqueConstraint("owner_id", "kind", "key", "name", name="uq_process_draft_owner_kind_key_name"),
                      Index("ix_process_draft_key", "key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(128))          # process id, decision id or form id it edits
    kind: Mapped[str] = mapped_column(String(8))           # 'bpmn' | 'dmn' | 'form'
    name: Mapped[str] = mapped_column(String(120))         # the owner's name for the draft
    file_name: Mapped[str] = mapped_column(String(255))    # the file it deploys as
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner = relationship("User")
