from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import UTCDateTime, db
from engine.models.statuses import TaskStatus


class ExternalTask(db.Model):
    """A service task with camunda:type="external" that a case waits on until a worker completes it.

    Written by `engine.state.sync` when the task starts and when it ends (state "completed" or
    "cancelled"); locked, failed and extended by `engine.external_tasks`. The id is SpiffWorkflow's
    task id, as for human tasks.
    """

    __tablename__ = "external_task"
    __table_args__ = (Index("ix_external_task_fetch", "topic", "state", "lock_expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    topic: Mapped[str] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(128))
    element_name: Mapped[str | None] = mapped_column(String(255))
    process_key: Mapped[str] = mapped_column(String(128))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    worker_id: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retries: Mapped[int | None] = mapped_column(Integer)                # None: no failure reported yet
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
