"""The court clerk's to-do counts on the home page (issue 15 item 7; SPEC §8 for 临期/超期).

Rendered on every login, so they stay cheap: four grouped or capped counts,
each over the court's own rows through an indexed column (court_id, status,
deadline). 临期 is due today or within `DUE_WITHIN_DAYS`; 超期 is past the
deadline — two counts, as the lists they link to (DeadlineView `?due=`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..clock import today
from ..enums import ApplicationKind, ApplicationStatus, CaseStatus, CaseType
from ..extensions import db
from ..models import Case, CourtApplication, OutboxMessage
from . import pushes

#: 临期: the deadline is at most this many days ahead (DeadlineView uses the same)
DUE_WITHIN_DAYS = 2


@dataclass
class CourtTodo:
    to_assign: dict[CaseType, int] = field(default_factory=dict)
    due_soon: int = 0
    overdue: int = 0
    to_accept: dict[ApplicationKind, int] = field(default_factory=dict)
    to_file: int = 0
    push_failed: int = 0


def _enum(cls, value):
    return value if isinstance(value, cls) else cls[value]


def due_window(on: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """(first day of 临期, last day of 临期); before the first is 超期."""
    on = on or today()
    return on, on + dt.timedelta(days=DUE_WITHIN_DAYS)


def court_todo(court_id: int) -> CourtTodo:
    todo = CourtTodo()
    for case_type, n in db.session.execute(
            sa.select(Case.case_type, sa.func.count()).where(
                Case.court_id == court_id, Case.status == CaseStatus.TO_ASSIGN).group_by(Case.case_type)):
        todo.to_assign[_enum(CaseType, case_type)] = n
    first, last = due_window()
    soon, overdue = db.session.execute(
        sa.select(sa.func.count(sa.case((Case.deadline >= first, 1))),
                  sa.func.count(sa.case((Case.deadline < first, 1))))
        .where(Case.court_id == court_id, Case.deadline.is_not(None), Case.deadline <= last)).one()
    todo.due_soon, todo.overdue = soon or 0, overdue or 0
    for kind, n in db.session.execute(
            sa.select(CourtApplication.kind, sa.func.count()).where(
                CourtApplication.court_id == court_id, CourtApplication.status == ApplicationStatus.PENDING)
            .group_by(CourtApplication.kind)):
        kind = _enum(ApplicationKind, kind)
        if kind is ApplicationKind.FILING:
            todo.to_file = n
        else:
            todo.to_accept[kind] = n
    todo.push_failed = db.session.scalar(
        pushes.court_pushes(sa.select(sa.func.count()).select_from(OutboxMessage), court_id)
        .where(pushes.failing_clause())) or 0
    return todo
