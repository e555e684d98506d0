"""statistics that do not grow with history: a partial index of the open cases (逾期数, the dashboard's
overdue figures) and one on (court, 结案时间) for a report's earlier months concluded in its last month

Revision ID: 0020_i17stats_open_index
Revises: 0019_i17bytes_store
Create Date: 2026-12-02 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_i17stats_open_index'
down_revision = '0019_i17bytes_store'
branch_labels = None
depends_on = None

OPEN_CASES = "status IN ('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED')"


def upgrade():
    # plain CREATE INDEX (no batch: SQLite needs no table copy for an index)
    op.create_index('ix_case_open', 'mediation_case', ['court_id', 'deadline', 'mediator_id', 'organisation_id',
                                                       'received_on', 'case_type'], unique=False,
                    postgresql_where=sa.text(OPEN_CASES), sqlite_where=sa.text(OPEN_CASES))
    op.create_index('ix_case_court_closed', 'mediation_case', ['court_id', 'closed_at', 'received_on', 'case_type',
                                                               'status', 'mediator_id', 'organisation_id',
                                                               'deadline'], unique=False)


def downgrade():
    op.drop_index('ix_case_court_closed', table_name='mediation_case')
    op.drop_index('ix_case_open', table_name='mediation_case')
