"""case_name_gram: the bigram index of the party-name contains-search (app/name_grams.py), backfilled

Revision ID: 0016_i17grams_name_grams
Revises: 0015_i17w_claims
Create Date: 2026-12-02 12:35:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_i17grams_name_grams'
down_revision = '0015_i17w_claims'
branch_labels = None
depends_on = None

#: cases read and grams written per round trip: a million cases never sit in memory at once
BATCH = 5_000


def _name_grams(text):
    # a copy of app.name_grams.name_grams as of this revision: a migration does not import the app
    grams = set()
    for name in (text or "").lower().split("、"):
        grams.update(name[i:i + 2] for i in range(len(name) - 1))
    return grams


def upgrade():
    gram = op.create_table('case_name_gram',
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('gram', 'case_id')
    )
    op.create_index('ix_case_name_gram_case', 'case_name_gram', ['case_id'], unique=False)

    conn = op.get_bind()
    case = sa.table('mediation_case', sa.column('id', sa.Integer), sa.column('party_names', sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(case.c.id, case.c.party_names).where(case.c.id > last)
                            .order_by(case.c.id).limit(BATCH)).all()
        if not rows:
            break
        grams = [{'gram': g, 'case_id': case_id} for case_id, names in rows for g in _name_grams(names)]
        if grams:
            conn.execute(gram.insert(), grams)
        last = rows[-1][0]


def downgrade():
    op.drop_index('ix_case_name_gram_case', table_name='case_name_gram')
    op.drop_table('case_name_gram')
