"""化解统计 from a summary that does not grow with history (issue 17 item 6).

    case / court_application flush ──► case_stat_dirty (court, month)     same transaction
    worker round / refresh()       ──► case_stat_month rows of the bucket  delete + insert from the case rows
    report                         ──► clean whole months: case_stat_month
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

Exactness rests on every change going through the ORM (the flush listener);
rows written around it — a bulk COPY, a restore — need `flask stats rebuild`,
and `flask stats verify` compares every clean bucket with the case rows.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from ..models import Case, CaseStatDirty, CaseStatMonth, CourtApplication
from .statistics import AFTER_MEDIATION, closed_month, days_between, month_first, month_key, next_month

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
    court_id, month = bucket
    first = month_first(month)
    stmt = sa.select(
        Case.case_type, Case.mediator_id, Case.organisation_id, Case.status, Case.closed_at,
        days_between(Case.closed_at, Case.received_on),
        _has_application("confirmed"), _has_application("filed"),
    ).where(_court_is(Case.court_id, court_id), Case.received_on >= first, Case.received_on < next_month(first))
    rows: dict[tuple, list] = defaultdict(lambda: [0, 0.0, 0, 0])
    for case_type, mediator_id, organisation_id, status, closed_at, days, confirmed, filed in session.execute(stmt):
        figures = rows[(case_type, mediator_id, organisation_id, status, closed_month(closed_at))]
        figures[0] += 1
        figures[1] += float(days) if closed_at is not None else 0.0
        figures[2] += 1 if confirmed else 0
        figures[3] += 1 if filed else 0
    return dict(rows)


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
        session.execute(sa.delete(CaseStatMonth).where(_court_is(CaseStatMonth.court_id, court_id),
                                                       CaseStatMonth.month == month))
        rows = [{"court_id": court_id, "month": month, "case_type": k[0], "mediator_id": k[1],
                 "organisation_id": k[2], "status": k[3], "closed_month": k[4], "cases": f[0], "days": f[1],
                 "confirmed": f[2], "filed": f[3]} for k, f in compute(session, (court_id, month)).items()]
        if rows:
            session.execute(sa.insert(CaseStatMonth), rows)
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
    summary = {tuple(r) for r in session.execute(sa.select(CaseStatMonth.court_id, CaseStatMonth.month).distinct())}
    return cases | summary


def rebuild(session) -> int:
    """Every bucket from scratch (after rows were written around the ORM). The number of buckets."""
    _lock(session)
    session.execute(sa.delete(CaseStatMonth))
    session.execute(sa.delete(CaseStatDirty))
    return refresh(session, all_buckets(session))


def dirty_buckets(session) -> set[Bucket]:
    return {tuple(r) for r in session.execute(sa.select(CaseStatDirty.court_id, CaseStatDirty.month).distinct())}


def verify(session) -> list[str]:
    """Every clean bucket compared with the case rows: one Chinese line per difference."""
    dirty = dirty_buckets(session)
    out = []
    for bucket in sorted(all_buckets(session) - dirty, key=lambda b: (b[1], b[0] is None, b[0] or 0)):
        want, have = compute(session, bucket), stored(session, bucket)
        for key in sorted(set(want) | set(have), key=repr):
            w, h = want.get(key), have.get(key)
            if w is None or h is None or w[0] != h[0] or w[2:] != list(h[2:]) or abs(w[1] - h[1]) > 1e-6:
                out.append(_("Court %(court)s, month %(month)s, %(row)s: summary %(have)s, case rows %(want)s",
                             court=bucket[0] if bucket[0] is not None else "-", month=bucket[1],
                             row=_row_words(key), have=_figures_words(h), want=_figures_words(w)))
    return out


def _row_words(key) -> str:
    case_type, mediator_id, organisation_id, status, closed = key
    return _("type %(type)s, mediator %(mediator)s, organisation %(organisation)s, status %(status)s, "
             "concluded %(closed)s", type=case_type.label, mediator=mediator_id or "-",
             organisation=organisation_id or "-", status=status.label, closed=closed or "-")


def _figures_words(figures) -> str:
    if figures is None:
        return _("none")
    return _("%(cases)d cases, %(days).2f days, %(confirmed)d confirmed, %(filed)d filed",
             cases=figures[0], days=figures[1], confirmed=figures[2], filed=figures[3])
