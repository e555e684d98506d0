"""case_name_gram.court_id: a court's party-name search reads only its own cases' grams

Revision ID: 0023_i17fix_gram_court
Revises: 0022_i17fix_job_attempts
Create Date: 2026-12-02 18:45:00

Upgrade adds the column, fills it from each gram's case (one UPDATE; the court
of a case is `mediation_case.court_id`) and indexes (court_id, gram, case_id).
Downgrade drops the index and the column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_i17fix_gram_court'
down_revision = '0022_i17fix_job_attempts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_name_gram', schema=None) as batch_op:
        batch_op.add_column(sa.Column('court_id', sa.Integer(), nullable=True))
    op.execute("UPDATE case_name_gram SET court_id = "
               "(SELECT c.court_id FROM mediation_case c WHERE c.id = case_name_gram.case_id)")
    op.create_index('ix_case_name_gram_court', 'case_name_gram', ['court_id', 'gram', 'case_id'], unique=False)


def downgrade():
    op.drop_index('ix_case_name_gram_court', table_name='case_name_gram')
    with op.batch_alter_table('case_name_gram', schema=None) as batch_op:
        batch_op.drop_column('court_id')
