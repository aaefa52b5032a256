"""info library: pages of offices and portals per topic and language, with their date of last review

Revision ID: dc9809e713d6
Revises: 833268546b5c
Create Date: 2026-12-06 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import engine.db


# revision identifiers, used by Alembic.
revision = 'dc9809e713d6'
down_revision = '833268546b5c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'info_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('reviewed_on', sa.Date(), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_info_item_topic_language', 'info_item', ['topic', 'language'], unique=False)


def downgrade():
    op.drop_index('ix_info_item_topic_language', table_name='info_item')
    op.drop_table('info_item')
