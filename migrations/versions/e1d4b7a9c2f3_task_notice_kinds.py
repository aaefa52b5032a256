"""task notice kinds

Which deadline notices (reminder, overdue, escalation) Lotse sends for a task; NULL, as for every
existing task, means all three. A diagram that models a reminder, an overdue follow-up or an
escalation of a task itself lists the others in the task's property `notices`.

Revision ID: e1d4b7a9c2f3
Revises: e7a41c2d9b13
Create Date: 2026-12-06 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = 'e1d4b7a9c2f3'
down_revision = 'e7a41c2d9b13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_kinds', engine.db.JSONText(), nullable=True))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('notice_kinds')
