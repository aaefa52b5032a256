from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow


class ApiToken(db.Model):
    """A credential of the JSON API (engine/api_tokens.py), sent as `Authorization: Bearer`. Only the
    secret's SHA-256 is stored; `prefix` (its first characters) lets people tell their tokens apart.

    kind "personal": a person's own token, acting as that person (`user_id`).
    kind "service": a service account of a center (`center_id`) for external-task workers, limited to
    the topics in `topics`; it acts as no person and sees no case or task.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))                       # personal | service
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    topics: Mapped[list] = mapped_column(JSONText, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)    # None: until revoked (service accounts)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
    center = relationship("Organisation", foreign_keys=[center_id])
