"""open task search trigram indexes

Trigram indexes (PostgreSQL's pg_trgm, GIN) over the case reference and the subject of open tasks, for
the inbox's search by a part of either: a rare name or a reference is found through its few matches
instead of a read of every open task of the center. The extension ships with PostgreSQL; creating it
needs the CREATE privilege on the database (it is a trusted extension). SQLite gets plain partial
indexes of the same names, as the models declare them (see engine/models/human_task.py).

Revision ID: 5d2c8e41f0a7
Revises: 74e62aec9373
Create Date: 2026-11-27 08:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2c8e41f0a7'
down_revision = '74e62aec9373'
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")


def upgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        for name, column in (("ix_human_task_open_reference_trgm", "case_reference"),
                             ("ix_human_task_open_subject_trgm", "case_subject")):
            batch_op.create_index(name, [column], unique=False, postgresql_using="gin",
                                  postgresql_ops={column: "gin_trgm_ops"}, postgresql_where=OPEN,
                                  sqlite_where=OPEN)


def downgrade():
    # The extension stays: other objects of the database may use it.
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_open_subject_trgm")
        batch_op.drop_index("ix_human_task_open_reference_trgm")
