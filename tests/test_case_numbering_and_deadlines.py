"""Case numbers [FAQ 5.2] and the working-day clocks (SPEC §8)."""
from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from app.enums import CaseStatus, CaseType
from app.extensions import db
from app.models import Court, Holiday
from app.workdays import add_working_days
from app.workflows.numbering import next_number

from .case_factory import get_case, make_case
from .helpers import app_ctx, make_app


def court(code):
    return db.session.scalar(sa.select(Court).where(Court.code == code))


def test_number_format_and_sequences_per_court_type_and_year(app):
    with app_ctx(app):
        cy, hd = court("京0105"), court("京0108")
        first = next_number(cy, CaseType.PRE_LITIGATION, 2030)
        second = next_number(cy, CaseType.PRE_LITIGATION, 2030)
        other_court = next_number(hd, CaseType.PRE_LITIGATION, 2030)
        next_year = next_number(cy, CaseType.PRE_LITIGATION, 2031)
        db.session.commit()
    assert first == "（2030）京0105民诉前调1号"
    assert second == "（2030）京0105民诉前调2号"
    assert other_court == "（2030）京0108民诉前调1号"
    assert next_year == "（2031）京0105民诉前调1号"


def test_a_rolled_back_case_does_not_burn_a_number_twice(app):
    with app_ctx(app):
        cy = court("京0105")
        next_number(cy, CaseType.PRE_LITIGATION, 2030)
        db.session.rollback()
        assert next_number(cy, CaseType.PRE_LITIGATION, 2030) == "（2030）京0105民诉前调1号"


def test_numbers_are_never_issued_twice_under_concurrent_transactions(fresh_app, db_url):
    """8 threads, each with its own connection and transaction, 5 numbers each."""
    numbers, errors = [], []
    barrier = threading.Barrier(8, timeout=60)
    # Apps are built here, one at a time: only the transactions run concurrently.
    apps = [make_app(db_url) for _ in range(8)]

    def worker(worker_app):
        with worker_app.app_context():
            try:
                barrier.wait()
                for _ in range(5):
                    numbers.append(next_number(court("京0105"), CaseType.PRE_LITIGATION, 2032))
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(repr(exc))
                db.session.rollback()
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=worker, args=(a,), daemon=True) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(numbers) == sorted(f"（2032）京0105民诉前调{n}号" for n in range(1, 41))


def test_working_days_follow_the_official_calendar_without_any_table_entry(app):
    """Issue 15 item 2: 国务院办公厅's 2026 calendar — 国庆节、中秋节 10月1日至7日放假，
    9月20日（周日）、10月10日（周六）上班；春节 2月15日至23日放假，2月14日、2月28日（周六）上班."""
    assert add_working_days(dt.date(2026, 9, 18), 1, {}) == dt.date(2026, 9, 20)  # Fri → the Sunday worked
    assert add_working_days(dt.date(2026, 9, 30), 1, {}) == dt.date(2026, 10, 8)  # over the Golden Week
    assert add_working_days(dt.date(2026, 10, 9), 1, {}) == dt.date(2026, 10, 10)  # the Saturday worked
    assert add_working_days(dt.date(2026, 2, 13), 1, {}) == dt.date(2026, 2, 14)
    assert add_working_days(dt.date(2026, 2, 14), 1, {}) == dt.date(2026, 2, 24)  # Spring Festival off
    assert add_working_days(dt.date(2026, 2, 27), 1, {}) == dt.date(2026, 2, 28)


def test_the_holiday_table_overrides_the_official_calendar_and_covers_later_years(app):
    with app_ctx(app):
        db.session.add_all([
            Holiday(day=dt.date(2026, 10, 10), name="本地调整：不上班"),
            Holiday(day=dt.date(2026, 10, 8), name="本地调整：放假"),
            Holiday(day=dt.date(2027, 1, 1), name="元旦"),
            Holiday(day=dt.date(2027, 1, 2), name="元旦调休", is_workday=True),
        ])
        db.session.commit()
        assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 9)
        assert add_working_days(dt.date(2026, 10, 9), 1) == dt.date(2026, 10, 12)
        # 2027 is past the packaged calendar: weekends and the table decide
        assert add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 2)
        assert add_working_days(dt.date(2027, 1, 2), 1) == dt.date(2027, 1, 4)


def test_the_holiday_list_says_which_years_the_official_calendar_covers(app, login_as):
    client = login_as("admin", "PLATFORM")
    html = client.get("/holidays/list/").get_data(as_text=True)
    assert "2026" in html and "国务院" in html


def test_deadlines_per_state(app):
    assigned = get_case(app, make_case(app, status=CaseStatus.MEDIATING))
    assert (assigned.deadline - assigned.clock_started_on).days == 30
    filed = get_case(app, make_case(app, status=CaseStatus.MEDIATING, case_type=CaseType.IN_LITIGATION))
    assert (filed.deadline - filed.clock_started_on).days == 15
    simple = get_case(app, make_case(app, status=CaseStatus.MEDIATING, case_type=CaseType.IN_LITIGATION,
                                     simple_procedure=True))
    assert (simple.deadline - simple.clock_started_on).days == 7
    waiting = get_case(app, make_case(app, status=CaseStatus.TO_ASSIGN))
    assert 3 <= (waiting.deadline - waiting.clock_started_on).days <= 5
    ended = get_case(app, make_case(app, status=CaseStatus.ENDED))
    assert ended.deadline is None


def test_deadline_list_shows_due_and_overdue_cases_only(app, login_as):
    with app_ctx(app):
        from app.models import Case

        ids = [c for c in db.session.scalars(sa.select(Case.id))]
        assert ids  # demo cases exist
    html = login_as("13800000001").get("/cases/deadlines/list/").get_data(as_text=True)
    assert "租赁合同纠纷" in html  # 40 days into a 30-day mediation: overdue
    assert "离婚后财产纠纷" in html  # due tomorrow
    assert "物业服务合同纠纷" not in html  # a month left
    mediator_html = login_as("13900000001", "MEDIATOR").get("/cases/deadlines/list/").get_data(as_text=True)
    assert "租赁合同纠纷" in mediator_html and "离婚后财产纠纷" not in mediator_html  # 刘洋's case
