"""case list indexes

The case list ("Fälle", engine/case_list.py) reads a page as the first rows of an index in the list's order:
the center's cases by status and last activity or id, by last activity alone, a responsible advisor's cases,
the cases in error (partial); and trigram indexes (pg_trgm on PostgreSQL; plain indexes on SQLite) for the search by a part of the
reference or the name.

Revision ID: a3c51f7e2b90
Revises: f15a0c2d9e31
Create Date: 2026-12-06 14:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c51f7e2b90'
down_revision = 'f15a0c2d9e31'
branch_labels = None
depends_on = None

IN_ERROR = sa.text("has_incident IS true")


def upgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index("ix_case_center_status_updated", ["center_id", "status", "updated_at", "id"])
        batch_op.create_index("ix_case_center_status_id", ["center_id", "status", "id"])
        batch_op.create_index("ix_case_center_updated", ["center_id", "updated_at", "id"])
        batch_op.create_index("ix_case_responsible_status_updated", ["responsible_id", "status", "updated_at", "id"])
        batch_op.create_index("ix_case_center_in_error", ["center_id", "updated_at", "id"],
                              postgresql_where=IN_ERROR, sqlite_where=IN_ERROR)
        for name, column in (("ix_case_reference_trgm", "reference"), ("ix_case_subject_trgm", "subject")):
            batch_op.create_index(name, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        for name in ("ix_case_subject_trgm", "ix_case_reference_trgm", "ix_case_center_in_error",
                     "ix_case_responsible_status_updated", "ix_case_center_updated", "ix_case_center_status_id",
                     "ix_case_center_status_updated"):
            batch_op.drop_index(name)
