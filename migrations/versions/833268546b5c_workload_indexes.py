"""workload indexes

Index-only reads for the supervisors' workload (engine.workload): a center's assigned open tasks by
assignee with their due dates, its completions by time with who completed them, its cases by status and
responsible person.

Revision ID: 833268546b5c
Revises: 8f0809b4391e
Create Date: 2026-12-06 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '833268546b5c'
down_revision = '8f0809b4391e'
branch_labels = None
depends_on = None

_OPEN_ASSIGNED = "state = 'open' AND assignee_id IS NOT NULL"
_COMPLETED = "state = 'completed'"


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_open_assigned_center', ['center_id', 'assignee_id', 'due_at'],
                              unique=False, postgresql_where=sa.text(_OPEN_ASSIGNED),
                              sqlite_where=sa.text(_OPEN_ASSIGNED))
        batch_op.create_index('ix_human_task_completed_center_at', ['center_id', 'completed_at'], unique=False,
                              postgresql_include=['completed_by_id'], postgresql_where=sa.text(_COMPLETED),
                              sqlite_where=sa.text(_COMPLETED))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_center_status_responsible', ['center_id', 'status', 'responsible_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_center_status_responsible')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completed_center_at')
        batch_op.drop_index('ix_human_task_open_assigned_center')
