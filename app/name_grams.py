"""The party-name contains-search: a bigram index any database can use (issue 17 item 1).

"当事人 包含 张伟" is `lower(party_names) LIKE '%张伟%'`, a scan of every case of
the court. A trigram index (pg_trgm) cannot serve it: a two-character Chinese
pattern has no trigram, and pg_bigm is not packaged. So `case_name_gram` holds,
for each case, the distinct two-character substrings of each party's name
(lower-cased; names are the pieces of `Case.party_names` between the "、" the
column joins them with, so no gram spans two names).

A pattern's own bigrams (split the same way) must all be a case's bigrams for
the case to contain it: the search keeps the cases having every one of them,
then the LIKE decides exactly (a gram set knows no order: 伟明张伟 has both
bigrams of 张伟明 and does not contain it). A pattern with no bigram — one character, or pieces of one character
between "、" — cannot use the index and is the plain LIKE alone; on PostgreSQL the case list's index
(court, type, id) carries the names (migration 0026), so that LIKE reads one court's index entries.

Each gram row also carries its case's court (`court_id`, a copy): a court's
search — every court user's list — reads the (court_id, gram, case_id) index
for its own court, so a name common across the country (张伟) costs what it
costs in that court, not a fetch of every court's matches before the court
filter.

The index is kept by one flush listener (`keep_grams`), not by the code that
sets party_names: every writer — the workflows, FAB's forms, the demo, test
factories — goes through a flush, and the grams are rewritten in the same
transaction, also when a case changes court (an internet case a court
accepts, `case_lifecycle._accept`). Bulk loads that bypass the ORM (benchmarks/generate.py, the
migration's backfill) call `name_grams` themselves.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from .models import Case, CaseNameGram

#: what Case.party_names joins the names with (app/workflows/case_intake.py refresh_party_names)
SEPARATOR = "、"


def name_grams(text: str | None) -> set[str]:
    """The distinct lower-cased bigrams of each name in `text` (party names or a search pattern)."""
    grams: set[str] = set()
    for name in (text or "").lower().split(SEPARATOR):
        grams.update(name[i:i + 2] for i in range(len(name) - 1))
    return grams


def gram_rows(cases: Iterable[tuple[int, int | None, str | None]]) -> Iterator[tuple[str, int, int | None]]:
    """(gram, case_id, court_id) rows of (case_id, court_id, party_names): what a bulk load inserts."""
    for case_id, court_id, names in cases:
        for gram in name_grams(names):
            yield gram, case_id, court_id


def party_names_contain(column, pattern: str, court_id: int | None = None):
    """The condition "party names contain `pattern`" (case-insensitive, `%` and `_` literal),
    narrowed by the bigram index when the pattern has bigrams — to the grams of court `court_id`'s
    cases when the search is one court's (the caller still scopes the cases themselves)."""
    # ILIKE lower-cases every row's names on PostgreSQL (and lower() on SQLite); a pattern without
    # cased letters (Chinese, digits) finds the same with a plain LIKE, five times cheaper per row
    uncased = pattern.lower() == pattern.upper()
    exact = (column.contains if uncased else column.icontains)(pattern, autoescape=True)
    grams = sorted(name_grams(pattern))
    if not grams:
        return exact
    # One EXISTS per gram: each is an index-only range of the (gram, case_id) primary key, or of
    # (court_id, gram, case_id) for one court; PostgreSQL merges the ranges and fetches only those cases.
    court = [CaseNameGram.court_id == court_id] if court_id is not None else []
    has_all = [sa.exists().where(*court, CaseNameGram.gram == gram, CaseNameGram.case_id == Case.id)
               for gram in grams]
    return sa.and_(*has_all, exact)


def _rewrite(session: Session, cases: list[Case]) -> None:
    conn = session.connection()
    table = CaseNameGram.__table__
    ids = [case.id for case in cases]
    conn.execute(table.delete().where(table.c.case_id.in_(ids)))
    rows = [{"gram": gram, "case_id": case_id, "court_id": court_id}
            for gram, case_id, court_id in gram_rows((c.id, c.court_id, c.party_names) for c in cases)]
    if rows:
        conn.execute(table.insert(), rows)


def _grams_changed(case: Case) -> bool:
    attrs = sa.inspect(case).attrs
    return any(getattr(attrs, name).history.has_changes() for name in ("party_names", "court_id", "court"))


def keep_grams(session: Session, _flush_context) -> None:
    """after_flush: rewrite the grams of every case whose party_names or court this flush wrote."""
    changed = [obj for obj in session.new if isinstance(obj, Case)]
    changed += [obj for obj in session.dirty if isinstance(obj, Case) and _grams_changed(obj)]
    if changed:
        _rewrite(session, changed)


def register() -> None:
    if not event.contains(Session, "after_flush", keep_grams):
        event.listen(Session, "after_flush", keep_grams)
