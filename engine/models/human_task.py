from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import JSONText, UTCDateTime, db, utcnow


class HumanTask(db.Model):
    """A user task of a case: open ones form the inbox, closed ones the history.

    Case reference, subject, process and center are copied in so the inbox reads this
    table (and its group index) only.
    """

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_assignee_open", "assignee_id", "state", "due_at"),
        Index("ix_human_task_case_state", "case_id", "state"),
        Index("ix_human_task_center_state_due", "center_id", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)     # SpiffWorkflow task id
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    center_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    case_reference: Mapped[str] = mapped_column(String(32))
    case_subject: Mapped[str] = mapped_column(String(200), default="")
    process_key: Mapped[str] = mapped_column(String(128))
    process_name: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(255))
    documentation: Mapped[str | None] = mapped_column(Text)
    lane: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str | None] = mapped_column(String(32))              # center | employer | worker | authority
    candidate_groups: Mapped[list] = mapped_column(JSONText, default=list)
    candidate_users: Mapped[list] = mapped_column(JSONText, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    form_key: Mapped[str | None] = mapped_column(String(128))
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_version.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")     # open | completed | cancelled
    draft: Mapped[dict | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Deadline notices already sent ('reminder', 'overdue', 'escalation'): each goes out once.
    notices_sent: Mapped[list] = mapped_column(JSONText, default=list)
    # When the next of those notices is due (None: none left, or the task is closed): the sweeper's index.
    next_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    assignee = relationship("User", foreign_keys=[assignee_id])
    completed_by = relationship("User", foreign_keys=[completed_by_id])
    case = relationship("Case")
    # Set when the task opens, so the unit of work inserts the task before its group rows.
    groups = relationship("HumanTaskGroup", cascade="save-update", passive_deletes=True, lazy="noload")

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class HumanTaskGroup(db.Model):
    """Candidate group index of open tasks: the 'group tasks' inbox is one indexed join."""

    __tablename__ = "human_task_group"
    __table_args__ = (Index("ix_human_task_group_group_center", "group_name", "center_id", "task_id"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(80), primary_key=True)     # a group, or user:<username>
    center_id: Mapped[int] = mapped_column(Integer)


# The inbox (engine.inbox) reads open tasks of one organisation in due or priority order, a page at
# a time: partial indexes over open tasks serve both orders without sorting the whole center.
# (ASC indexes keep NULLs last on PostgreSQL, matching ORDER BY due_at NULLS LAST; SQLite cannot say it.)
Index("ix_human_task_open_center_due", HumanTask.center_id, HumanTask.due_at, HumanTask.id,
      postgresql_where=HumanTask.state == "open", sqlite_where=HumanTask.state == "open")
Index("ix_human_task_open_center_priority", HumanTask.center_id, HumanTask.priority.desc(), HumanTask.due_at,
      HumanTask.id,
      postgresql_where=HumanTask.state == "open", sqlite_where=HumanTask.state == "open")

# The inbox's tab counts (engine.inbox.counts) are index-only scans. "Group tasks": the open, unassigned
# tasks of a center in id order (with their follow-up date) merged with the center's group rows in the same
# order, so a count capped at 1,000 reads about 1,000 entries of each, whatever the size of the center.
# "My tasks": the user's open tasks. (Index-only needs a vacuumed table: autovacuum in production.)
_open_unassigned = (HumanTask.state == "open") & HumanTask.assignee_id.is_(None)
_open_assigned = (HumanTask.state == "open") & HumanTask.assignee_id.is_not(None)
Index("ix_human_task_open_unassigned", HumanTask.center_id, HumanTask.id, HumanTask.follow_up_at,
      postgresql_where=_open_unassigned, sqlite_where=_open_unassigned)
Index("ix_human_task_open_assignee", HumanTask.assignee_id, HumanTask.center_id, HumanTask.follow_up_at,
      postgresql_where=_open_assigned, sqlite_where=_open_assigned)
Index("ix_human_task_group_center_task", HumanTaskGroup.center_id, HumanTaskGroup.task_id, HumanTaskGroup.group_name)
