"""化解统计 from a summary that does not grow with history (issue 17 item 6).

    case / court_application flush ──► case_stat_dirty (court, month)     same transaction
    worker round / refresh()       ──► case_stat_month and case_stat_rollup rows of the bucket
                                       delete + insert from the case rows
    report                         ──► clean whole months: case_stat_month, or case_stat_rollup to today
                                       partial edge months, dirty months: the case rows (as before)

A report counts the cohort received in [start, end] and where it stood at the
period's end (app/workflows/statistics.py). Everything it counts except 逾期数
depends only on the case's current state and the instant it concluded, so one
summary row per (court, received month, case type, mediator, organisation,
status, Beijing month of 结案时间) holds additive figures: cases, summed days,
司法确认 and 转立案 counts. For a period ending on day E in month M, a
concluded case counts as concluded when it concluded before month M, as
mediating when after it; the cases that concluded *within* M are read from the
case rows unless E is M's last day. 逾期数 (open cases past their deadline on a
day the period chooses) is always counted from the case rows: it looks only at
open cases, which do not accumulate with history.

Beside it, case_stat_rollup folds each bucket's rows per report dimension —
the month's total, each case type, mediator and organisation — without 结案
month, for the periods that end today or later (the default report period,
the dashboard): every concluded case then counts as concluded, so one row
per group and month is enough, and a year's report for a court reads a few
rows per mediator instead of one per status and 结案 month. Its total row
carries the bucket's latest 收案日期 and 结案时间, which statistics.rollup_plan
checks before trusting it. Both tables are rewritten together: bucket by bucket when the
worker refreshes dirty ones, all at once (set-based) by `flask stats rebuild`.

Exactness rests on every change going through the ORM (the flush listener);
rows written around it — a bulk COPY, a restore — need `flask stats rebuild`,
and `flask stats verify` compares every clean bucket with the case rows.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import clock
from ..enums import CaseStatus
from ..models import Case, CaseStatDirty, CaseStatMonth, CaseStatRollup, CourtApplication
from .statistics import (AFTER_MEDIATION, CONCLUDED, OPEN, beijing_month_of, closed_month, days_between,
                         month_first, month_key, month_of, next_month)

#: what a summary row depends on (deadline only feeds 逾期数, which is never summarised)
CASE_FIELDS = ("court_id", "received_on", "case_type", "mediator_id", "organisation_id", "status", "closed_at")
APPLICATION_FIELDS = ("case_id", "kind", "status")
#: two workers refreshing one bucket would both insert its rows: PostgreSQL serialises refreshes on this
ADVISORY_LOCK = 170006

Bucket = tuple[Optional[int], str]


# --- marking dirty in the changing transaction ---------------------------------------------

def _changed(obj, fields) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _old_and_new(obj, field):
    history = sa.inspect(obj).attrs[field].history
    return set(history.deleted or ()) | set(history.unchanged or ()) | set(history.added or ())


def _case_buckets(case: Case) -> set[Bucket]:
    courts = _old_and_new(case, "court_id") or {None}
    days = {d for d in _old_and_new(case, "received_on") if d is not None}
    return {(c, month_key(d)) for c in courts for d in days}


def after_flush(session, _flush_context) -> None:
    """Mark the (court, month) buckets of every case whose figures this flush may change."""
    buckets: set[Bucket] = set()
    case_ids: set[int] = set()
    for obj in session.new | session.deleted:
        if isinstance(obj, Case):
            buckets |= _case_buckets(obj)
        elif isinstance(obj, CourtApplication):
            case_ids |= {i for i in _old_and_new(obj, "case_id") if i is not None}
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, CASE_FIELDS):
            buckets |= _case_buckets(obj)
        elif isinstance(obj, CourtApplication) and _changed(obj, APPLICATION_FIELDS):
            case_ids |= {i for i in _old_and_new(obj, "case_id") if i is not None}
    if not (buckets or case_ids):
        return  # most flushes touch no case figure: no statement at all
    conn = session.connection()
    if case_ids:
        for court_id, received_on in conn.execute(
                sa.select(Case.court_id, Case.received_on).where(Case.id.in_(case_ids))):
            buckets.add((court_id, month_key(received_on)))
    _mark(conn, buckets)


def _mark(conn, buckets: set[Bucket]) -> None:
    if buckets:
        conn.execute(sa.insert(CaseStatDirty.__table__),
                     [{"court_id": c, "month": m} for c, m in sorted(buckets, key=repr)])


def _buckets_of_cases(conn, where) -> set[Bucket]:
    return {(c, month_key(d)) for c, d in conn.execute(
        sa.select(Case.court_id, Case.received_on).where(where).distinct())}


def on_execute(state):
    """A bulk `UPDATE`/`DELETE` of cases or applications (session.execute(sa.update(Case)...)) skips the flush:
    mark the buckets of the rows it touches, before (where they were) and after (where they are)."""
    if not (state.is_update or state.is_delete):
        return None
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is Case:
        ids_of = sa.select(Case.id)
    elif mapper is not None and mapper.class_ is CourtApplication:
        ids_of = sa.select(CourtApplication.case_id).select_from(CourtApplication)
    else:
        return None
    where = state.statement.whereclause
    conn = state.session.connection()
    ids = list(conn.scalars(ids_of.where(where) if where is not None else ids_of))
    buckets = _buckets_of_cases(conn, Case.id.in_(ids)) if ids else set()
    result = state.invoke_statement()
    if ids and state.is_update:
        buckets |= _buckets_of_cases(conn, Case.id.in_(ids))
    _mark(conn, buckets)
    return result


def install(session_class) -> None:
    """Listen on the application's session class (called by create_app; idempotent)."""
    if not sa.event.contains(session_class, "after_flush", after_flush):
        sa.event.listen(session_class, "after_flush", after_flush)
        sa.event.listen(session_class, "do_orm_execute", on_execute)


# --- recomputing ---------------------------------------------------------------------------

def _court_is(column, court_id):
    return column.is_(None) if court_id is None else column == court_id


def _has_application(figure: str):
    kind, statuses = AFTER_MEDIATION[figure]
    return sa.exists().where(CourtApplication.case_id == Case.id, CourtApplication.kind == kind,
                             CourtApplication.status.in_(statuses))


def compute(session, bucket: Bucket) -> dict[tuple, list]:
    """The summary rows of `bucket` from the case rows: natural key → [cases, days, confirmed, filed]."""
    return _compute(session, bucket)[0]


def _compute(session, bucket: Bucket):
    """compute()'s rows, and the bucket's latest 收案日期 and 结案时间 (the rollup's bounds)."""
    court_id, month = bucket
    first = month_first(month)
    stmt = sa.select(
        Case.case_type, Case.mediator_id, Case.organisation_id, Case.status, Case.closed_at,
        days_between(Case.closed_at, Case.received_on),
        _has_application("confirmed"), _has_application("filed"), Case.received_on,
    ).where(_court_is(Case.court_id, court_id), Case.received_on >= first, Case.received_on < next_month(first))
    rows: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0, 0])
    received_until = closed_until = None
    for case_type, mediator_id, organisation_id, status, closed_at, days, confirmed, filed, received_on in (
            session.execute(stmt)):
        figures = rows[(case_type, mediator_id, organisation_id, status, closed_month(closed_at))]
        figures[0] += 1
        figures[1] += float(days) if closed_at is not None else 0.0
        figures[2] += 1 if confirmed else 0
        figures[3] += 1 if filed else 0
        received_until = max(received_until or received_on, received_on)
        if closed_at is not None:
            closed_until = max(closed_until or closed_at, closed_at)
    return dict(rows), received_until, closed_until


#: the rollup's dimensions: which part of a summary row's key each one keeps (None: the bucket's total)
ROLLUP_DIMS = {"court": None, "case_type": 0, "mediator": 1, "organisation": 2}
ROLLUP_KEY_COLUMNS = {"case_type": "case_type", "mediator": "mediator_id", "organisation": "organisation_id"}
ROLLUP_FIGURES = ("cases", "still_open", "ended", "terminated", "days", "confirmed", "filed")


def fold(rows: dict[tuple, list]) -> dict[tuple, list]:
    """The rollup of a bucket's summary rows: (dim, key) → the ROLLUP_FIGURES."""
    out: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0.0, 0, 0])
    for (case_type, mediator_id, organisation_id, status, closed), (cases, days, confirmed, filed) in rows.items():
        concluded = status in CONCLUDED and closed is not None
        figures = (cases, cases if status in OPEN else 0, cases if concluded and status == CaseStatus.ENDED else 0,
                   cases if concluded and status == CaseStatus.TERMINATED else 0, days if concluded else 0.0,
                   confirmed, filed)
        parts = (case_type, mediator_id, organisation_id)
        for dim, index in ROLLUP_DIMS.items():
            total = out[(dim, None if index is None else parts[index])]
            for i, value in enumerate(figures):
                total[i] += value
    return dict(out)


def _rollup_rows(bucket: Bucket, rows: dict[tuple, list], received_until, closed_until) -> list[dict]:
    court_id, month = bucket
    out = []
    for (dim, key), figures in fold(rows).items():
        row = {"court_id": court_id, "month": month, "dim": dim, "case_type": None, "mediator_id": None,
               "organisation_id": None, "received_until": None, "closed_until": None,
               **dict(zip(ROLLUP_FIGURES, figures))}
        if dim == "court":
            row.update(received_until=received_until, closed_until=closed_until)
        else:
            row[ROLLUP_KEY_COLUMNS[dim]] = key
        out.append(row)
    return out


def stored_rollup(session, bucket: Bucket) -> dict[tuple, list]:
    court_id, month = bucket
    t = CaseStatRollup
    out: dict[tuple, list] = {}
    for r in session.execute(sa.select(t).where(_court_is(t.court_id, court_id), t.month == month)).scalars():
        key = (r.dim, None if r.dim == "court" else getattr(r, ROLLUP_KEY_COLUMNS[r.dim]))
        figures = [getattr(r, f) for f in ROLLUP_FIGURES]
        out[key] = [a + b for a, b in zip(out[key], figures)] if key in out else figures
    return out


def stored_bounds(session, bucket: Bucket) -> tuple:
    court_id, month = bucket
    t = CaseStatRollup
    return tuple(session.execute(sa.select(t.received_until, t.closed_until).where(
        _court_is(t.court_id, court_id), t.month == month, t.dim == "court")).first() or (None, None))


def stored(session, bucket: Bucket) -> dict[tuple, list]:
    court_id, month = bucket
    t = CaseStatMonth
    out: dict[tuple, list] = {}
    for r in session.execute(sa.select(t.case_type, t.mediator_id, t.organisation_id, t.status, t.closed_month,
                                       t.cases, t.days, t.confirmed, t.filed)
                             .where(_court_is(t.court_id, court_id), t.month == month)):
        key = tuple(r[:5])
        if key in out:  # a duplicated row is a difference too
            out[key] = [a + b for a, b in zip(out[key], r[5:])]
        else:
            out[key] = list(r[5:])
    return out


def _lock(session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})


def refresh(session, buckets: Iterable[Bucket]) -> int:
    """Recompute `buckets` from the case rows (delete + insert each) and clear their dirty marks
    read so far; flushes, never commits. The number of buckets."""
    _lock(session)
    buckets = set(buckets)
    for court_id, month in buckets:
        for table in (CaseStatMonth, CaseStatRollup):
            session.execute(sa.delete(table).where(_court_is(table.court_id, court_id), table.month == month))
        computed, received_until, closed_until = _compute(session, (court_id, month))
        rows = [{"court_id": court_id, "month": month, "case_type": k[0], "mediator_id": k[1],
                 "organisation_id": k[2], "status": k[3], "closed_month": k[4], "cases": f[0], "days": f[1],
                 "confirmed": f[2], "filed": f[3]} for k, f in computed.items()]
        if rows:
            session.execute(sa.insert(CaseStatMonth), rows)
            session.execute(sa.insert(CaseStatRollup),
                            _rollup_rows((court_id, month), computed, received_until, closed_until))
    return len(buckets)


def refresh_dirty(session, limit: int = 200) -> int:
    """The worker's part: refresh up to `limit` dirty buckets, oldest mark first, and drop the marks read.
    A mark written by a transaction that commits meanwhile has a higher id than those read, so it stays."""
    _lock(session)
    t = CaseStatDirty
    marks = session.execute(sa.select(t.court_id, t.month, sa.func.max(t.id)).group_by(t.court_id, t.month)
                            .order_by(sa.func.min(t.id)).limit(limit)).all()
    if not marks:
        return 0
    done = refresh(session, {(c, m) for c, m, _last in marks})
    for court_id, month, last in marks:
        session.execute(sa.delete(t).where(_court_is(t.court_id, court_id), t.month == month, t.id <= last))
    return done


def all_buckets(session) -> set[Bucket]:
    cases = {(c, month_key(d)) for c, d in session.execute(sa.select(Case.court_id, Case.received_on).distinct())}
    summary = {tuple(r) for table in (CaseStatMonth, CaseStatRollup)
               for r in session.execute(sa.select(table.court_id, table.month).distinct())}
    return cases | summary


def rebuild(session) -> int:
    """Every bucket from scratch (after rows were written around the ORM): the number of buckets.

    Set-based, the same rows `refresh` writes bucket by bucket (tests/test_stat_summary.py holds them
    equal): one INSERT … SELECT … GROUP BY over the case rows, one per rollup dimension over the summary,
    and the totals' bounds joined in. Bucket by bucket, the 1 M data set's 64,845 court-months took
    three statements each — the better part of an hour at 1 M cases."""
    _lock(session)
    for table in (CaseStatMonth, CaseStatRollup, CaseStatDirty):
        session.execute(sa.delete(table))
    session.execute(sa.insert(CaseStatMonth).from_select(_SUMMARY_COLUMNS, _summary_of_cases()))
    for dim in ROLLUP_DIMS:
        session.execute(sa.insert(CaseStatRollup).from_select(_ROLLUP_COLUMNS, _rollup_of_summary(dim)))
    return session.scalar(sa.select(sa.func.count()).select_from(
        sa.select(CaseStatRollup.id).where(CaseStatRollup.dim == "court").subquery()))


_SUMMARY_COLUMNS = ("court_id", "month", "case_type", "mediator_id", "organisation_id", "status", "closed_month",
                    "cases", "days", "confirmed", "filed")
_ROLLUP_COLUMNS = ("court_id", "month", "dim", "case_type", "mediator_id", "organisation_id", *ROLLUP_FIGURES,
                   "received_until", "closed_until")


def _summary_of_cases():
    """`_compute`'s rows for every bucket at once."""
    flags = [sa.func.max(sa.case((sa.and_(CourtApplication.kind == kind, CourtApplication.status.in_(statuses)),
                                  1), else_=0)).label(figure)
             for figure, (kind, statuses) in AFTER_MEDIATION.items()]
    applied = (sa.select(CourtApplication.case_id, *flags).group_by(CourtApplication.case_id).subquery())
    key = (Case.court_id, month_of(Case.received_on), Case.case_type, Case.mediator_id, Case.organisation_id,
           Case.status, beijing_month_of(Case.closed_at))
    return (sa.select(*key, sa.func.count(),
                      sa.func.sum(sa.case((Case.closed_at.is_not(None), days_between(Case.closed_at, Case.received_on)),
                                          else_=0.0)),
                      sa.func.coalesce(sa.func.sum(applied.c.confirmed), 0),
                      sa.func.coalesce(sa.func.sum(applied.c.filed), 0))
            .select_from(Case).outerjoin(applied, applied.c.case_id == Case.id).group_by(*key))


def _rollup_of_summary(dim: str):
    """`fold` in SQL: the rollup rows of one dimension for every bucket; the totals carry the bounds."""
    t = CaseStatMonth
    concluded = sa.and_(t.status.in_(CONCLUDED), t.closed_month.is_not(None))

    def cases_if(condition):
        return sa.func.sum(sa.case((condition, t.cases), else_=0))

    kept = ROLLUP_KEY_COLUMNS.get(dim)
    keys = [getattr(t, c) if c == kept else sa.null() for c in ("case_type", "mediator_id", "organisation_id")]
    stmt = sa.select(t.court_id, t.month, sa.literal(dim), *keys, sa.func.sum(t.cases), cases_if(t.status.in_(OPEN)),
                     cases_if(sa.and_(concluded, t.status == CaseStatus.ENDED)),
                     cases_if(sa.and_(concluded, t.status == CaseStatus.TERMINATED)),
                     sa.func.sum(sa.case((concluded, t.days), else_=0.0)), sa.func.sum(t.confirmed),
                     sa.func.sum(t.filed))
    group = [t.court_id, t.month] + ([getattr(t, kept)] if kept else [])
    if dim != "court":
        return stmt.add_columns(sa.null(), sa.null()).group_by(*group)
    bounds = (sa.select(Case.court_id, month_of(Case.received_on).label("month"),
                        sa.func.max(Case.received_on).label("received_until"),
                        sa.func.max(Case.closed_at).label("closed_until"))
              .group_by(Case.court_id, month_of(Case.received_on)).subquery())
    # coalesce, not IS NOT DISTINCT FROM (a case with no court yet has a bucket): PostgreSQL can hash
    # an equality, and nested-looped the other over every court-month
    same_court = sa.func.coalesce(bounds.c.court_id, -1) == sa.func.coalesce(t.court_id, -1)
    return (stmt.add_columns(sa.func.max(bounds.c.received_until), sa.func.max(bounds.c.closed_until))
            .outerjoin(bounds, sa.and_(same_court, bounds.c.month == t.month)).group_by(*group))


def dirty_buckets(session) -> set[Bucket]:
    return {tuple(r) for r in session.execute(sa.select(CaseStatDirty.court_id, CaseStatDirty.month).distinct())}


def verify(session) -> list[str]:
    """Every clean bucket compared with the case rows: one Chinese line per difference."""
    dirty = dirty_buckets(session)
    out = []
    for bucket in sorted(all_buckets(session) - dirty, key=lambda b: (b[1], b[0] is None, b[0] or 0)):
        court, month = bucket[0] if bucket[0] is not None else "-", bucket[1]
        want, received_until, closed_until = _compute(session, bucket)
        have = stored(session, bucket)
        for key in sorted(set(want) | set(have), key=repr):
            w, h = want.get(key), have.get(key)
            if w is None or h is None or w[0] != h[0] or w[2:] != list(h[2:]) or abs(w[1] - h[1]) > 1e-6:
                out.append(_("Court %(court)s, month %(month)s, %(row)s: summary %(have)s, case rows %(want)s",
                             court=court, month=month, row=_row_words(key), have=_figures_words(h),
                             want=_figures_words(w)))
        want_rollup, have_rollup = fold(want), stored_rollup(session, bucket)
        for key in sorted(set(want_rollup) | set(have_rollup), key=repr):
            w, h = want_rollup.get(key), have_rollup.get(key)
            if w is None or h is None or w[:4] + w[5:] != h[:4] + h[5:] or abs(w[4] - h[4]) > 1e-6:
                out.append(_("Court %(court)s, month %(month)s, %(row)s: summary %(have)s, case rows %(want)s",
                             court=court, month=month, row=_rollup_words(key), have=_rollup_figures_words(h),
                             want=_rollup_figures_words(w)))
        bounds = stored_bounds(session, bucket)
        if want and bounds != (received_until, closed_until):
            out.append(_("Court %(court)s, month %(month)s: the summary's latest receipt and conclusion are "
                         "%(have)s, the case rows' %(want)s", court=court, month=month,
                         have=_bounds_words(*bounds), want=_bounds_words(received_until, closed_until)))
    return out


def _row_words(key) -> str:
    case_type, mediator_id, organisation_id, status, closed = key
    return _("type %(type)s, mediator %(mediator)s, organisation %(organisation)s, status %(status)s, "
             "concluded %(closed)s", type=case_type.label, mediator=mediator_id or "-",
             organisation=organisation_id or "-", status=status.label, closed=closed or "-")


def _rollup_words(key) -> str:
    dim, value = key
    if dim == "court":
        return _("rollup: the month's total")
    if dim == "case_type":
        value = value.label if value is not None else "-"
    names = {"case_type": _("Case type"), "mediator": _("Mediator"), "organisation": _("Mediation organisation")}
    return _("rollup: %(dimension)s %(key)s", dimension=names[dim], key=value if value is not None else "-")


def _rollup_figures_words(figures) -> str:
    if figures is None:
        return _("none")
    return _("%(cases)d cases, %(open)d open, %(ended)d ended, %(terminated)d terminated, %(days).2f days, "
             "%(confirmed)d confirmed, %(filed)d filed", cases=figures[0], open=figures[1], ended=figures[2],
             terminated=figures[3], days=figures[4], confirmed=figures[5], filed=figures[6])


def _bounds_words(received_until, closed_until) -> str:
    return _("received until %(received)s, concluded until %(closed)s",
             received=received_until.isoformat() if received_until else "-",
             closed=clock.local(closed_until).strftime("%Y-%m-%d %H:%M:%S") if closed_until else "-")


def _figures_words(figures) -> str:
    if figures is None:
        return _("none")
    return _("%(cases)d cases, %(days).2f days, %(confirmed)d confirmed, %(filed)d filed",
             cases=figures[0], days=figures[1], confirmed=figures[2], filed=figures[3])
