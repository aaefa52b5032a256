"""oversight: a case's report facts, a process's idle days

The funder's report (engine/report.py) reads a few decided values of each case (nationality, residence
path, outcome, firm size, referrals) from `case.facts`, kept by every change of the case, never from the
workflow. The stuck-case list (engine/oversight.py) reads how many quiet days a process allows from
`process_definition.idle_days` (the process's property `idle_days`; unset: LOTSE_IDLE_DAYS). Cases stored
before have no facts until their next change or `lotse refresh-facts`.

Revision ID: 69a4912e3913
Revises: a3c51f7e2b90
Create Date: 2026-12-06 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = '69a4912e3913'
down_revision = 'a3c51f7e2b90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', engine.db.JSONText(), nullable=True))
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idle_days', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('idle_days')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('facts')
