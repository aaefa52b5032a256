"""timer start rounds: the starts a claimed round owes, so a crash between claim and start loses nothing

One row per center a claimed round of a timer start event owes a case (engine.timer_starts), written in
the claim's transaction and marked done in the transaction that starts the case; the sweep re-drives
rows left pending.

Revision ID: 781fc5e5d21d
Revises: fa33807e09be
Create Date: 2026-12-06 18:15:00

"""
from alembic import op
import sqlalchemy as sa

from engine.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = '781fc5e5d21d'
down_revision = 'fa33807e09be'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'timer_start_round',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('element_id', sa.String(length=128), nullable=False),
        sa.Column('fired_at', UTCDateTime(), nullable=False),
        sa.Column('center_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['center_id'], ['organisation.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('definition_id', 'element_id', 'fired_at', 'center_id', name='uq_timer_start_round'))
    with op.batch_alter_table('timer_start_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_start_round_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_start_round_done'), ['done'], unique=False)


def downgrade():
    with op.batch_alter_table('timer_start_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_start_round_done'))
        batch_op.drop_index(batch_op.f('ix_timer_start_round_case_id'))
    op.drop_table('timer_start_round')
