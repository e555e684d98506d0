"""数据看板: the last twelve months at a glance, for court admins and managers (issue 7).

Built from the same definitions as the report (`statistics`): a month's bar is
the cohort received that month, split by where it stands now.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import String

from .. import charts
from ..extensions import db
from ..models import Case, Mediator
from . import statistics as stats

MONTHS = 12
TOP = 10

ENDED_COLOUR, TERMINATED_COLOUR, OPEN_COLOUR = "#5cb85c", "#d9534f", "#5bc0de"


class month_of(ColumnElement):
    """'YYYY-MM' of a date column on SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True

    def __init__(self, column):
        self.column = column


@compiles(month_of)
def _month_sqlite(element, compiler, **kw):
    return "strftime('%%Y-%%m', %s)" % compiler.process(element.column, **kw)


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw):
    return "to_char(%s, 'YYYY-MM')" % compiler.process(element.column, **kw)


@dataclass
class Board:
    months: list[str]
    per_month: object
    success_trend: object
    top_mediators: object
    top_organisations: object
    overdue_by_mediator: object
    overdue_total: int
    month_rows: list[tuple]
    period: stats.Query


def first_month(today: dt.date) -> dt.date:
    year, month = today.year, today.month - (MONTHS - 1)
    while month <= 0:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def build(reach: stats.Reach, today: dt.date) -> Board:
    start = first_month(today)
    q = stats.Query(by=stats.Dimension.MEDIATOR, start=start, end=today)
    cond = stats.conditions(q)
    month = month_of(Case.received_on)
    stmt = stats.cohort(q, reach, sa.select(
        month, sa.func.sum(sa.case((cond["ended"], 1), else_=0)),
        sa.func.sum(sa.case((cond["terminated"], 1), else_=0)), sa.func.count())).group_by(month)
    found = {m: (int(e or 0), int(t or 0), int(n)) for m, e, t, n in db.session.execute(stmt)}
    months, cursor = [], start
    while cursor <= today:
        months.append(cursor.strftime("%Y-%m"))
        cursor = dt.date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    ended = [found.get(m, (0, 0, 0))[0] for m in months]
    terminated = [found.get(m, (0, 0, 0))[1] for m in months]
    open_ = [found.get(m, (0, 0, 0))[2] - ended[i] - terminated[i] for i, m in enumerate(months)]
    short = [m[2:].replace("-", ".") for m in months]
    per_month = charts.stacked_bars(short, [
        charts.Series(_("Ended with agreement"), ended, ENDED_COLOUR),
        charts.Series(_("Terminated"), terminated, TERMINATED_COLOUR),
        charts.Series(_("Not concluded"), open_, OPEN_COLOUR),
    ], _("Cases per month by outcome"))
    rates = [e / (e + t) if e + t else None for e, t in zip(ended, terminated)]
    trend = charts.line(short, rates, _("Success rate by month"))

    by_mediator = stats.report(q, reach).rows
    top_m = sorted((r for r in by_mediator if r.key is not None and r.ended), key=lambda r: -r.ended)[:TOP]
    org_q = stats.Query(by=stats.Dimension.ORGANISATION, start=start, end=today)
    top_o = sorted((r for r in stats.report(org_q, reach).rows if r.key is not None and r.ended),
                   key=lambda r: -r.ended)[:TOP]

    overdue = reach.apply(sa.select(Mediator.name, sa.func.count()).select_from(Case)
                          .join(Mediator, Mediator.id == Case.mediator_id)
                          .where(Case.status.in_(stats.OPEN), Case.deadline < today)
                          .group_by(Mediator.id, Mediator.name).order_by(sa.func.count().desc()).limit(TOP))
    overdue_rows = db.session.execute(overdue).all()
    overdue_total = db.session.scalar(reach.apply(sa.select(sa.func.count()).select_from(Case).where(
        Case.status.in_(stats.OPEN), Case.deadline < today)))
    return Board(
        months=months, per_month=per_month, success_trend=trend,
        top_mediators=charts.horizontal_bars([(r.name, r.ended) for r in top_m],
                                             _("Top mediators by cases ended with agreement")),
        top_organisations=charts.horizontal_bars([(r.name, r.ended) for r in top_o],
                                                 _("Top organisations by cases ended with agreement")),
        overdue_by_mediator=charts.horizontal_bars([(name, n) for name, n in overdue_rows],
                                                   _("Overdue cases by mediator"), colour=TERMINATED_COLOUR),
        overdue_total=overdue_total or 0,
        month_rows=[(m, ended[i], terminated[i], open_[i], rates[i]) for i, m in enumerate(months)],
        period=q,
    )
