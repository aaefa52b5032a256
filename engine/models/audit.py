from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    """One administrative change (engine/audit.py): who, when, what, old and new values. Append-only."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_center_at", "center_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The center whose admins and supervisors may read the entry (None: a change of no center's).
    center_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    object_kind: Mapped[str] = mapped_column(String(16))       # center | firm | user
    object_id: Mapped[int | None] = mapped_column()
    object_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    changes: Mapped[dict] = mapped_column(JSONText, default=dict)  # field -> {"old": …, "new": …}

    actor = relationship("User")


class UserToken(db.Model):
    """A single-use link that lets a person set their password: an invitation or a reset
    (engine/invitations.py). Only the token's SHA-256 is stored."""

    __tablename__ = "user_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))            # invitation | reset
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")
