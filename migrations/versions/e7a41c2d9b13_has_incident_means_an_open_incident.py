"""case.has_incident means an unresolved incident

It used to mean "a task in ERROR", so a failure that left no task in ERROR (a timer that could not
be computed, an engine error) was recorded as an incident while the case looked fine. The engine
now keeps the flag with the incidents; this sets it for the cases stored before.

Revision ID: e7a41c2d9b13
Revises: e7a41c09d2f3
Create Date: 2026-12-06 13:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e7a41c2d9b13'
down_revision = 'e7a41c09d2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.execute('UPDATE "case" SET has_incident = EXISTS (SELECT 1 FROM incident '
               'WHERE incident.case_id = "case".id AND incident.resolved_at IS NULL)')


def downgrade():
    pass        # the old meaning is a subset: the flag stays true where an incident is open
