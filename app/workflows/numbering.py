"""Platform case numbers: （2026）京0105民诉前调123号 [FAQ 5.2, SPEC §3].

The sequence restarts every year, separately per court and per type code,
and a number is never issued twice. The counter row is incremented with one
`UPDATE ... RETURNING` inside the case's own transaction: on PostgreSQL the
row lock serialises concurrent creators, on SQLite every write transaction
begins IMMEDIATE (app/__init__.py). The unique index on `mediation_case.number`
is the last line of defence.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..enums import CaseType
from ..extensions import db
from ..models import CaseSequence, Court


def format_number(year: int, court_code: str, type_code: str, n: int) -> str:
    return f"（{year}）{court_code}{type_code}{n}号"


def _bump(court_id: int, type_code: str, year: int) -> int | None:
    stmt = (
        sa.update(CaseSequence)
        .where(CaseSequence.court_id == court_id, CaseSequence.type_code == type_code,
               CaseSequence.year == year)
        .values(last=CaseSequence.last + 1)
        .returning(CaseSequence.last)
    )
    return db.session.execute(stmt, execution_options={"synchronize_session": False}).scalar()


def next_number(court: Court, case_type: CaseType | str, year: int) -> str:
    """The next number of `court` for a case type (its type code) or a type code itself (e.g. 民特调确)."""
    type_code = case_type if isinstance(case_type, str) else case_type.number_code
    n = _bump(court.id, type_code, year)
    if n is None:
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(
            insert(CaseSequence)
            .values(court_id=court.id, type_code=type_code, year=year, last=0)
            .on_conflict_do_nothing()
        )
        n = _bump(court.id, type_code, year)
    return format_number(year, court.code, type_code, n)
