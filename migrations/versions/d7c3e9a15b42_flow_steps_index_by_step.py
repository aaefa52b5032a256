"""flow: a process's completed tasks indexed by step, then completion

engine.flow's step durations group a process's completed tasks by step (element) for their median and 90th
percentile; with the tasks read by completion PostgreSQL sorted all of them by step first (on disk at the default
work_mem). The index now holds them in that order; it replaces ix_human_task_completed_process_at.

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


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completed_process_at')
        batch_op.create_index('ix_human_task_completed_process_step',
                              ['center_id', 'process_key', 'element_id', 'completed_at'], unique=False,
                              postgresql_include=['created_at', 'title'], postgresql_where=sa.text(_COMPLETED),
                              sqlite_where=sa.text(_COMPLETED))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completed_process_step')
        batch_op.create_index('ix_human_task_completed_process_at', ['center_id', 'process_key', 'completed_at'],
                              unique=False, postgresql_include=['element_id', 'created_at', 'title'],
                              postgresql_where=sa.text(_COMPLETED), sqlite_where=sa.text(_COMPLETED))
