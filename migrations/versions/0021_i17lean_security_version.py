"""security version: one row per role or permission change, the key of every server's permission cache

Revision ID: 0021_i17lean_security_version
Revises: 0020_i17stats_open_index
Create Date: 2026-12-02 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_i17lean_security_version'
down_revision = '0020_i17stats_open_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('security_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'), sqlite_autoincrement=True
    )


def downgrade():
    op.drop_table('security_version')
