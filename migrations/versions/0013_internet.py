"""internet mediation: applications, evidence, conflict declarations, mediator changes; the mediator's public profile

Revision ID: 0013_internet
Revises: 0012_self_service
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013_internet'
down_revision = '0012_self_service'
branch_labels = None
depends_on = None

# ids are never reused on SQLite (finding H1, 0011_hardening): new and rebuilt tables keep AUTOINCREMENT
AUTOINCREMENT = {'sqlite_autoincrement': True}


def _enum(name, *members):
    return sa.Enum(*members, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('mediator', table_kwargs=AUTOINCREMENT) as batch:
        batch.add_column(sa.Column('scope_of_work', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('charges', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'internet_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('applicant_user_id', sa.Integer(), nullable=False),
        sa.Column('status', _enum('internet_status', 'CHOOSING', 'WAITING', 'ACCEPTED', 'CONFIRMED', 'REFUSED'),
                  nullable=False),
        sa.Column('province', sa.String(length=32), nullable=False),
        sa.Column('city', sa.String(length=32), nullable=True),
        sa.Column('claims', sa.Text(), nullable=False),
        sa.Column('consented_at', sa.DateTime(), nullable=False),
        sa.Column('declined_ids', sa.JSON(), nullable=False),
        sa.Column('respondent_decided_at', sa.DateTime(), nullable=True),
        sa.Column('respondent_reason', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_internet_application_case',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['applicant_user_id'], ['ab_user.id'], name='fk_internet_application_user'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id'), sqlite_autoincrement=True)
    op.create_index('ix_internet_application_applicant_user_id', 'internet_application', ['applicant_user_id'])
    op.create_index('ix_internet_application_status', 'internet_application', ['status'])
    op.create_table(
        'evidence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=True),
        sa.Column('status', _enum('evidence_status', 'SUBMITTED', 'VERIFIED'), nullable=False),
        sa.Column('file_key', sa.String(length=200), nullable=False),
        sa.Column('file_name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_by_name', sa.String(length=100), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.Column('verified_by_id', sa.Integer(), nullable=True),
        sa.Column('verified_at', sa.DateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_evidence_case', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['party_id'], ['case_party.id'], name='fk_evidence_party', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'), sqlite_autoincrement=True)
    op.create_index('ix_evidence_case_id', 'evidence', ['case_id'])
    op.create_table(
        'conflict_declaration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('mediator_id', sa.Integer(), nullable=False),
        sa.Column('has_conflict', sa.Boolean(), nullable=False),
        sa.Column('disclosure', sa.String(length=500), nullable=True),
        sa.Column('declared_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_conflict_declaration_case',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name='fk_conflict_declaration_mediator'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_id', 'mediator_id', name='uq_conflict_declaration'), sqlite_autoincrement=True)
    op.create_index('ix_conflict_declaration_case_id', 'conflict_declaration', ['case_id'])
    op.create_table(
        'mediator_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('party_id', sa.Integer(), nullable=True),
        sa.Column('status', _enum('mediator_change_status', 'PENDING', 'APPROVED', 'REJECTED', 'REFUSAL'),
                  nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('old_mediator_id', sa.Integer(), nullable=True),
        sa.Column('new_mediator_id', sa.Integer(), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decision_reason', sa.String(length=500), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_mediator_change_case',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['party_id'], ['case_party.id'], name='fk_mediator_change_party',
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['old_mediator_id'], ['mediator.id'], name='fk_mediator_change_old'),
        sa.ForeignKeyConstraint(['new_mediator_id'], ['mediator.id'], name='fk_mediator_change_new'),
        sa.PrimaryKeyConstraint('id'), sqlite_autoincrement=True)
    op.create_index('ix_mediator_change_case_id', 'mediator_change', ['case_id'])
    op.create_index('ix_mediator_change_status', 'mediator_change', ['status'])


def downgrade():
    op.drop_index('ix_mediator_change_status', table_name='mediator_change')
    op.drop_index('ix_mediator_change_case_id', table_name='mediator_change')
    op.drop_table('mediator_change')
    op.drop_index('ix_conflict_declaration_case_id', table_name='conflict_declaration')
    op.drop_table('conflict_declaration')
    op.drop_index('ix_evidence_case_id', table_name='evidence')
    op.drop_table('evidence')
    op.drop_index('ix_internet_application_status', table_name='internet_application')
    op.drop_index('ix_internet_application_applicant_user_id', table_name='internet_application')
    op.drop_table('internet_application')
    with op.batch_alter_table('mediator', table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_column('charges')
        batch.drop_column('scope_of_work')

