"""worker links: a worker's personal link to their journey, stored as the token's SHA-256

Revision ID: 68ef091b9d49
Revises: a3c51f7e2b90
Create Date: 2026-12-06 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = '68ef091b9d49'
down_revision = 'a3c51f7e2b90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worker_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('second_factor', sa.String(length=16), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('code_expires_at', engine.db.UTCDateTime(), nullable=True),
        sa.Column('created_at', engine.db.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('expires_at', engine.db.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', engine.db.UTCDateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('revoke_reason', sa.String(length=16), nullable=False),
        sa.Column('last_opened_at', engine.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('worker_link', schema=None) as batch_op:
        batch_op.create_index('ix_worker_link_case_id', ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('worker_link', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_link_case_id')
    op.drop_table('worker_link')
