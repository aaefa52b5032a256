from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import UTCDateTime, db


class TimerStartRound(db.Model):
    """One case a claimed round of a timer start event owes a Welcome Center (engine.timer_starts): written
    with the claim, done (`case_id`) in the transaction that starts the case, so a crash loses no round."""

    __tablename__ = "timer_start_round"
    __table_args__ = (UniqueConstraint("definition_id", "element_id", "fired_at", "center_id",
                                       name="uq_timer_start_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(128))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)     # the round: the due time it was claimed for
    center_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    done: Mapped[bool] = mapped_column(default=False, index=True)   # the case started (case_id: which)
