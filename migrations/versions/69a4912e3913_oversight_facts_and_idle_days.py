"""oversight: a case's report facts, a process's idle days, notification settings and the daily digest

The funder's report (engine/report.py) reads a few decided values of each case (nationality, residence
path, outcome, firm size, referrals) from `case.facts`, kept by every change of the case, never from the
workflow. The stuck-case list (engine/oversight.py) reads how many quiet days a process allows from
`process_definition.idle_days` (the process's property `idle_days`; unset: LOTSE_IDLE_DAYS). Cases stored
before have no facts until their next change or `lotse refresh-facts`. Each person chooses per kind of
notice whether its mail goes at once, in a daily digest or never (`notification_setting`); a notice whose
mail waits for the digest is marked `digest_pending`.

Revision ID: 69a4912e3913
Revises: a260f216e865
Create Date: 2026-12-06 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = '69a4912e3913'
down_revision = 'a260f216e865'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification_setting',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('delivery', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'kind'))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_pending', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_notification_digest_pending', 'notification', ['user_id', 'created_at'], unique=False,
                    postgresql_where=sa.text('digest_pending IS true'), sqlite_where=sa.text('digest_pending = 1'))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', engine.db.JSONText(), nullable=True))
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idle_days', sa.Integer(), nullable=True))


def downgrade():
    op.drop_index('ix_notification_digest_pending', table_name='notification')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('digest_pending')
    op.drop_table('notification_setting')
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('idle_days')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('facts')
