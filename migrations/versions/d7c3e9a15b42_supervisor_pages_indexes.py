"""supervisors' pages: a process's completed tasks indexed by step; follow-up tasks with their candidates

engine.flow's step durations group a process's completed tasks by step (element) for their median and 90th
percentile; with the tasks read by completion PostgreSQL sorted all of them by step first (on disk at the default
work_mem). ix_human_task_completed_process_step holds them in that order; it replaces
ix_human_task_completed_process_at. engine.workload counts the open, unassigned tasks with a follow-up date per
candidate list: ix_human_task_open_unassigned_follow_up now includes the list, so they are read index-only.

Revision ID: d7c3e9a15b42
Revises: b5e2c8d41f07
Create Date: 2026-12-06 20:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd7c3e9a15b42'
down_revision = 'b5e2c8d41f07'
branch_labels = None
depends_on = None

_COMPLETED = "state = 'completed'"
_FOLLOW_UP = "state = 'open' AND assignee_id IS NULL AND follow_up_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completed_process_at')
        batch_op.create_index('ix_human_task_completed_process_step',
                              ['center_id', 'process_key', 'element_id', 'completed_at'], unique=False,
                              postgresql_include=['created_at', 'title'], postgresql_where=sa.text(_COMPLETED),
                              sqlite_where=sa.text(_COMPLETED))
        batch_op.drop_index('ix_human_task_open_unassigned_follow_up')
        batch_op.create_index('ix_human_task_open_unassigned_follow_up', ['center_id', 'follow_up_at', 'id'],
                              unique=False, postgresql_include=['candidate_groups'],
                              postgresql_where=sa.text(_FOLLOW_UP), sqlite_where=sa.text(_FOLLOW_UP))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_open_unassigned_follow_up')
        batch_op.create_index('ix_human_task_open_unassigned_follow_up', ['center_id', 'follow_up_at', 'id'],
                              unique=False, postgresql_where=sa.text(_FOLLOW_UP), sqlite_where=sa.text(_FOLLOW_UP))
        batch_op.drop_index('ix_human_task_completed_process_step')
        batch_op.create_index('ix_human_task_completed_process_at', ['center_id', 'process_key', 'completed_at'],
                              unique=False, postgresql_include=['element_id', 'created_at', 'title'],
                              postgresql_where=sa.text(_COMPLETED), sqlite_where=sa.text(_COMPLETED))
