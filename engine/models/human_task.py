from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import coercions, operators, roles
from sqlalchemy.sql.elements import UnaryExpression

from engine.db import JSONText, UTCDateTime, db, utcnow
from engine.models.statuses import TaskStatus


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
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))     # indexes: see below
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
    # active_history: a change knows the value it replaces, so engine.task_counts can tell whether the task
    # left or entered the group tab's count even when the attribute was set without being read first.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), active_history=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    form_key: Mapped[str | None] = mapped_column(String(128))
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_version.id"))
    state: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN, active_history=True)  # TaskStatus
    draft: Mapped[dict | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Which deadline notices Lotse sends for this task (None: all three); the diagram sends the others itself
    # (user-task property `notices`), so a task never gets a reminder both from a helper task and from here.
    notice_kinds: Mapped[list | None] = mapped_column(JSONText)
    # Deadline notices already sent ('reminder', 'overdue', 'escalation'): each goes out once.
    notices_sent: Mapped[list] = mapped_column(JSONText, default=list)
    # When the next of those notices is due (None: none left, or the task is closed): the sweeper's index.
    next_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    assignee = relationship("User", foreign_keys=[assignee_id])
    completed_by = relationship("User", foreign_keys=[completed_by_id])
    case = relationship("Case")

    @property
    def is_open(self) -> bool:
        return self.state == TaskStatus.OPEN

    @property
    def group_index_names(self) -> list[str]:
        """Its rows in the group index while open: its candidate groups, and `user:<name>` per candidate user."""
        return (list(dict.fromkeys(self.candidate_groups))
                + [f"user:{name}" for name in dict.fromkeys(self.candidate_users)])


class HumanTaskGroup(db.Model):
    """Candidate group index of open tasks: the 'group tasks' inbox is one indexed join."""

    __tablename__ = "human_task_group"
    __table_args__ = (Index("ix_human_task_group_group_center", "group_name", "center_id", "task_id"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(80), primary_key=True)     # a group, or user:<username>
    center_id: Mapped[int] = mapped_column(Integer)


class GroupTaskCount(db.Model):
    """The "Group tasks" tab's count, kept up to date (engine.task_counts): how many open, unassigned tasks
    without a follow-up date a center has for each set of candidates (a task's names in the group index).

    A row per member of a set, each holding the set's count, so that a user's count is the sum over the
    distinct sets that hold one of their groups: a task in two of them is counted once.
    """

    __tablename__ = "group_task_count"

    center_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidates: Mapped[str] = mapped_column(Text, primary_key=True)       # the set's names, sorted, one per line
    group_name: Mapped[str] = mapped_column(String(80), primary_key=True)  # one of them
    tasks: Mapped[int] = mapped_column(Integer, default=0)


class _DescNullsLast(UnaryExpression):
    """`column DESC NULLS LAST` in an index. PostgreSQL needs the NULLS LAST (its DESC puts NULLs first);
    SQLite cannot say it in an index, and its DESC puts NULLs last anyway."""
    inherit_cache = True

    def __init__(self, column):
        super().__init__(coercions.expect(roles.ByOfRole, column), modifier=operators.desc_op,
                         wraps_column_expression=False)


@compiles(_DescNullsLast, "postgresql")
def _desc_nulls_last_postgresql(element, compiler, **kw):
    return compiler.visit_unary(element, **kw) + " NULLS LAST"


# The inbox (engine.inbox) reads open tasks of one organisation a page at a time, in the order of one of
# these partial indexes over open tasks (forwards or backwards), so it never sorts the whole center:
# - due date (`due`); priority, then due (`priority`, and backwards `-priority`); creation time (`created`,
#   and backwards `-created`);
# - due date descending (`-due`) keeps tasks without due date last, so it is not `due` read backwards
#   (that would put them first) and has its own index;
# - an employer user's tabs: the open tasks of their firm (`employer_id`), in due order. Tasks without an
#   employer are left out: only employer users read by firm. (All reads by `employer_id` are of open
#   tasks, so these partial indexes replace a plain index on it, which every task completion had to update;
#   organisations are never deleted, so the foreign key needs none.)
# (ASC indexes keep NULLs last on PostgreSQL, matching ORDER BY due_at NULLS LAST; SQLite cannot say it.)
_open = HumanTask.state == TaskStatus.OPEN
_open_with_employer = (HumanTask.state == TaskStatus.OPEN) & HumanTask.employer_id.is_not(None)
Index("ix_human_task_open_center_due", HumanTask.center_id, HumanTask.due_at, HumanTask.id,
      postgresql_where=_open, sqlite_where=_open)
Index("ix_human_task_open_center_due_desc", HumanTask.center_id, _DescNullsLast(HumanTask.due_at), HumanTask.id,
      postgresql_where=_open, sqlite_where=_open)
Index("ix_human_task_open_center_priority", HumanTask.center_id, HumanTask.priority.desc(), HumanTask.due_at,
      HumanTask.id,
      postgresql_where=_open, sqlite_where=_open)
Index("ix_human_task_open_center_created", HumanTask.center_id, HumanTask.created_at, HumanTask.id,
      postgresql_where=_open, sqlite_where=_open)
Index("ix_human_task_open_employer_due", HumanTask.employer_id, HumanTask.due_at, HumanTask.id,
      postgresql_where=_open_with_employer, sqlite_where=_open_with_employer)

# The inbox's tab counts (engine.inbox._count_columns) are index-only scans. "Group tasks": the open, unassigned
# tasks of a center in id order (with their follow-up date) merged with the center's group rows in the same
# order, so a count capped at 1,000 reads about 1,000 entries of each, whatever the size of the center;
# for an employer user the same with the open, unassigned tasks of their firm in (center, id) order,
# merged with the 'employer' group rows (`ix_human_task_group_group_center`: group, center, task id).
# "My tasks": the user's open tasks. (Index-only needs a vacuumed table: autovacuum in production.)
_open_unassigned = (HumanTask.state == TaskStatus.OPEN) & HumanTask.assignee_id.is_(None)
_open_assigned = (HumanTask.state == TaskStatus.OPEN) & HumanTask.assignee_id.is_not(None)
_open_unassigned_with_employer = _open_unassigned & HumanTask.employer_id.is_not(None)
Index("ix_human_task_open_unassigned", HumanTask.center_id, HumanTask.id, HumanTask.follow_up_at,
      postgresql_where=_open_unassigned, sqlite_where=_open_unassigned)
Index("ix_human_task_open_employer_unassigned", HumanTask.employer_id, HumanTask.center_id, HumanTask.id,
      HumanTask.follow_up_at,
      postgresql_where=_open_unassigned_with_employer, sqlite_where=_open_unassigned_with_employer)
Index("ix_human_task_open_assignee", HumanTask.assignee_id, HumanTask.center_id, HumanTask.follow_up_at,
      postgresql_where=_open_assigned, sqlite_where=_open_assigned)
Index("ix_human_task_group_center_task", HumanTaskGroup.center_id, HumanTaskGroup.task_id, HumanTaskGroup.group_name)
# The group tab's count reads its kept counts (GroupTaskCount) for tasks without follow-up date, and counts the
# few with one as it goes: the open, unassigned tasks of a center that have a follow-up date, in its order
# (with the id, to find their group rows without reading the table). The supervisors' workload counts the same
# tasks per candidate list, index-only with the list included.
_open_unassigned_follow_up = _open_unassigned & HumanTask.follow_up_at.is_not(None)
Index("ix_human_task_open_unassigned_follow_up", HumanTask.center_id, HumanTask.follow_up_at, HumanTask.id,
      postgresql_include=["candidate_groups"], postgresql_where=_open_unassigned_follow_up,
      sqlite_where=_open_unassigned_follow_up)

# The supervisors' workload (engine.workload) counts per person in the database, index-only: the center's
# assigned open tasks by assignee with their due dates (open and overdue), and its completions by time with
# who completed them and their candidate groups (completed per week, per person and group).
_completed = HumanTask.state == TaskStatus.COMPLETED
Index("ix_human_task_open_assigned_center", HumanTask.center_id, HumanTask.assignee_id, HumanTask.due_at,
      postgresql_where=_open_assigned, sqlite_where=_open_assigned)
Index("ix_human_task_completed_center_at", HumanTask.center_id, HumanTask.completed_at,
      postgresql_include=["completed_by_id", "candidate_groups"], postgresql_where=_completed, sqlite_where=_completed)
# The flow's step durations: a process's completed tasks of the center by step, then completion, index-only and
# in the order the medians are grouped (by step), so they are not sorted by step first.
Index("ix_human_task_completed_process_step", HumanTask.center_id, HumanTask.process_key, HumanTask.element_id,
      HumanTask.completed_at, postgresql_include=["created_at", "title"], postgresql_where=_completed,
      sqlite_where=_completed)
# Its open and overdue over the weeks, per assignee and candidate list: the center's open tasks by creation with
# their due dates, and its closed tasks (completed or cancelled) by closing with creation and due date, both
# index-only.
Index("ix_human_task_open_center_created_due", HumanTask.center_id, HumanTask.created_at,
      postgresql_include=["due_at", "assignee_id", "candidate_groups"], postgresql_where=_open, sqlite_where=_open)
_closed = HumanTask.completed_at.is_not(None)
Index("ix_human_task_closed_center_at", HumanTask.center_id, HumanTask.completed_at,
      postgresql_include=["created_at", "due_at", "assignee_id", "candidate_groups"], postgresql_where=_closed, sqlite_where=_closed)
# Its overdue per group: the center's open, unassigned tasks by due date with their candidate groups.
Index("ix_human_task_open_unassigned_center_due", HumanTask.center_id, HumanTask.due_at,
      postgresql_include=["candidate_groups"], postgresql_where=_open_unassigned, sqlite_where=_open_unassigned)
# Its open and overdue per group: the center's open, unassigned tasks with their due dates, index-only.
Index("ix_human_task_open_unassigned_due", HumanTask.center_id, HumanTask.id, postgresql_include=["due_at"],
      postgresql_where=_open_unassigned, sqlite_where=_open_unassigned)

# The inbox's search (a substring of the case reference or the subject, engine.inbox filter `q`) reads
# trigram indexes on PostgreSQL (pg_trgm's GIN operator class), so a rare name or a reference costs its few
# matches rather than a read of every open task of the center; a common name is still found faster by
# reading the page's own index in order, which PostgreSQL chooses because each search is planned with its
# pattern (engine.db `plan_each_time`). SQLite has no trigram index: there they are plain partial indexes
# that its search doesn't use (an embedded center is small).
_trigrams = "gin_trgm_ops"
Index("ix_human_task_open_reference_trgm", HumanTask.case_reference, postgresql_using="gin",
      postgresql_ops={"case_reference": _trigrams}, postgresql_where=_open, sqlite_where=_open)
Index("ix_human_task_open_subject_trgm", HumanTask.case_subject, postgresql_using="gin",
      postgresql_ops={"case_subject": _trigrams}, postgresql_where=_open, sqlite_where=_open)
event.listen(HumanTask.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
