"""statistics rollup: case_stat_rollup (case_stat_month folded per court × month and mediator, organisation,
case type or the month's total, without 结案 month), filled from case_stat_month and the case rows; an index
on court.parent_id

Revision ID: 0025_i17rollup_stats
Revises: 0024_i17janus_sfu_room
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_i17rollup_stats'
down_revision = '0024_i17janus_sfu_room'
branch_labels = None
depends_on = None

AUTOINCREMENT = {'sqlite_autoincrement': True}
CASE_TYPES = ('PRE_LITIGATION', 'IN_LITIGATION', 'INTERNET')
OPEN = "('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED')"
CONCLUDED = "status IN ('ENDED', 'TERMINATED') AND closed_month IS NOT NULL"
#: dim → the key column it keeps (None: the month's total)
DIMS = {'court': None, 'case_type': 'case_type', 'mediator': 'mediator_id', 'organisation': 'organisation_id'}


def upgrade():
    op.create_table('case_stat_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('court_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('case_type', sa.Enum(*CASE_TYPES, name='rollup_case_type', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('still_open', sa.Integer(), nullable=False),
    sa.Column('ended', sa.Integer(), nullable=False),
    sa.Column('terminated', sa.Integer(), nullable=False),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('filed', sa.Integer(), nullable=False),
    sa.Column('received_until', sa.Date(), nullable=True),
    sa.Column('closed_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    **AUTOINCREMENT
    )
    # The rollup of every existing summary row, with the same folding as stat_summary.fold; a dirty bucket's
    # rows are as stale as its summary rows and refreshed with them.
    for dim, column in DIMS.items():
        key = column or 'NULL'
        columns = ', '.join(c for c in DIMS.values() if c)
        values = ', '.join(c if c == column else 'NULL' for c in DIMS.values() if c)
        op.execute(f"""
            INSERT INTO case_stat_rollup (court_id, month, dim, {columns}, cases, still_open, ended, terminated,
                                          days, confirmed, filed)
            SELECT court_id, month, '{dim}', {values}, sum(cases),
                   sum(CASE WHEN status IN {OPEN} THEN cases ELSE 0 END),
                   sum(CASE WHEN {CONCLUDED} AND status = 'ENDED' THEN cases ELSE 0 END),
                   sum(CASE WHEN {CONCLUDED} AND status = 'TERMINATED' THEN cases ELSE 0 END),
                   sum(CASE WHEN {CONCLUDED} THEN days ELSE 0.0 END), sum(confirmed), sum(filed)
            FROM case_stat_month GROUP BY court_id, month{', ' + key if column else ''}""")
    # the totals' bounds: the latest 收案日期 and 结案时间 of each bucket's cases
    bind = op.get_bind()
    month = ("to_char(received_on, 'YYYY-MM')" if bind.dialect.name == 'postgresql'
             else "strftime('%Y-%m', received_on)")
    op.create_index('ix_case_stat_rollup_bucket', 'case_stat_rollup', ['month', 'court_id'], unique=False)
    bounds = bind.execute(sa.text(f"SELECT court_id, {month}, max(received_on), max(closed_at) "
                                  f"FROM mediation_case GROUP BY court_id, {month}")).all()
    for court_null in (False, True):
        rows = [{'c': c, 'm': m, 'r': r, 'x': x} for c, m, r, x in bounds if (c is None) == court_null]
        if rows:
            court = 'court_id IS NULL' if court_null else 'court_id = :c'
            bind.execute(sa.text(f"UPDATE case_stat_rollup SET received_until = :r, closed_until = :x "
                                 f"WHERE dim = 'court' AND month = :m AND {court}"), rows)
    op.create_index('ix_case_stat_rollup_read', 'case_stat_rollup', ['dim', 'month', 'court_id'], unique=False,
                    postgresql_include=['case_type', 'mediator_id', 'organisation_id', 'cases', 'still_open', 'ended',
                                        'terminated', 'days', 'confirmed', 'filed', 'received_until',
                                        'closed_until'])
    if bind.dialect.name == 'postgresql':
        op.execute('ANALYZE case_stat_rollup')
    # a court's subordinates are read level by level (statistics.court_and_subordinates)
    op.create_index(op.f('ix_court_parent_id'), 'court', ['parent_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_court_parent_id'), table_name='court')
    op.drop_index('ix_case_stat_rollup_read', table_name='case_stat_rollup')
    op.drop_index('ix_case_stat_rollup_bucket', table_name='case_stat_rollup')
    op.drop_table('case_stat_rollup')
