"""workload over the weeks per holder and group: the indexes its counts read also hold the assignee and the
candidate groups; the case log's changes of hands (claims, releases, assignments) indexed by time

engine.workload counts the open tasks opened, and the tasks closed, after the first week shown per assignee and
candidate list, and the completions per candidate list: ix_human_task_open_center_created_due,
ix_human_task_closed_center_at and ix_human_task_completed_center_at now include them, so these stay index-only.
Who held a task at a week's end comes from the log's changes of hands since then: ix_case_event_holder_at
holds only those.

Revision ID: e8a4f2b6c913
Revises: d7c3e9a15b42
Create Date: 2026-12-06 21:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e8a4f2b6c913'
down_revision = 'd7c3e9a15b42'
branch_labels = None
depends_on = None

_OPEN = "state = 'open'"
_CLOSED = "completed_at IS NOT NULL"
_COMPLETED = "state = 'completed'"
_HOLDER = "kind IN ('task_claimed', 'task_unclaimed', 'task_assigned')"


def _task_indexes(holders: bool):
    extra = ['assignee_id', 'candidate_groups'] if holders else []
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        for name in ('ix_human_task_open_center_created_due', 'ix_human_task_closed_center_at',
                     'ix_human_task_completed_center_at'):
            batch_op.drop_index(name)
        batch_op.create_index('ix_human_task_open_center_created_due', ['center_id', 'created_at'], unique=False,
                              postgresql_include=['due_at'] + extra, postgresql_where=sa.text(_OPEN),
                              sqlite_where=sa.text(_OPEN))
        batch_op.create_index('ix_human_task_closed_center_at', ['center_id', 'completed_at'], unique=False,
                              postgresql_include=['created_at', 'due_at'] + extra, postgresql_where=sa.text(_CLOSED),
                              sqlite_where=sa.text(_CLOSED))
        batch_op.create_index('ix_human_task_completed_center_at', ['center_id', 'completed_at'], unique=False,
                              postgresql_include=['completed_by_id'] + extra[1:], postgresql_where=sa.text(_COMPLETED),
                              sqlite_where=sa.text(_COMPLETED))


def upgrade():
    _task_indexes(holders=True)
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_holder_at', ['at'], unique=False, postgresql_where=sa.text(_HOLDER),
                              sqlite_where=sa.text(_HOLDER))


def downgrade():
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_holder_at')
    _task_indexes(holders=False)
