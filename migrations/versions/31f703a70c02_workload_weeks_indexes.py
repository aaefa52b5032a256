"""workload: open and overdue over the weeks and overdue per group from index reads

engine.workload._open_over_weeks counts the center's open tasks now and those opened or closed since the
first week's end: the open tasks by creation with their due dates, the closed ones by closing with creation
and due date (both index-only on PostgreSQL); _groups the open, unassigned tasks by due date.

Revision ID: 31f703a70c02
Revises: 781fc5e5d21d
Create Date: 2026-12-06 18:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = '31f703a70c02'
down_revision = '781fc5e5d21d'
branch_labels = None
depends_on = None

_OPEN = "state = 'open'"
_CLOSED = "completed_at IS NOT NULL"
_OPEN_UNASSIGNED = "state = 'open' AND assignee_id IS NULL"


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_open_center_created_due', ['center_id', 'created_at'], unique=False,
                              postgresql_include=['due_at'], postgresql_where=sa.text(_OPEN),
                              sqlite_where=sa.text(_OPEN))
        batch_op.create_index('ix_human_task_closed_center_at', ['center_id', 'completed_at'], unique=False,
                              postgresql_include=['created_at', 'due_at'], postgresql_where=sa.text(_CLOSED),
                              sqlite_where=sa.text(_CLOSED))
        batch_op.create_index('ix_human_task_open_unassigned_center_due', ['center_id', 'due_at'], unique=False,
                              postgresql_include=['candidate_groups'],
                              postgresql_where=sa.text(_OPEN_UNASSIGNED), sqlite_where=sa.text(_OPEN_UNASSIGNED))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_open_unassigned_center_due')
        batch_op.drop_index('ix_human_task_closed_center_at')
        batch_op.drop_index('ix_human_task_open_center_created_due')
