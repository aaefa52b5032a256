"""api tokens

Personal API tokens and service accounts of the JSON API (engine/api_tokens.py): only the secret's
SHA-256 is stored.

Revision ID: a72b779fc0ce
Revises: c1259d0fa431
Create Date: 2026-12-06 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

from engine.db import JSONText, UTCDateTime

# revision identifiers, used by Alembic.
revision = 'a72b779fc0ce'
down_revision = 'c1259d0fa431'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('center_id', sa.Integer(), nullable=True),
        sa.Column('topics', JSONText(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=True),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['center_id'], ['organisation.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('api_token') as batch_op:
        batch_op.create_index('ix_api_token_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_api_token_center_id', ['center_id'], unique=False)


def downgrade():
    op.drop_table('api_token')
