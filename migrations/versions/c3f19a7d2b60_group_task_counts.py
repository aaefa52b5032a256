"""group task counts

The "Group tasks" tab's count, kept up to date (engine.task_counts) instead of counted on every
inbox page: per center and set of candidates, how many open, unassigned tasks without a follow-up
date there are. Filled here from the task tables. The open, unassigned tasks that have a follow-up
date are still counted on the page, through their own index.

Revision ID: c3f19a7d2b60
Revises: 5d2c8e41f0a7
Create Date: 2026-11-27 13:00:00.000000

"""
from collections import Counter

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f19a7d2b60'
down_revision = '5d2c8e41f0a7'
branch_labels = None
depends_on = None

FOLLOW_UP = sa.text("state = 'open' AND assignee_id IS NULL AND follow_up_at IS NOT NULL")


def upgrade():
    counts = op.create_table(
        'group_task_count',
        sa.Column('center_id', sa.Integer(), nullable=False),
        sa.Column('candidates', sa.Text(), nullable=False),
        sa.Column('group_name', sa.String(length=80), nullable=False),
        sa.Column('tasks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('center_id', 'candidates', 'group_name', name=op.f('pk_group_task_count')))
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_open_unassigned_follow_up', ['center_id', 'follow_up_at', 'id'],
                              unique=False,
                              postgresql_where=FOLLOW_UP, sqlite_where=FOLLOW_UP)
    # The counts of the tasks open now, as engine.task_counts.rebuild makes them (a copy: migrations
    # don't import code that may change after them).
    rows = op.get_bind().execute(sa.text(
        "SELECT t.center_id, t.id, g.group_name FROM human_task t JOIN human_task_group g ON g.task_id = t.id "
        "WHERE t.state = 'open' AND t.assignee_id IS NULL AND t.follow_up_at IS NULL ORDER BY t.id"))
    tally, names_of = Counter(), {}
    for center_id, task_id, name in rows:
        names_of.setdefault((center_id, task_id), []).append(name)
    for (center_id, _task_id), names in names_of.items():
        tally[(center_id, "\n".join(sorted(set(names))))] += 1
    op.bulk_insert(counts, [{"center_id": center_id, "candidates": candidates, "group_name": name, "tasks": n}
                            for (center_id, candidates), n in sorted(tally.items())
                            for name in candidates.split("\n")])


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_open_unassigned_follow_up')
    op.drop_table('group_task_count')
