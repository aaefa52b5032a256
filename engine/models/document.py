from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow


class CaseDocument(db.Model):
    """A file uploaded to a case. The bytes live in `engine.storage` under `storage_key` (a random name).

    `key` names the checklist item it answers (a `document:<key>` property of the diagram), if any;
    `party` says who uploaded it (center, employer, worker); `shared_with` which parties besides the
    Welcome Center may see it (engine.access.document_filter).
    """

    __tablename__ = "case_document"
    __table_args__ = (Index("ix_case_document_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    key: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    party: Mapped[str] = mapped_column(String(16))
    shared_with: Mapped[list] = mapped_column(JSONText, default=list)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("User")
    case = relationship("Case")
