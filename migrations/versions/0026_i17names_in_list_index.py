"""the case list index carries the party names on PostgreSQL: a one-character 当事人 search reads the index

Revision ID: 0026_i17names_in_list_index
Revises: 0025_i17rollup_stats
Create Date: 2026-12-04 20:00:00

A search of one character (a surname: 张, 王) has no bigram, so it is the LIKE
alone over the court's cases of one type (app/name_grams.py). With the names
in the index `ix_case_court_type_id` (court_id, case_type, id) INCLUDE
(party_names), PostgreSQL filters the court's index entries in an index-only
scan instead of visiting a heap page per case: 85 → 11 ms for the capped
count, 115 → 1 ms for the page of 20, at 1 M cases (朝阳, 59,150 诉前 cases).

PostgreSQL only (SQLite has no INCLUDE; its index is unchanged). Upgrade
rebuilds the index with the column, downgrade without it; either locks the
table against writes while it builds (about a minute at 10 M cases), so on a
live database run it in a quiet hour.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0026_i17names_in_list_index'
down_revision = '0025_i17rollup_stats'
branch_labels = None
depends_on = None

KEYS = ['court_id', 'case_type', 'id']
#: nothing changes on SQLite (tests/test_audit_and_schema.py)
POSTGRESQL_ONLY = True


def _rebuild(**kw):
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_case_court_type_id', table_name='mediation_case')
    op.create_index('ix_case_court_type_id', 'mediation_case', KEYS, unique=False, **kw)


def upgrade():
    _rebuild(postgresql_include=['party_names'])


def downgrade():
    _rebuild()
