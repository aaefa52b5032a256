"""case documents and messages

Documents uploaded to a case (the bytes in engine.storage under a random name) and the conversations
between a party of a case (the employer, the worker) and the Welcome Center.

Revision ID: a260f216e865
Revises: 68ef091b9d49
Create Date: 2026-12-06 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

from engine.db import JSONText, UTCDateTime


# revision identifiers, used by Alembic.
revision = 'a260f216e865'
down_revision = '68ef091b9d49'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('party', sa.String(length=16), nullable=False),
        sa.Column('shared_with', JSONText(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('storage_key'),
    )
    op.create_index('ix_case_document_case', 'case_document', ['case_id', 'id'])
    op.create_table(
        'case_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('party', sa.String(length=16), nullable=False),
        sa.Column('from_center', sa.Boolean(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_name', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_message_case_party', 'case_message', ['case_id', 'party', 'id'])


def downgrade():
    op.drop_index('ix_case_message_case_party', table_name='case_message')
    op.drop_table('case_message')
    op.drop_index('ix_case_document_case', table_name='case_document')
    op.drop_table('case_document')
