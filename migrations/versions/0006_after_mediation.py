"""after mediation applications

Revision ID: 0006_after_mediation
Revises: 0005_zongduizong
Create Date: 2026-11-29 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_after_mediation'
down_revision = '0005_zongduizong'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('court_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('JUDICIAL_CONFIRMATION', 'MEDIATION_DOCUMENT', 'FILING', name='application_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('AWAITING_CONSENT', 'PENDING', 'ACCEPTED', 'CONFIRMED', 'REJECTED', 'ISSUED', 'FILED', name='application_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('accept_deadline', sa.Date(), nullable=True),
    sa.Column('ruling_deadline', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('court_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_court_application_case_id'), ['case_id'], unique=False)



def downgrade():
    with op.batch_alter_table('court_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_court_application_case_id'))

    op.drop_table('court_application')
