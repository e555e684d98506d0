"""hardening: ids never reused on SQLite, account session generations, no credentials in 短信记录

Revision ID: 0011_hardening
Revises: 0010_operations
Create Date: 2026-12-02 14:00:00

- `account_session` (finding M2): an account's session generation.
- `sms_outbox` (finding M8): initial passwords and verification codes already
  in the table are masked; new rows never hold them (app/sms.py).
- SQLite (finding H1): every table with an integer `id` key is rebuilt as
  `INTEGER PRIMARY KEY AUTOINCREMENT`, so the id of a deleted row is never
  given to a new one. SQLite can only do that by rebuilding the table: its
  `CREATE TABLE` text is kept as it is except for the key, the rows, indexes
  and triggers are copied, and the rebuild runs with foreign keys off (a
  `DROP TABLE` with them on would run the children's ON DELETE actions),
  then `foreign_key_check` must find nothing. Rows keep their ids and
  content, so the audit hash chain stays valid. PostgreSQL's sequences never
  reuse a value: nothing to do there.

Downgrade drops `account_session`; the tables stay AUTOINCREMENT and the
masked messages stay masked (neither can be undone, nor needs to be).
"""
import re

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011_hardening'
down_revision = '0010_operations'
branch_labels = None
depends_on = None

_sms = sa.table('sms_outbox', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                sa.column('body', sa.String))
MASK = "******"
_MASKS = {
    # 【…】…初始密码为Ab3dE5gH9k，… / "…initial password is Ab3dE5gH9k. …"
    "INITIAL_PASSWORD": [re.compile(r"(初始密码为)[^，,。\s]+"), re.compile(r"(initial password is )[^\s.,]+")],
    # 【…】您的验证码为123456，… / "Your verification code is 123456, …"
    "RESET_CODE": [re.compile(r"()\d{4,8}")],
}

_KEY_COLUMN = re.compile(r'^(\s*"?id"? INTEGER NOT NULL)(,)', re.MULTILINE)
_KEY_CLAUSE = re.compile(r',\s*(CONSTRAINT \S+ )?PRIMARY KEY \("?id"?\)')


def upgrade():
    op.create_table(
        'account_session',
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('generation', sa.Integer(), server_default='0', nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_account_session_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    conn = op.get_bind()
    _mask_credentials(conn)
    if conn.dialect.name == 'sqlite':
        _autoincrement_every_table(conn)


def _mask_credentials(conn) -> None:
    rows = conn.execute(sa.select(_sms.c.id, _sms.c.kind, _sms.c.body)
                        .where(_sms.c.kind.in_(list(_MASKS)))).all()
    for row in rows:
        body = row.body or ""
        masked = body
        for pattern in _MASKS[row.kind]:
            masked = pattern.sub(lambda m: m.group(1) + MASK, masked)
        if masked == body:
            masked = MASK  # a wording the patterns do not know: nothing of it is kept
        conn.execute(sa.update(_sms).where(_sms.c.id == row.id).values(body=masked[:500]))


def autoincrement_sql(create_sql: str) -> str | None:
    """The `CREATE TABLE` text with `id` as `INTEGER PRIMARY KEY AUTOINCREMENT`; None if it has no such key."""
    if "AUTOINCREMENT" in create_sql.upper() or not _KEY_CLAUSE.search(create_sql):
        return None
    sql, found = _KEY_COLUMN.subn(r"\1 PRIMARY KEY AUTOINCREMENT\2", create_sql, count=1)
    if not found:
        return None
    return _KEY_CLAUSE.sub("", sql, count=1)


def _autoincrement_every_table(conn) -> None:
    raw = conn.connection.dbapi_connection
    tables = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                         "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    plan = [(name, new) for name, sql in tables if (new := autoincrement_sql(sql)) is not None]
    if not plan:
        return
    # Alembic's transaction ends here (what came before in this revision is committed): foreign
    # keys can only be switched off between transactions.
    raw.execute("COMMIT")
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        raw.execute("BEGIN IMMEDIATE")
        for name, create_sql in plan:
            extras = [sql for (sql,) in raw.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
                "AND sql IS NOT NULL", (name,)).fetchall()]
            columns = ", ".join(f'"{c[1]}"' for c in raw.execute(f'PRAGMA table_info("{name}")').fetchall())
            tmp = f"_h1_new_{name}"
            raw.execute(create_sql.replace(f'CREATE TABLE "{name}"', f'CREATE TABLE "{tmp}"', 1)
                        .replace(f"CREATE TABLE {name} ", f'CREATE TABLE "{tmp}" ', 1))
            raw.execute(f'INSERT INTO "{tmp}" ({columns}) SELECT {columns} FROM "{name}"')
            raw.execute(f'DROP TABLE "{name}"')
            raw.execute(f'ALTER TABLE "{tmp}" RENAME TO "{name}"')
            for sql in extras:
                raw.execute(sql)
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign keys broken by the rebuild: {problems[:5]}")
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("BEGIN IMMEDIATE")  # Alembic records the revision in a transaction of its own


def downgrade():
    op.drop_table('account_session')
