from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import db


class Organisation(db.Model):
    """A Welcome Center (kind 'center') or a firm it serves (kind 'employer')."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))             # 'center' | 'employer'
    name: Mapped[str] = mapped_column(String(200))
    # Short code of a center, used in case references (WC-AC-2026-00042).
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    # The center that serves an employer.
    center_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    region: Mapped[str | None] = mapped_column(String(100))

    center = relationship("Organisation", remote_side=[id])

    def __repr__(self):
        return f"<Organisation {self.kind} {self.name!r}>"
