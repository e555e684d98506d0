"""The statistics summary (issue 17 item 6): reports read clean whole months from case_stat_month and
must give exactly what the case rows give, for any period, before and after the worker refreshed it."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app import clock
from app.enums import ApplicationKind, ApplicationStatus, CaseStatus, CaseType
from app.extensions import db
from app.models import Case, CaseStatDirty, CaseStatMonth, CaseStatRollup, Court, CourtApplication
from app.operations import Worker
from app.security import Scope
from app.workflows import case_lifecycle
from app.workflows import dashboard
from app.workflows import stat_summary
from app.workflows import statistics as stats
from app.workflows.statistics import month_key

from .case_factory import make_case, mediator_actor, update_case
from .helpers import app_ctx

D = dt.date
M, E, X, A = CaseStatus.MEDIATING, CaseStatus.ENDED, CaseStatus.TERMINATED, CaseStatus.TO_ASSIGN
FIGURES = ("received", "mediating", "ended", "terminated", "overdue", "confirmed", "filed")


def T(*wall) -> dt.datetime:
    return dt.datetime(*wall, tzinfo=clock.BEIJING).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _apply(app, case_id, kind, status):
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        db.session.add(CourtApplication(case_id=case_id, court_id=case.court_id or 1, kind=kind, status=status,
                                        applicant_name="赵一", applied_via="party", applied_at=T(2024, 7, 1)))
        db.session.commit()


#: (status, received, closed, court, mediator phone, type, organisation)
CASES = [
    (E, D(2023, 11, 3), T(2023, 11, 20), "京0105", "13900000001", CaseType.PRE_LITIGATION, None),
    (X, D(2023, 11, 30), T(2023, 12, 1, 1), "京0105", "13900000001", CaseType.PRE_LITIGATION, None),
    (E, D(2023, 12, 1), T(2023, 12, 31, 23, 30), "京0105", "13900000002", CaseType.IN_LITIGATION, None),
    (E, D(2023, 12, 15), T(2024, 1, 1, 0, 30), "京0105", "13900000002", CaseType.PRE_LITIGATION, None),
    (X, D(2023, 12, 20), T(2024, 2, 14), "京0105", "13900000001", CaseType.IN_LITIGATION, None),
    (M, D(2023, 12, 28), None, "京0105", "13900000001", CaseType.PRE_LITIGATION, None),
    (A, D(2024, 1, 2), None, "京0105", None, CaseType.PRE_LITIGATION, None),
    (E, D(2024, 1, 10), T(2024, 1, 15, 12), "京0105", "13900000002", CaseType.PRE_LITIGATION, None),
    (E, D(2024, 1, 31), T(2024, 3, 10), "京0105", "13900000001", CaseType.PRE_LITIGATION, None),
    (X, D(2024, 1, 20), T(2024, 1, 25), "京0105", None, CaseType.PRE_LITIGATION, "朝阳区商事调解中心"),
    (E, D(2024, 2, 1), T(2024, 2, 29, 23, 59), "京0105", "13900000001", CaseType.IN_LITIGATION, None),
    (M, D(2024, 2, 14), None, "京0105", "13900000002", CaseType.PRE_LITIGATION, None),
    (E, D(2024, 2, 20), T(2024, 4, 2), "京0108", "13900000011", CaseType.PRE_LITIGATION, None),
    (X, D(2023, 12, 5), T(2023, 12, 9), "京0108", "13900000011", CaseType.PRE_LITIGATION, None),
    (E, D(2024, 3, 5), T(2024, 3, 6), "京0108", "13900000011", CaseType.IN_LITIGATION, None),
    (M, D(2024, 3, 9), None, "京0108", "13900000011", CaseType.PRE_LITIGATION, None),
]

PERIODS = [
    (D(2023, 11, 1), D(2024, 3, 31)),    # whole months across the year's end
    (D(2023, 12, 1), D(2023, 12, 31)),   # one whole month
    (D(2023, 11, 15), D(2024, 2, 10)),   # partial at both edges
    (D(2023, 12, 1), D(2024, 2, 14)),    # ends mid-month: the conclusions of that month from the case rows
    (D(2023, 11, 1), D(2024, 1, 1)),     # ends on a month's first day
    (D(2024, 1, 1), D(2024, 1, 31)),
    (D(2024, 1, 31), D(2024, 2, 1)),     # two partial days
    (D(2023, 10, 1), D(2024, 12, 31)),   # wider than the data
    (D(2024, 2, 1), D(2024, 2, 29)),     # leap February
]


@pytest.fixture()
def varied(app):
    ids = []
    for status, received, closed, court, phone, case_type, org in CASES:
        kw = {"organisation": org} if org else {}
        cid = make_case(app, status=status, court_code=court, mediator_phone=phone or "13900000001",
                        case_type=case_type, **kw)
        update_case(app, cid, received_on=received, closed_at=closed, deadline=received + dt.timedelta(days=30))
        ids.append(cid)
    internet = make_case(app, status=CaseStatus.TO_ACCEPT)  # no court yet
    update_case(app, internet, received_on=D(2024, 1, 5), deadline=D(2024, 1, 20))
    ids.append(internet)
    _apply(app, ids[0], ApplicationKind.JUDICIAL_CONFIRMATION, ApplicationStatus.CONFIRMED)
    _apply(app, ids[2], ApplicationKind.FILING, ApplicationStatus.ACCEPTED)
    _apply(app, ids[7], ApplicationKind.JUDICIAL_CONFIRMATION, ApplicationStatus.CONFIRMED)
    _apply(app, ids[7], ApplicationKind.FILING, ApplicationStatus.FILED)
    _apply(app, ids[10], ApplicationKind.JUDICIAL_CONFIRMATION, ApplicationStatus.REJECTED)  # not counted
    _apply(app, ids[12], ApplicationKind.FILING, ApplicationStatus.ACCEPTED)
    return ids


def _scopes(app):
    with app_ctx(app):
        cy = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    return [Scope(portal=None, is_platform=True), Scope(portal=None, court_id=cy, is_court_admin=True)]


def _shape(report):
    def one(row):
        return (row.key, row.name, tuple(getattr(row, f) for f in FIGURES), round(row.total_days, 6))
    return [one(r) for r in report.rows], one(report.total)


def _assert_same_as_raw(app, periods=PERIODS, expect_summary=None):
    used = 0
    with app.test_request_context():
        for scope in _scopes(app):
            reach = stats.reach_for(scope)
            for start, end in periods:
                for by in stats.DIMENSIONS:
                    q = stats.Query(by=by, start=start, end=end)
                    assert _shape(stats.report(q, reach)) == _shape(stats.report(q, reach, summary=False)), (
                        scope, start, end, by)
                q = stats.Query(by=stats.Dimension.MEDIATOR, start=start, end=end, case_type=CaseType.PRE_LITIGATION)
                assert _shape(stats.report(q, reach)) == _shape(stats.report(q, reach, summary=False))
                used += len(stats.plan(start, end).months)
    if expect_summary is not None:
        assert (used > 0) is expect_summary


def _refresh(app):
    with app_ctx(app):
        done = stat_summary.refresh_dirty(db.session, limit=10_000)
        db.session.commit()
        return done


def test_before_the_worker_ran_every_touched_month_is_dirty_and_read_from_the_case_rows(app, varied):
    with app_ctx(app):
        dirty = {m for _c, m in stat_summary.dirty_buckets(db.session)}
    assert {"2023-11", "2023-12", "2024-01", "2024-02", "2024-03"} <= dirty
    with app.test_request_context():
        assert stats.plan(D(2023, 11, 1), D(2024, 3, 31)).months == ()
    _assert_same_as_raw(app)


def test_after_the_refresh_whole_months_come_from_the_summary_and_match_the_case_rows(app, varied):
    assert _refresh(app) > 0
    with app_ctx(app):
        assert not stat_summary.dirty_buckets(db.session)
        assert db.session.scalar(sa.select(sa.func.sum(CaseStatMonth.cases)).where(
            CaseStatMonth.month.in_(["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]))) == len(CASES) + 1
        assert stat_summary.verify(db.session) == []
    _assert_same_as_raw(app, expect_summary=True)


def test_the_worker_round_refreshes_the_dirty_buckets(app, varied):
    with app_ctx(app):
        assert Worker(name="stats-test").round()
        assert not stat_summary.dirty_buckets(db.session)
    _assert_same_as_raw(app, expect_summary=True)


def test_a_change_after_the_refresh_marks_its_month_dirty_and_the_report_stays_exact(app, varied):
    _refresh(app)
    with app_ctx(app):
        # 继续调解 of a terminated case (an ORM transition) and a deleted application, in one transaction
        case = db.session.get(Case, varied[4])
        case_lifecycle.apply(case, "resume", mediator_actor())
        db.session.execute(sa.delete(CourtApplication).where(CourtApplication.case_id == varied[2]))
        db.session.commit()
        assert stat_summary.dirty_buckets(db.session) == {(case.court_id, "2023-12")}
    _assert_same_as_raw(app, expect_summary=True)
    _refresh(app)
    _assert_same_as_raw(app, expect_summary=True)
    with app_ctx(app):
        assert stat_summary.verify(db.session) == []


def test_moving_a_case_to_another_month_marks_both_months(app, varied):
    _refresh(app)
    with app_ctx(app):
        case = db.session.get(Case, varied[7])
        case.received_on = D(2024, 3, 1)
        db.session.commit()
        assert stat_summary.dirty_buckets(db.session) == {(case.court_id, "2024-01"), (case.court_id, "2024-03")}
    _assert_same_as_raw(app)
    _refresh(app)
    _assert_same_as_raw(app, expect_summary=True)


def test_a_stale_summary_without_its_dirty_mark_is_caught_by_verify(app, varied):
    _refresh(app)
    with app_ctx(app):
        db.session.execute(sa.update(CaseStatMonth).where(CaseStatMonth.month == "2024-01")
                           .values(cases=CaseStatMonth.cases + 1))
        db.session.commit()
        differences = stat_summary.verify(db.session)
    assert differences and all("2024-01" in line and "汇总表" in line for line in differences)
    result = app.test_cli_runner().invoke(args=["stats", "verify"])
    assert result.exit_code == 1
    assert "不一致" in result.output and "2024-01" in result.output
    rebuilt = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert rebuilt.exit_code == 0 and "已重建" in rebuilt.output
    ok = app.test_cli_runner().invoke(args=["stats", "verify"])
    assert ok.exit_code == 0 and "一致" in ok.output
    _assert_same_as_raw(app, expect_summary=True)


def test_a_summary_row_for_a_month_without_cases_is_a_difference(app, varied):
    _refresh(app)
    with app_ctx(app):
        db.session.add(CaseStatMonth(court_id=None, month="2019-05", case_type=CaseType.INTERNET,
                                     status=CaseStatus.ENDED, cases=3, days=1.0, confirmed=0, filed=0))
        db.session.commit()
        differences = stat_summary.verify(db.session)
    assert len(differences) == 1 and "2019-05" in differences[0] and "无" in differences[0]


def test_the_plan_reads_only_clean_whole_months_from_the_summary(app, varied):
    _refresh(app)
    with app.test_request_context():
        assert stats.plan(D(2023, 11, 15), D(2024, 2, 10)).months == ("2023-12", "2024-01")
        p = stats.plan(D(2023, 12, 1), D(2024, 2, 14))
        assert p.months == ("2023-12", "2024-01") and p.split_month == "2024-02"
        assert stats.plan(D(2023, 12, 1), D(2024, 1, 31)).split_month is None
        assert stats.plan(D(2024, 1, 31), D(2024, 2, 1)).months == ()
    with app_ctx(app):
        db.session.get(Case, varied[7]).closed_at = T(2024, 1, 16)
        db.session.commit()
    with app.test_request_context():
        assert stats.plan(D(2023, 11, 15), D(2024, 2, 10)).months == ("2023-12",)


#: dashboard days: mid-month (its conclusions from the case rows), a month's last and first day, later
DASHBOARD_DAYS = [D(2024, 3, 15), D(2024, 2, 29), D(2024, 3, 1), D(2024, 1, 31), D(2024, 11, 30)]
BOARD_PARTS = ("month_rows", "per_month", "success_trend", "top_mediators", "top_organisations",
               "overdue_by_mediator", "overdue_total")


def _board(board):
    return {part: str(getattr(board, part)) for part in BOARD_PARTS}


def _assert_dashboard_same_as_raw(app, monkeypatch, expect_summary=None):
    used = 0
    with app.test_request_context():
        for scope in _scopes(app):
            reach = stats.reach_for(scope)
            for top in (1, 2, dashboard.TOP):  # a short list cuts through ties: the cut-off must rank as the report
                with monkeypatch.context() as m:
                    m.setattr(dashboard, "TOP", top)
                    for day in DASHBOARD_DAYS:
                        assert _board(dashboard.build(reach, day)) == _board(
                            dashboard.build(reach, day, summary=False)), (scope, top, day)
            used += sum(len(stats.plan(dashboard.first_month(day), day).months) for day in DASHBOARD_DAYS)
    if expect_summary is not None:
        assert (used > 0) is expect_summary


def test_the_dashboard_counts_exactly_what_the_case_rows_count_before_and_after_changes(app, varied, monkeypatch):
    _assert_dashboard_same_as_raw(app, monkeypatch)  # every month with cases dirty
    _refresh(app)
    _assert_dashboard_same_as_raw(app, monkeypatch, expect_summary=True)
    with app_ctx(app):
        # 继续调解 of a terminated case, one moved to another month, one concluded on a dashboard day
        case_lifecycle.apply(db.session.get(Case, varied[4]), "resume", mediator_actor())
        db.session.get(Case, varied[7]).received_on = D(2024, 3, 1)
        moved = db.session.get(Case, varied[11])
        moved.status, moved.closed_at = CaseStatus.ENDED, T(2024, 3, 10)
        db.session.commit()
    _assert_dashboard_same_as_raw(app, monkeypatch)
    _refresh(app)
    _assert_dashboard_same_as_raw(app, monkeypatch, expect_summary=True)


def test_the_dashboard_reads_clean_whole_months_from_the_summary(app, varied):
    """A summary row changed without its dirty mark shows on the dashboard: its clean months come from the
    summary, not from the case rows (and `flask stats verify` is what catches such a row)."""
    _refresh(app)
    day = D(2024, 3, 15)
    reach = stats.reach_for(_scopes(app)[0])
    with app.test_request_context():
        before = dashboard.build(reach, day)
    with app_ctx(app):
        db.session.execute(sa.update(CaseStatMonth).where(CaseStatMonth.month == "2024-01",
                                                          CaseStatMonth.status == CaseStatus.ENDED)
                           .values(cases=CaseStatMonth.cases + 5))
        db.session.commit()
    with app.test_request_context():
        after = dashboard.build(reach, day)
        raw = dashboard.build(reach, day, summary=False)
    jan = lambda board: next(r for r in board.month_rows if r[0] == "2024-01")  # noqa: E731
    assert jan(after)[1] == jan(before)[1] + 5 and jan(raw) == jan(before)
    assert _board(raw) == _board(before)


def test_overdue_writes_the_open_statuses_into_the_sql_so_the_partial_index_applies(app):
    """逾期数 looks only at open cases. PostgreSQL uses the partial index ix_case_open only when it can see
    that the query's condition is the index's own, which a bound parameter hides from a prepared
    statement's generic plan: the statuses are literals, the ones the index (and migration 0020) name."""
    from app.models import OPEN_CASES_SQL

    with app.test_request_context():
        stmt = sa.select(sa.func.count()).select_from(Case).where(stats.is_open(), Case.deadline < D(2024, 1, 1))
        sql = str(stmt.compile(db.session.get_bind(), compile_kwargs={"render_postcompile": True}))
    assert "IN ('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED')" in sql
    assert OPEN_CASES_SQL.endswith("('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED')")
    assert [s.name for s in stats.OPEN] == ["TO_ASSIGN", "TO_ACCEPT", "MEDIATING", "CLOSE_REQUESTED"]


def test_rebuild_from_scratch_matches_the_case_rows(app, varied):
    with app_ctx(app):
        db.session.execute(sa.delete(CaseStatDirty))
        db.session.execute(sa.delete(CaseStatMonth))
        assert stat_summary.rebuild(db.session) >= 5
        db.session.commit()
        assert stat_summary.verify(db.session) == []
    _assert_same_as_raw(app, expect_summary=True)


def _summary_tables():
    rows = []
    for table in (CaseStatMonth, CaseStatRollup):
        columns = [c for c in table.__table__.c if c.name != "id"]
        for r in db.session.execute(sa.select(*columns)):
            rows.append((table.__tablename__, *[round(v, 6) if isinstance(v, float) else v for v in r]))
    return sorted(rows, key=repr)


def test_the_set_based_rebuild_writes_what_refreshing_every_bucket_writes(app, varied):
    """`rebuild` is one INSERT … SELECT per table, `refresh` recomputes bucket by bucket in Python: the
    same rows, bounds and rollup. Includes a case with no court, after-mediation applications, and a
    conclusion at 00:30 Beijing on 1 April (16:30 UTC on 31 March): April's."""
    late = make_case(app, status=E, court_code="京0105", mediator_phone="13900000002")
    update_case(app, late, received_on=D(2024, 3, 10), closed_at=T(2024, 4, 1, 0, 30), deadline=D(2024, 4, 9))
    with app_ctx(app):
        stat_summary.refresh(db.session, stat_summary.all_buckets(db.session))
        by_bucket = _summary_tables()
        n = stat_summary.rebuild(db.session)
        assert _summary_tables() == by_bucket
        assert n == len({(r[1], r[2]) for r in by_bucket if r[0] == "case_stat_rollup" and r[3] == "court"})
        assert db.session.scalar(sa.select(CaseStatMonth.closed_month).where(
            CaseStatMonth.month == "2024-03", CaseStatMonth.closed_month == "2024-04")) == "2024-04"
        db.session.commit()
        assert stat_summary.verify(db.session) == []


# --- the rollup: periods that end today or later (case_stat_rollup) -------------------------------------------

def _today_cases(app):
    """Cases of the current month: received today, one of them concluded a minute ago."""
    now = clock.utcnow() - dt.timedelta(minutes=1)
    ended = make_case(app, status=E, court_code="京0105", mediator_phone="13900000002")
    update_case(app, ended, received_on=clock.today(), closed_at=now, deadline=clock.today() + dt.timedelta(days=30))
    open_ = make_case(app, status=M, court_code="京0105", mediator_phone="13900000001")
    update_case(app, open_, received_on=clock.today(), deadline=clock.today() - dt.timedelta(days=1))  # overdue
    return ended, open_


def _rollup_periods():
    today = clock.today()
    return [(D(2023, 11, 15), today),   # starts mid-month, fewer days before it: the month less those days
            (D(2023, 11, 20), today),   # more days before the start than in: those days from the case rows
            (D(2023, 12, 1), today), (D(2024, 1, 31), today), (today.replace(day=1), today),
            (D(2023, 11, 15), today + dt.timedelta(days=40))]


def test_a_period_ending_today_reads_the_rollup_and_matches_the_case_rows(app, varied):
    """SPEC §6 figures for the default report period (to today): the rollup, exact against the case rows."""
    _today_cases(app)
    _refresh(app)
    today = clock.today()
    with app.test_request_context():
        for scope in _scopes(app):
            reach = stats.reach_for(scope)
            p = stats.plan(D(2023, 11, 15), today, reach)
            assert p.rollup and p.split_month is None and "2023-11" in p.months and month_key(today) in p.months
            assert p.minus == ((D(2023, 11, 1), D(2023, 11, 15)),)
            assert "2023-11" not in stats.plan(D(2023, 11, 20), today, reach).months
            assert not stats.plan(D(2023, 11, 15), today, reach, CaseType.PRE_LITIGATION).rollup  # no type split
            # an earlier end: the rollup only when no case of its months concluded or was received later
            assert not stats.plan(D(2023, 11, 15), D(2024, 2, 14), reach).rollup
        assert stats.plan(D(2023, 11, 15), D(2024, 3, 31), stats.reach_for(_scopes(app)[1])).rollup
        assert not stats.plan(D(2023, 11, 15), D(2024, 3, 31), stats.reach_for(_scopes(app)[0])).rollup  # 4-02
    _assert_same_as_raw(app, _rollup_periods(), expect_summary=True)
    with app.test_request_context():
        cy = stats.reach_for(_scopes(app)[1])
        month = stats.report(stats.Query(by=stats.Dimension.MEDIATOR, start=today.replace(day=1), end=today), cy)
        received = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.court_id == cy.court_ids[0], Case.received_on >= today.replace(day=1)))
    assert month.total.received == received >= 2 and month.total.ended >= 1 and month.total.overdue >= 1


def test_the_rollup_is_not_used_once_a_case_of_its_months_concluded_after_the_period(app, varied):
    """A 结案时间 after the period's end (a clock set wrong) or a 收案日期 after it: the rollup would count
    the case as concluded or received, so the plan falls back to case_stat_month and stays exact."""
    ended, open_ = _today_cases(app)
    update_case(app, ended, closed_at=clock.utcnow() + dt.timedelta(days=2))
    _refresh(app)
    today = clock.today()
    with app.test_request_context():
        reach = stats.reach_for(_scopes(app)[1])
        assert not stats.plan(D(2023, 11, 15), today, reach).rollup
        assert stats.plan(D(2023, 11, 15), today + dt.timedelta(days=3), reach).rollup
    update_case(app, ended, closed_at=clock.utcnow() - dt.timedelta(minutes=1))
    update_case(app, open_, received_on=today + dt.timedelta(days=1))
    _refresh(app)
    with app.test_request_context():
        assert not stats.plan(D(2023, 11, 15), today, stats.reach_for(_scopes(app)[1])).rollup
    _assert_same_as_raw(app, _rollup_periods(), expect_summary=True)


def test_a_ministry_reach_does_not_read_the_rollup(app, varied):
    _refresh(app)
    with app.test_request_context():
        assert not stats.plan(D(2023, 11, 15), clock.today(), stats.Reach(organisation_ids=(1,))).rollup


def test_the_dashboard_on_its_own_day_reads_the_rollup_and_matches_the_case_rows(app, varied, monkeypatch):
    """The dashboard ends today: on each dashboard day (the clock set to it) its months come from the rollup
    where no case of them concluded later, else from case_stat_month, and always as the case rows count."""
    _refresh(app)
    rollups, ranked = 0, []
    in_database = dashboard._ranked_in_rollup
    monkeypatch.setattr(dashboard, "_ranked_in_rollup", lambda *a: ranked.append(a) or in_database(*a))
    for day in DASHBOARD_DAYS:
        with monkeypatch.context() as m:
            m.setattr(clock, "today", lambda day=day: day)
            with app.test_request_context():
                for scope in _scopes(app):
                    reach = stats.reach_for(scope)
                    rollups += stats.plan(dashboard.first_month(day), day, reach).rollup
                    for top in (1, 2, dashboard.TOP):
                        m.setattr(dashboard, "TOP", top)
                        assert _board(dashboard.build(reach, day)) == _board(
                            dashboard.build(reach, day, summary=False)), (scope, top, day)
    assert 0 < rollups < 2 * len(DASHBOARD_DAYS)  # 2024-04-02's conclusion keeps the platform's March off it
    assert ranked  # the top tens ranked by the database where the rollup held the whole period


def test_a_stale_rollup_row_or_bound_is_caught_by_verify(app, varied):
    _refresh(app)
    with app_ctx(app):
        db.session.execute(sa.update(CaseStatRollup).where(CaseStatRollup.month == "2024-01",
                                                           CaseStatRollup.dim == "mediator")
                           .values(ended=CaseStatRollup.ended + 1))
        db.session.execute(sa.update(CaseStatRollup).where(CaseStatRollup.month == "2023-12",
                                                           CaseStatRollup.dim == "court")
                           .values(closed_until=None))
        db.session.commit()
        differences = stat_summary.verify(db.session)
    assert any("2024-01" in line and "调解员" in line for line in differences), differences
    assert any("2023-12" in line and "最晚" in line for line in differences), differences
    rebuilt = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert rebuilt.exit_code == 0
    with app_ctx(app):
        assert stat_summary.verify(db.session) == []


def _rollup_rows(app):
    with app_ctx(app):
        t = CaseStatRollup
        return sorted((r.court_id or 0, r.month, r.dim, str(r.case_type), r.mediator_id or 0, r.organisation_id or 0,
                       r.cases, r.still_open, r.ended, r.terminated, round(r.days, 6), r.confirmed, r.filed,
                       r.received_until, r.closed_until) for r in db.session.scalars(sa.select(t)))


def test_the_rollup_migration_fills_it_from_the_summary_and_downgrades(fresh_app):
    from flask_migrate import downgrade, upgrade

    for status, received, closed, court, phone, case_type, org in CASES[:8]:
        cid = make_case(fresh_app, status=status, court_code=court, mediator_phone=phone or "13900000001",
                        case_type=case_type)
        update_case(fresh_app, cid, received_on=received, closed_at=closed, deadline=received + dt.timedelta(days=30))
    _refresh(fresh_app)
    before = _rollup_rows(fresh_app)
    assert len({r[1] for r in before}) >= 3 and {r[2] for r in before} == {"court", "mediator", "organisation",
                                                                            "case_type"}
    with fresh_app.app_context():
        downgrade(revision="0024_i17janus_sfu_room")  # the revision before 0025_i17rollup_stats
        assert "case_stat_rollup" not in sa.inspect(db.engine).get_table_names()
        upgrade()
        db.session.remove()
    assert _rollup_rows(fresh_app) == before
    with app_ctx(fresh_app):
        assert stat_summary.verify(db.session) == []


def test_another_courts_dirty_month_leaves_a_courts_own_month_in_the_summary(app, varied):
    """A transition in 京0108 marks its (court, month) dirty: 京0105's report still reads that month from
    the summary, the platform's reads it from the case rows, and both stay exact."""
    _refresh(app)
    with app_ctx(app):
        db.session.get(Case, varied[14]).closed_at = T(2024, 3, 7)  # 京0108, received 2024-03
        db.session.commit()
        assert {m for _c, m in stat_summary.dirty_buckets(db.session)} == {"2024-03"}
    with app.test_request_context():
        platform, court = (stats.reach_for(s) for s in _scopes(app))
        for reach, has_march in ((court, True), (platform, False)):
            for end in (D(2024, 3, 31), clock.today()):
                assert ("2024-03" in stats.plan(D(2024, 1, 1), end, reach).months) is has_march, (reach, end)
    _assert_same_as_raw(app, [(D(2024, 1, 1), D(2024, 3, 31)), (D(2024, 1, 1), clock.today())], expect_summary=True)
