"""operations: the audit hash chain (seq, prev_hash, row_hash, chain head) and the worker's heartbeat

Revision ID: 0010_operations
Revises: 0009_hearings
Create Date: 2026-12-02 10:00:00

Existing audit rows are chained in id order, so `flask audit verify` covers
the whole trail from the start. The append-only trigger is lifted for that
one backfill and restored.

"""
from alembic import op
import sqlalchemy as sa

from app.audit import GENESIS, row_digest

# revision identifiers, used by Alembic.
revision = '0010_operations'
down_revision = '0009_hearings'
branch_labels = None
depends_on = None

_audit = sa.table(
    'audit_log',
    sa.column('id', sa.Integer), sa.column('seq', sa.Integer), sa.column('prev_hash', sa.String),
    sa.column('row_hash', sa.String), sa.column('at', sa.DateTime), sa.column('actor_id', sa.Integer),
    sa.column('actor_name', sa.String), sa.column('ip', sa.String), sa.column('action', sa.String),
    sa.column('entity', sa.String), sa.column('entity_id', sa.Integer), sa.column('court_id', sa.Integer),
    sa.column('case_id', sa.Integer), sa.column('summary', sa.String), sa.column('before', sa.JSON),
    sa.column('after', sa.JSON),
)
_SQLITE_UPDATE_TRIGGER = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                          "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def _backfill(conn) -> tuple[int, str]:
    seq, prev, batch = 0, GENESIS, []
    rows = conn.execute(sa.select(_audit).order_by(_audit.c.id)).mappings().all()
    for row in rows:
        seq += 1
        values = {**row, "seq": seq}
        digest = row_digest(values, prev)
        batch.append({"pk": row["id"], "s": seq, "p": prev, "h": digest})
        prev = digest
    if batch:
        conn.execute(sa.update(_audit).where(_audit.c.id == sa.bindparam("pk"))
                     .values(seq=sa.bindparam("s"), prev_hash=sa.bindparam("p"), row_hash=sa.bindparam("h")),
                     batch)
    return seq, prev


def upgrade():
    op.add_column('audit_log', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('row_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_audit_log_seq', 'audit_log', ['seq'], unique=True)
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('row_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'worker_heartbeat',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=128), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('beat_at', sa.DateTime(), nullable=False),
        sa.Column('rounds', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('last_error_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    seq, head = _backfill(conn)
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute(_SQLITE_UPDATE_TRIGGER)
    op.bulk_insert(sa.table('audit_chain_head', sa.column('id', sa.Integer), sa.column('seq', sa.Integer),
                            sa.column('row_hash', sa.String)),
                   [{"id": 1, "seq": seq, "row_hash": head}])


def downgrade():
    op.drop_table('worker_heartbeat')
    op.drop_table('audit_chain_head')
    # Not batch mode: a batch drop on SQLite copies the table and would lose the append-only triggers.
    op.drop_index('ix_audit_log_seq', table_name='audit_log')
    op.drop_column('audit_log', 'row_hash')
    op.drop_column('audit_log', 'prev_hash')
    op.drop_column('audit_log', 'seq')
