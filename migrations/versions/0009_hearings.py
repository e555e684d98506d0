"""hearings: video rooms, signals, recordings in the file store, 多路视频申请

Revision ID: 0009_hearings
Revises: 0008_versions
Create Date: 2026-12-02 09:00:00


The bytes of a recording live in the file store (app/storage.py), never in a row.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_hearings'
down_revision = '0008_versions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hearing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('NEW', 'OPEN', 'ENDED', name='hearing_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sides', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_hearing_case', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hearing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearing_case_id'), ['case_id'], unique=False)

    op.create_table('multi_video_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('NEW', 'PENDING', 'APPROVED', 'REJECTED', name='multi_video_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_reason', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_multi_video_request_case', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('multi_video_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_multi_video_request_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_multi_video_request_status'), ['status'], unique=False)

    op.create_table('hearing_signal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('from_participant_id', sa.Integer(), nullable=False),
    sa.Column('from_session', sa.Integer(), nullable=True),
    sa.Column('to_session', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearing.id'], name='fk_hearing_signal_hearing', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hearing_signal', schema=None) as batch_op:
        batch_op.create_index('ix_hearing_signal_hearing_id', ['hearing_id', 'id'], unique=False)

    op.create_table('recording',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('NEW', 'RECORDING', 'READY', name='recording_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('source', sa.Enum('RECORDED', 'UPLOADED', name='recording_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('file_key', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('chunks', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name='fk_recording_case', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearing.id'], name='fk_recording_hearing', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_case_id'), ['case_id'], unique=False)

    op.create_table('hearing_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hearing_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('MEDIATOR', 'PARTY', 'AGENT', name='hearing_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('session', sa.Integer(), nullable=True),
    sa.Column('joined_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['case_agent.id'], name='fk_hearing_participant_agent', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hearing_id'], ['hearing.id'], name='fk_hearing_participant_hearing', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['case_party.id'], name='fk_hearing_participant_party', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hearing_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hearing_participant_hearing_id'), ['hearing_id'], unique=False)
        batch_op.create_index('ix_hearing_participant_hearing_user', ['hearing_id', 'user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('hearing_participant', schema=None) as batch_op:
        batch_op.drop_index('ix_hearing_participant_hearing_user')
        batch_op.drop_index(batch_op.f('ix_hearing_participant_hearing_id'))

    op.drop_table('hearing_participant')
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_case_id'))

    op.drop_table('recording')
    with op.batch_alter_table('hearing_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_hearing_signal_hearing_id')

    op.drop_table('hearing_signal')
    with op.batch_alter_table('multi_video_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_multi_video_request_status'))
        batch_op.drop_index(batch_op.f('ix_multi_video_request_case_id'))

    op.drop_table('multi_video_request')
    with op.batch_alter_table('hearing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hearing_case_id'))

    op.drop_table('hearing')
