"""claims: parallel workers lease outbox messages and jobs (claimed_by, lease_until); 批量导入 jobs

Revision ID: 0015_i17w_claims
Revises: 0014_identity
Create Date: 2026-12-02 06:01:08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_i17w_claims'
down_revision = '0014_identity'
branch_labels = None
depends_on = None

# ids are never reused on SQLite (finding H1, 0011_hardening): rebuilt tables keep AUTOINCREMENT
AUTOINCREMENT = {'sqlite_autoincrement': True}


def upgrade():
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('court_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('QUEUED', 'RUNNING', 'DONE', 'FAILED', name='import_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['court_id'], ['court.id'], name='fk_import_job_court'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_import_job_user', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('import_job', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_job_court_id'), ['court_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('export_job', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))

    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')

    with op.batch_alter_table('export_job', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')

    with op.batch_alter_table('import_job', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_job_user_id'))
        batch_op.drop_index(batch_op.f('ix_import_job_status'))
        batch_op.drop_index(batch_op.f('ix_import_job_court_id'))

    op.drop_table('import_job')
