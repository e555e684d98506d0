"""identity: 实名认证 (the ID images in the file store, never in a row) and 留言 on a case

Revision ID: 0014_identity
Revises: 0013_internet
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_identity'
down_revision = '0013_internet'
branch_labels = None
depends_on = None

# ids are never reused on SQLite (finding H1, 0011_hardening): new and rebuilt tables keep AUTOINCREMENT
AUTOINCREMENT = {'sqlite_autoincrement': True}


def upgrade():
    op.create_table('identity_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('status', sa.Enum('UNVERIFIED', 'PENDING', 'VERIFIED', 'REJECTED', name='identity_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('front_key', sa.String(length=200), nullable=True),
    sa.Column('back_key', sa.String(length=200), nullable=True),
    sa.Column('holding_key', sa.String(length=200), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_reason', sa.String(length=500), nullable=True),
    sa.Column('images_purged_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_identity_verification_user', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id'), sqlite_autoincrement=True)
    with op.batch_alter_table('identity_verification', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_verification_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_verification_reviewed_at'), ['reviewed_at'], unique=False)

    op.create_table('case_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_role', sa.Enum('MEDIATOR', 'PARTY', 'AGENT', name='message_author', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('author_name', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_case_message_case', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'), sqlite_autoincrement=True)
    with op.batch_alter_table('case_message', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_message_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_message', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_message_case_id'))
    op.drop_table('case_message')
    with op.batch_alter_table('identity_verification', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_verification_reviewed_at'))
        batch_op.drop_index(batch_op.f('ix_identity_verification_status'))
    op.drop_table('identity_verification')
