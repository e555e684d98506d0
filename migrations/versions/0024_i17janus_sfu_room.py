"""sfu room: a hearing's Janus VideoRoom (id, secret, pin), each participant's entry token, server recordings

Revision ID: 0024_i17janus_sfu_room
Revises: 0023_i17fix_gram_court
Create Date: 2026-12-02 18:10:00

Issue 17 item 8: with VIDEO_BACKEND=janus a hearing's media go through a
VideoRoom room the app creates (app/janus.py); the room's random id, secret
and pin, and the token of each participant's current entry, are kept here so
that any app process can admit, revoke and end. A recording Janus makes on the
server has `recording.sfu_dir` (its folder under JANUS_RECORDINGS_DIR, until the
worker has converted it) and `sfu_feeds` (whose stream each file is). Empty
under the mesh.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_i17janus_sfu_room'
down_revision = '0023_i17fix_gram_court'
branch_labels = None
depends_on = None

# ids are never reused on SQLite (finding H1, 0011_hardening): rebuilt tables keep AUTOINCREMENT
AUTOINCREMENT = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('hearing', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('sfu_room', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('sfu_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sfu_pin', sa.String(length=64), nullable=True))
    with op.batch_alter_table('hearing_participant', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('sfu_token', sa.String(length=64), nullable=True))
    with op.batch_alter_table('recording', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('sfu_dir', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('sfu_feeds', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('recording', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column('sfu_feeds')
        batch_op.drop_column('sfu_dir')
    with op.batch_alter_table('hearing_participant', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column('sfu_token')
    with op.batch_alter_table('hearing', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column('sfu_pin')
        batch_op.drop_column('sfu_secret')
        batch_op.drop_column('sfu_room')
