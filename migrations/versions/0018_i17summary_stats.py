"""statistics summary: case_stat_month (additive figures per court × month × type × mediator × organisation ×
status × 结案 month) and case_stat_dirty (buckets to recompute); every existing bucket starts dirty

Revision ID: 0018_i17summary_stats
Revises: 0017_i17shared_rate_limits
Create Date: 2026-12-02 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_i17summary_stats'
down_revision = '0017_i17shared_rate_limits'
branch_labels = None
depends_on = None

AUTOINCREMENT = {'sqlite_autoincrement': True}
CASE_TYPES = ('PRE_LITIGATION', 'IN_LITIGATION', 'INTERNET')
CASE_STATUSES = ('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED', 'ENDED', 'TERMINATED')


def upgrade():
    op.create_table('case_stat_month',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('court_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('case_type', sa.Enum(*CASE_TYPES, name='stat_case_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum(*CASE_STATUSES, name='stat_case_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('closed_month', sa.String(length=7), nullable=True),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('filed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    **AUTOINCREMENT
    )
    op.create_index('ix_case_stat_month_bucket', 'case_stat_month', ['month', 'court_id'], unique=False)
    op.create_table('case_stat_dirty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('court_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    **AUTOINCREMENT
    )
    op.create_index(op.f('ix_case_stat_dirty_month'), 'case_stat_dirty', ['month'], unique=False)
    # Every bucket that has cases starts dirty: reports read it from the case rows until the worker's
    # first rounds (or `flask stats rebuild`) fill it, so the figures are right from the first request.
    month = ("to_char(received_on, 'YYYY-MM')" if op.get_bind().dialect.name == 'postgresql'
             else "strftime('%Y-%m', received_on)")
    op.execute(f"INSERT INTO case_stat_dirty (court_id, month) "
               f"SELECT DISTINCT court_id, {month} FROM mediation_case")


def downgrade():
    op.drop_index(op.f('ix_case_stat_dirty_month'), table_name='case_stat_dirty')
    op.drop_table('case_stat_dirty')
    op.drop_index('ix_case_stat_month_bucket', table_name='case_stat_month')
    op.drop_table('case_stat_month')
