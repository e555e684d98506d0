"""self service: SMS codes say what they prove and who asked (验证码登录, 注册), the login-code SMS kind

Revision ID: 0012_self_service
Revises: 0011_hardening
Create Date: 2026-12-02 12:00:00

`sms_code.purpose` (existing rows are 忘记密码 codes: `reset`) and `sms_code.ip`
(the per-address send limit) with its index; `sms_outbox.kind` accepts
`LOGIN_CODE`. The kind is a VARCHAR with a CHECK constraint: PostgreSQL swaps
the named constraint, SQLite rebuilds the table through batch mode.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012_self_service'
down_revision = '0011_hardening'
branch_labels = None
depends_on = None

# ids are never reused on SQLite (finding H1, 0011_hardening): new and rebuilt tables keep AUTOINCREMENT
AUTOINCREMENT = {'sqlite_autoincrement': True}

_OLD_KINDS = ('INITIAL_PASSWORD', 'RESET_CODE', 'PASSWORD_CHANGED', 'NOTICE')
_NEW_KINDS = _OLD_KINDS + ('LOGIN_CODE',)


def _kind(values):
    return sa.Enum(*values, name='sms_kind', native_enum=False, create_constraint=True, length=32)


def _set_kinds(old, new):
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('sms_kind', 'sms_outbox', type_='check')
        op.create_check_constraint('sms_kind', 'sms_outbox',
                                   'kind IN (%s)' % ', '.join(f"'{v}'" for v in new))
    else:
        with op.batch_alter_table('sms_outbox', schema=None, recreate='always', table_kwargs=AUTOINCREMENT) as batch_op:
            batch_op.alter_column('kind', existing_type=_kind(old), type_=_kind(new), existing_nullable=False)


def upgrade():
    with op.batch_alter_table('sms_code', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='reset', nullable=False))
        batch_op.add_column(sa.Column('ip', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_sms_code_ip_created', ['ip', 'created_at'], unique=False)
    _set_kinds(_OLD_KINDS, _NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM sms_outbox WHERE kind = 'LOGIN_CODE'")
    _set_kinds(_NEW_KINDS, _OLD_KINDS)
    with op.batch_alter_table('sms_code', schema=None, table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_index('ix_sms_code_ip_created')
        batch_op.drop_column('ip')
        batch_op.drop_column('purpose')
