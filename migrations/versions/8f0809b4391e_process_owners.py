"""process owners: change notes on deployments, versioned DMN decisions, drafts

The decisions of DMN files deployed before get their versions from those files, oldest first, so
that a single BPMN file deployed later finds them.

Revision ID: 8f0809b4391e
Revises: a72b779fc0ce
Create Date: 2026-12-06 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from lxml import etree

import engine.db


# revision identifiers, used by Alembic.
revision = '8f0809b4391e'
down_revision = 'a72b779fc0ce'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
    op.create_table(
        'decision_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('source_file_id', sa.Integer(), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id']),
        sa.ForeignKeyConstraint(['source_file_id'], ['deployed_file.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', 'version', name='uq_decision_version_key_version'))
    op.create_index('ix_decision_version_key', 'decision_version', ['key'])
    _version_deployed_decisions()
    op.create_index('ix_decision_version_deployment_id', 'decision_version', ['deployment_id'])
    op.create_table(
        'process_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', engine.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', engine.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('owner_id', 'kind', 'key', 'name', name='uq_process_draft_owner_kind_key_name'))
    op.create_index('ix_process_draft_key', 'process_draft', ['key'])


def _version_deployed_decisions():
    connection = op.get_bind()
    files = connection.execute(sa.text("SELECT deployed_file.id, deployment_id, deployed_file.checksum, content, created_at FROM deployed_file "
                                       "JOIN deployment ON deployment.id = deployed_file.deployment_id "
                                       "WHERE kind = 'dmn' ORDER BY deployed_file.id")).all()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    latest = {}         # decision id -> (version, checksum)
    for file_id, deployment_id, checksum, content, created_at in files:
        try:
            doc = etree.fromstring(content.encode("utf-8"), parser=parser)
        except etree.XMLSyntaxError:
            continue            # deploy validated it; nothing to learn from a file that cannot be read now
        for element in doc.iter():
            if not isinstance(element.tag, str) or etree.QName(element).localname != "decision" or not element.get("id"):
                continue
            key = element.get("id")[:128]
            version, last = latest.get(key, (0, None))
            if last == checksum:
                continue
            latest[key] = (version + 1, checksum)
            connection.execute(sa.text(
                "INSERT INTO decision_version (key, version, name, checksum, deployment_id, source_file_id, created_at) "
                "VALUES (:key, :version, :name, :checksum, :deployment_id, :file_id, :created_at)"),
                {"key": key, "version": version + 1, "name": (element.get("name") or key)[:200], "checksum": checksum,
                 "deployment_id": deployment_id, "file_id": file_id, "created_at": created_at})


def downgrade():
    op.drop_index('ix_process_draft_key', table_name='process_draft')
    op.drop_table('process_draft')
    op.drop_index('ix_decision_version_deployment_id', table_name='decision_version')
    op.drop_index('ix_decision_version_key', table_name='decision_version')
    op.drop_table('decision_version')
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_column('note')
