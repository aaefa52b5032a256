"""external tasks and timer starts

Service tasks with camunda:type="external" wait for a worker (engine/external_tasks.py): one row per
such task while it runs, with its topic, lock and retries. Timer start events of the newest process
versions: when they next start cases (engine/timer_starts.py).

Revision ID: c1259d0fa431
Revises: a3c51f7e2b90
Create Date: 2026-12-06 16:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

from engine.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c1259d0fa431'
down_revision = 'a3c51f7e2b90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'external_task',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('center_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=255), nullable=False),
        sa.Column('element_id', sa.String(length=128), nullable=False),
        sa.Column('element_name', sa.String(length=255), nullable=True),
        sa.Column('process_key', sa.String(length=128), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('worker_id', sa.String(length=255), nullable=True),
        sa.Column('lock_expires_at', UTCDateTime(), nullable=True),
        sa.Column('retries', sa.Integer(), nullable=True),
        sa.Column('error_message', sa.Text(), nullable=True),
        sa.Column('error_details', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['center_id'], ['organisation.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('external_task', schema=None) as batch_op:
        batch_op.create_index('ix_external_task_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_external_task_fetch', ['topic', 'state', 'lock_expires_at'], unique=False)
    op.create_table(
        'timer_start',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=128), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('element_id', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('expression', sa.Text(), nullable=False),
        sa.Column('next_at', UTCDateTime(), nullable=False),
        sa.Column('remaining', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('timer_start', schema=None) as batch_op:
        batch_op.create_index('ix_timer_start_process_key', ['process_key'], unique=False)
        batch_op.create_index('ix_timer_start_next_at', ['next_at'], unique=False)


def downgrade():
    with op.batch_alter_table('timer_start', schema=None) as batch_op:
        batch_op.drop_index('ix_timer_start_next_at')
        batch_op.drop_index('ix_timer_start_process_key')
    op.drop_table('timer_start')
    with op.batch_alter_table('external_task', schema=None) as batch_op:
        batch_op.drop_index('ix_external_task_fetch')
        batch_op.drop_index('ix_external_task_case_id')
    op.drop_table('external_task')
