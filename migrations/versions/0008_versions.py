"""versions: one optimistic lock for every subject of a workflow (certifications, organisations, export jobs)

Revision ID: 0008_versions
Revises: 0007_statistics
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_versions'
down_revision = '0007_statistics'
branch_labels = None
depends_on = None

TABLES = ('mediator_court', 'organisation_court', 'organisation', 'export_job')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
