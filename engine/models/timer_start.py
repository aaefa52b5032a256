from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import UTCDateTime, db


class TimerStart(db.Model):
    """A timer start event of the newest version of a process: when it next starts cases (engine.timer_starts)."""

    __tablename__ = "timer_start"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(128), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))               # date | duration | cycle | cron
    expression: Mapped[str] = mapped_column(Text)               # the timer's value, evaluated at deploy
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    remaining: Mapped[int] = mapped_column(Integer)             # starts still to come; -1: without end
