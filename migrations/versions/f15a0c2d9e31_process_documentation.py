"""process documentation

"Neuer Fall" shows what each offered process is for: the process's bpmn:documentation, stored
with its version at deploy time. Versions deployed before have none until the next deployment.

Revision ID: f15a0c2d9e31
Revises: f1d3a5c7e9b2
Create Date: 2026-12-06 14:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f15a0c2d9e31'
down_revision = 'f1d3a5c7e9b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('documentation', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('process_definition', schema=None) as batch_op:
        batch_op.drop_column('documentation')
