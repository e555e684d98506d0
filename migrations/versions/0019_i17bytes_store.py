"""store: agreements', transcripts' and signatures' bytes leave their rows for the file store

Revision ID: 0019_i17bytes_store
Revises: 0018_i17summary_stats
Create Date: 2026-12-02 12:45:00

Issue 17 item 2 (STYLE "Lessons": large bytes go through the file store, never
into a database row). Upgrade adds `agreement.file_key`, `transcript.file_key`
and `signature.image_key`, writes each row's bytes into the configured store
(`store_from_config`, as the app builds it: FILE_STORE=directory or s3; with no
app context, the directory store under instance/files), reads them back and
compares the SHA-256 (the row's own `sha256` for agreements and transcripts, the
hash of the row's bytes for signatures) before it sets the key, then drops the
byte columns. Rows go in keyset chunks of `CHUNK`, never all at once.

A failure stops the upgrade and deletes the objects this run wrote (PostgreSQL
rolls the DDL back with it; on SQLite, restore the backup of `flask backup`).

Downgrade reads every object back into re-created byte columns (checking the
same hashes) and drops the keys. It leaves the objects in the store: deleting
them before the downgrade's transaction has committed could lose the only copy,
and a later upgrade writes new objects under new keys (the old ones are then
orphans a store clean-up may remove).
"""
import hashlib
import io
import os

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_i17bytes_store'
down_revision = '0018_i17summary_stats'
branch_labels = None
depends_on = None

CHUNK = 50  # rows per round trip; a row may hold a document of several MB

#: (table, byte column, key column, store prefix, has its own sha256 column)
MOVES = (
    ('agreement', 'data', 'file_key', 'agreements', True),
    ('transcript', 'data', 'file_key', 'transcripts', True),
    ('signature', 'image', 'image_key', 'signatures', False),
)


class HashMismatch(RuntimeError):
    """The bytes in the store are not the row's bytes; nothing is switched over."""


def store():
    """The app's file store, as `app.storage.file_store()` builds it."""
    from flask import current_app, has_app_context

    from app.storage import DirectoryStore, store_from_config

    if has_app_context():
        return store_from_config(current_app.config, current_app.instance_path)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return DirectoryStore(os.path.join(root, 'instance', 'files'))


def _suffix(table: str, file_name) -> str:
    if table == 'signature':
        return '.png'
    ext = os.path.splitext(file_name or '')[1].lower()
    return ext if 2 <= len(ext) <= 9 and ext[1:].isalnum() and ext[1:].isascii() else ''


def _rows(conn, table: str, columns: str):
    """Every row of `table` in id order, CHUNK rows per query (keyset, so no OFFSET scan)."""
    last = 0
    while True:
        batch = conn.execute(sa.text(f'SELECT id, {columns} FROM {table} WHERE id > :last ORDER BY id LIMIT :n'),
                             {'last': last, 'n': CHUNK}).all()
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def _empty_bytes():
    return sa.text("X''") if op.get_bind().dialect.name == 'sqlite' else sa.text("''::bytea")


def upgrade():
    conn, files, written = op.get_bind(), store(), []
    try:
        for table, data_col, key_col, prefix, has_sha in MOVES:
            # NOT NULL from the start (SQLite cannot add it later); the default only covers the moment
            # between adding the column and filling it
            op.add_column(table, sa.Column(key_col, sa.String(length=200), nullable=False, server_default=''))
            extra = ', sha256' if has_sha else ''
            name = ', file_name' if table != 'signature' else ''
            for row in _rows(conn, table, f'{data_col}{extra}{name}'):
                body = bytes(row[1] or b'')
                expected = row[2] if has_sha else hashlib.sha256(body).hexdigest()
                stored = files.put(io.BytesIO(body), prefix=prefix,
                                   suffix=_suffix(table, row[3] if has_sha else None))
                written.append(stored.key)
                if files.sha256(stored.key) != expected:
                    raise HashMismatch(f'{table} {row[0]}: the stored bytes do not have the SHA-256 {expected}')
                conn.execute(sa.text(f'UPDATE {table} SET {key_col} = :key WHERE id = :id'),
                             {'key': stored.key, 'id': row[0]})
            if conn.dialect.name != 'sqlite':
                op.alter_column(table, key_col, server_default=None)
            op.drop_column(table, data_col)
    except BaseException:
        for key in written:
            files.delete(key)
        raise


def downgrade():
    conn, files = op.get_bind(), store()
    for table, data_col, key_col, _prefix, has_sha in reversed(MOVES):
        op.add_column(table, sa.Column(data_col, sa.LargeBinary(), nullable=False, server_default=_empty_bytes()))
        extra = ', sha256' if has_sha else ''
        for row in _rows(conn, table, f'{key_col}{extra}'):
            body = b''.join(files.iter_range(row[1]))
            if has_sha and hashlib.sha256(body).hexdigest() != row[2]:
                raise HashMismatch(f'{table} {row[0]}: the stored bytes do not have the SHA-256 {row[2]}')
            conn.execute(sa.text(f'UPDATE {table} SET {data_col} = :data WHERE id = :id'),
                         {'data': body, 'id': row[0]})
        if conn.dialect.name != 'sqlite':
            op.alter_column(table, data_col, server_default=None)
        op.drop_column(table, key_col)
