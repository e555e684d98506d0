"""数据看板: the last twelve months at a glance, for court admins and managers (issue 7).

Built from the same definitions as the report (`statistics`): a month's bar is
the cohort received that month, split by where it stands now.

Nothing here grows with history (issue 17 item 6): the bars and the two top
tens are `statistics.figures` — the period ends today, so its clean months come
from the rollup (a row per month and mediator or organisation, summed by the
database), or when a case of them concluded after today (a clock set wrong)
from the summary plus the exact case-row remainder — and the overdue figures
look only at open cases, through the partial index `ix_case_open`. Only the ten names shown are read.
`build(..., summary=False)` counts everything from the case rows (what the
tests compare it with).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import charts
from ..extensions import db
from ..models import Case, CaseStatRollup, Mediator, Organisation
from . import statistics as stats

MONTHS = 12
TOP = 10

ENDED_COLOUR, TERMINATED_COLOUR, OPEN_COLOUR = "#5cb85c", "#d9534f", "#5bc0de"


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


def top(q: stats.Query, reach: stats.Reach, p: stats.Plan) -> list[stats.Row]:
    """The TOP groups of `q` by cases ended with agreement, as the report would rank them (ties: more
    received first, then by name), naming only the rows that can make the list."""
    if p.rollup and p.months and not p.minus and not p.raw_parts(q.start, q.end):
        rows = _ranked_in_rollup(q, reach, p)  # the whole period in the rollup: ranked by the database
    else:
        rows = [r for k, r in stats.figures(q, reach, complete=False, p=p).items() if k is not None and r.ended]
        rows.sort(key=lambda r: (-r.ended, -r.received))
        if len(rows) > TOP:
            cut = (-rows[TOP - 1].ended, -rows[TOP - 1].received)
            rows = [r for r in rows if (-r.ended, -r.received) <= cut]
    model = Mediator if q.by == stats.Dimension.MEDIATOR else Organisation
    names = dict(db.session.execute(sa.select(model.id, model.name).where(model.id.in_([r.key for r in rows]))).all())
    for r in rows:
        r.name = names.get(r.key, str(r.key))
    return sorted(rows, key=lambda r: (-r.ended, -r.received, r.name))[:TOP]


def _ranked_in_rollup(q: stats.Query, reach: stats.Reach, p: stats.Plan) -> list[stats.Row]:
    """The groups ranked within TOP by (ended, received), ties at the cut included (`rank()` gives tied
    groups one rank, and a group below the cut has at least TOP better ones): a court's thousands of
    mediators never leave the database."""
    t = CaseStatRollup
    key = stats.group_key(q.by, t)
    ended, received = sa.func.sum(t.ended), sa.func.sum(t.cases)
    ranked = reach.apply(sa.select(key.label("k"), ended.label("ended"), received.label("received"),
                                   sa.func.rank().over(order_by=(ended.desc(), received.desc())).label("rank")),
                         t).where(t.dim == stats.ROLLUP_DIM[q.by], t.month.in_(p.months), key.is_not(None))
    ranked = ranked.group_by(key).having(ended > 0).subquery()
    return [stats.Row(k, "", received=int(n), ended=int(e)) for k, e, n in db.session.execute(
        sa.select(ranked.c.k, ranked.c.ended, ranked.c.received).where(ranked.c.rank <= TOP))]


def build(reach: stats.Reach, today: dt.date, summary: bool = True) -> Board:
    start = first_month(today)
    months = stats.months_between(start, today)
    p = stats.plan(start, today, reach) if summary else stats.Plan((), None)
    by_month = stats.figures(stats.Query(by=stats.Dimension.MONTH, start=start, end=today), reach,
                             complete=False, p=p)
    none = stats.Row(None, "")
    ended = [by_month.get(m, none).ended for m in months]
    terminated = [by_month.get(m, none).terminated for m in months]
    open_ = [by_month.get(m, none).received - ended[i] - terminated[i] for i, m in enumerate(months)]
    short = [m[2:].replace("-", ".") for m in months]
    per_month = charts.stacked_bars(short, [
        charts.Series(_("Ended with agreement"), ended, ENDED_COLOUR),
        charts.Series(_("Terminated"), terminated, TERMINATED_COLOUR),
        charts.Series(_("Not concluded"), open_, OPEN_COLOUR),
    ], _("Cases per month by outcome"))
    rates = [e / (e + t) if e + t else None for e, t in zip(ended, terminated)]
    trend = charts.line(short, rates, _("Success rate by month"))

    q = stats.Query(by=stats.Dimension.MEDIATOR, start=start, end=today)
    top_m = top(q, reach, p)
    top_o = top(stats.Query(by=stats.Dimension.ORGANISATION, start=start, end=today), reach, p)

    # open cases only: bounded by the flow, not by history (ix_case_open)
    overdue_cases = sa.and_(stats.is_open(), Case.deadline < today)
    # grouped on the index's own mediator_id, the ten named afterwards (a join would look up every case's)
    overdue = reach.apply(sa.select(Case.mediator_id, sa.func.count()).where(overdue_cases, Case.mediator_id.is_not(None))
                          .group_by(Case.mediator_id).order_by(sa.func.count().desc(), Case.mediator_id).limit(TOP))
    overdue_counts = db.session.execute(overdue).all()
    names = dict(db.session.execute(sa.select(Mediator.id, Mediator.name).where(
        Mediator.id.in_([m for m, _n in overdue_counts]))).all()) if overdue_counts else {}
    overdue_rows = [(names.get(m, str(m)), n) for m, n in overdue_counts]
    overdue_total = db.session.scalar(reach.apply(sa.select(sa.func.count()).select_from(Case)
                                                  .where(overdue_cases)))
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
