"""job attempts: export and import jobs count their claims and are given up after WORKER_MAX_ATTEMPTS

Revision ID: 0022_i17fix_job_attempts
Revises: 0021_i17lean_security_version
Create Date: 2026-12-02 18:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_i17fix_job_attempts'
down_revision = '0021_i17lean_security_version'
branch_labels = None
depends_on = None

# ids are never reused on SQLite (finding H1, 0011_hardening): rebuilt tables keep AUTOINCREMENT
AUTOINCREMENT = {'sqlite_autoincrement': True}


def upgrade():
    # a job running now has been claimed once
    for table in ('export_job', 'import_job'):
        with op.batch_alter_table(table, schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
            batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        op.execute(f"UPDATE {table} SET attempts = 1 WHERE status <> 'QUEUED'")


def downgrade():
    for table in ('import_job', 'export_job'):
        with op.batch_alter_table(table, schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
            batch_op.drop_column('attempts')
