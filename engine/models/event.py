from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow


# Whose hands a task changes by (engine.cases): a claim (to its actor; also logged for a task completed straight
# from its groups), a release (to nobody), an assignment.
HOLDER_EVENTS = ("task_claimed", "task_unclaimed", "task_assigned")
_KINDS = "kind IN ({})".format(", ".join(f"'{kind}'" for kind in HOLDER_EVENTS))
# Written out, not bound, so that PostgreSQL reads the partial index below for it.
HOLDER_CHANGE = text(f"case_event.{_KINDS}")


class CaseEvent(db.Model):
    """The append-only log of a case: who did what to which element, when, with what change."""

    __tablename__ = "case_event"
    __table_args__ = (
        Index("ix_case_event_case_at", "case_id", "id"),
        # the workload's changes of hands (engine.workload.HOLDER_EVENTS) since a week's end
        Index("ix_case_event_holder_at", "at", postgresql_where=text(_KINDS), sqlite_where=text(_KINDS)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(128))
    element_name: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict] = mapped_column(JSONText, default=dict)

    actor = relationship("User")
