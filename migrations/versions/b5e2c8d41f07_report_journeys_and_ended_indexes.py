"""funder's report: a center's journeys of a process with every column the report counts; cases by end

engine.report.funder_report reads the center's employer and worker journeys active in a period by center,
process definition and start; the columns it counts are included, so PostgreSQL reads them index-only
instead of scanning the case table once per section. The journeys ended in the period (and the flow's cases
completed in its weeks) are read by center and end.

Revision ID: b5e2c8d41f07
Revises: 31f703a70c02
Create Date: 2026-12-06 19:50:00

"""
from alembic import op

revision = 'b5e2c8d41f07'
down_revision = '31f703a70c02'
branch_labels = None
depends_on = None

_INCLUDED = ['ended_at', 'id', 'employer_id', 'report_person_key', 'status', 'report_size', 'report_kreis',
             'report_country', 'report_path', 'report_outcome']


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_report_journeys', ['center_id', 'definition_id', 'started_at'], unique=False,
                              postgresql_include=_INCLUDED)
        batch_op.create_index('ix_case_center_ended', ['center_id', 'ended_at'], unique=False,
                              postgresql_include=['definition_id', 'started_at', 'status', 'id'])


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_center_ended')
        batch_op.drop_index('ix_case_report_journeys')
