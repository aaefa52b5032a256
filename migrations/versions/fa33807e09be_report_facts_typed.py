"""report facts as typed columns, workload and flow indexes

The funder's report counts in the database (engine.report.funder_report): the facts it reads of a case
as typed columns of `case`, the referrals as rows of `case_referral`, an index on a center's journeys by
start and end; and for the workload's open and overdue per group, the center's open, unassigned tasks with
their due dates as an index, and for the flow's step durations a process's completed tasks by completion
(both index-only on PostgreSQL). Filled here from each case's kept `facts` (the JSON), with engine.report's own mapping;
`lotse refresh-facts` refills all of it from the workflows.

Revision ID: fa33807e09be
Revises: dc9809e713d6
Create Date: 2026-12-06 18:05:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa33807e09be'
down_revision = 'dc9809e713d6'
branch_labels = None
depends_on = None

_COLUMNS = (('report_country', 100), ('report_path', 64), ('report_outcome', 64),
            ('report_size', 16), ('report_kreis', 100))
_BATCH = 5000
_COMPLETED = "state = 'completed'"


def upgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_person_key', sa.BigInteger(), nullable=True))
        for name, length in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        batch_op.create_index('ix_case_center_started_ended', ['center_id', 'started_at', 'ended_at'], unique=False)
    op.create_table(
        'case_referral',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=128), nullable=False),
        sa.Column('partner', sa.String(length=128), nullable=False),
        sa.Column('partner_type', sa.String(length=64), nullable=False),
        sa.Column('referred_on', sa.Date(), nullable=True),
        sa.Column('contact_made', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('case_referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_referral_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_referral_referred_on'), ['referred_on'], unique=False)
    _open_unassigned = "state = 'open' AND assignee_id IS NULL"
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_open_unassigned_due', ['center_id', 'id'], unique=False,
                              postgresql_include=['due_at'], postgresql_where=sa.text(_open_unassigned),
                              sqlite_where=sa.text(_open_unassigned))
        batch_op.create_index('ix_human_task_completed_process_at', ['center_id', 'process_key', 'completed_at'],
                              unique=False, postgresql_include=['element_id', 'created_at', 'title'],
                              postgresql_where=sa.text(_COMPLETED), sqlite_where=sa.text(_COMPLETED))
    _fill()


def _fill():
    from engine.report import _fact_columns, _referral_rows, _referral_values
    bind = op.get_bind()
    case = sa.table('case', sa.column('id', sa.Integer), sa.column('subject', sa.String), sa.column('facts', sa.Text),
                    sa.column('report_person_key', sa.BigInteger),
                    *(sa.column(name, sa.String) for name, _ in _COLUMNS))
    referral = sa.table('case_referral', sa.column('case_id', sa.Integer), sa.column('topic', sa.String),
                        sa.column('partner', sa.String), sa.column('partner_type', sa.String),
                        sa.column('referred_on', sa.Date), sa.column('contact_made', sa.Boolean))
    update = case.update().where(case.c.id == sa.bindparam('case_id')).values(
        **{name: sa.bindparam(f'v_{name}') for name in ('report_person_key', *(name for name, _ in _COLUMNS))})
    last_id = 0
    while True:
        rows = bind.execute(sa.select(case.c.id, case.c.subject, case.c.facts).where(case.c.id > last_id)
                            .order_by(case.c.id).limit(_BATCH)).all()
        if not rows:
            return
        updates, referrals = [], []
        for case_id, subject, text in rows:
            facts = json.loads(text) if text else {}
            updates.append({'case_id': case_id, **{f'v_{k}': v for k, v in _fact_columns(subject, facts).items()}})
            referrals += [dict(zip(('topic', 'partner', 'partner_type', 'referred_on', 'contact_made'),
                                   _referral_values(row)), case_id=case_id) for row in _referral_rows(facts)]
        bind.execute(update, updates)
        if referrals:
            bind.execute(referral.insert(), referrals)
        last_id = rows[-1][0]


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_completed_process_at')
        batch_op.drop_index('ix_human_task_open_unassigned_due')
    with op.batch_alter_table('case_referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_referral_referred_on'))
        batch_op.drop_index(batch_op.f('ix_case_referral_case_id'))
    op.drop_table('case_referral')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_center_started_ended')
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column('report_person_key')
