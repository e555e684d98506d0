"""statistics: report covering index, case list index, background export jobs

Revision ID: 0007_statistics
Revises: 0006_after_mediation
Create Date: 2026-11-29 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_statistics'
down_revision = '0006_after_mediation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('QUEUED', 'RUNNING', 'DONE', 'FAILED', name='export_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_export_job_user', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_job_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.create_index('ix_case_court_type_id', ['court_id', 'case_type', 'id'], unique=False)
        batch_op.create_index('ix_case_report', ['court_id', 'received_on', 'case_type', 'status', 'mediator_id', 'organisation_id', 'closed_at', 'deadline'], unique=False)



def downgrade():
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_report')
        batch_op.drop_index('ix_case_court_type_id')

    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_job_user_id'))
        batch_op.drop_index(batch_op.f('ix_export_job_status'))

    op.drop_table('export_job')
