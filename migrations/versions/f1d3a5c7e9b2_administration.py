"""administration: center and firm details, Kümmerer:in, audit log, password links

Organisations gain the area a center serves, a firm's Kreis, legal form, sector and headcount, an
address and contact data, and the firm's Kümmerer:in; existing rows keep their values (all new
columns are empty). New tables: audit_entry (engine/audit.py), user_token (engine/invitations.py).

Revision ID: f1d3a5c7e9b2
Revises: e1d4b7a9c2f3
Create Date: 2026-12-06 14:45:00

"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = 'f1d3a5c7e9b2'
down_revision = 'e1d4b7a9c2f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('areas', engine.db.JSONText(), nullable=True))
        batch_op.add_column(sa.Column('kreis', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('legal_form', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('sector', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('employees', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('street', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('city', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('kuemmerer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_organisation_kuemmerer_id_user', 'user', ['kuemmerer_id'], ['id'])

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', engine.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('object_kind', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('object_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('changes', engine.db.JSONText(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_audit_entry_actor_id_user')),
    sa.ForeignKeyConstraint(['center_id'], ['organisation.id'], name=op.f('fk_audit_entry_center_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    op.create_index('ix_audit_entry_center_at', 'audit_entry', ['center_id', 'at'], unique=False)

    op.create_table('user_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', engine.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', engine.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_token_token_hash'))
    )
    op.create_index(op.f('ix_user_token_user_id'), 'user_token', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_user_token_user_id'), table_name='user_token')
    op.drop_table('user_token')
    op.drop_index('ix_audit_entry_center_at', table_name='audit_entry')
    op.drop_table('audit_entry')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_constraint('fk_organisation_kuemmerer_id_user', type_='foreignkey')
        for column in ('kuemmerer_id', 'phone', 'email', 'city', 'postcode', 'street', 'employees', 'sector',
                       'legal_form', 'kreis', 'areas'):
            batch_op.drop_column(column)
