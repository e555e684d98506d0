"""Issue 15 item 1: every time shown or exported is Beijing time (Asia/Shanghai), labelled
where it could be read otherwise, and a moment near midnight falls on Beijing's day.

The stored moment of these tests is 2024-03-31 16:30 UTC — 2024-04-01 00:30 in Beijing:
shown in UTC it would be the wrong day and the wrong month."""
from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from app.clock import BEIJING as ZONE, day_start, local_naive, shown
from app.enums import CaseStatus, SmsKind
from app.extensions import db
from app.models import SmsOutbox

from .case_factory import make_case, update_case
from .helpers import app_ctx, text

STORED = dt.datetime(2024, 3, 31, 16, 30)  # naive UTC, as every column stores it
BEIJING = "2024-04-01 00:30"


def test_shown_is_beijing_time_and_a_day_starts_at_beijing_midnight():
    assert shown(STORED) == BEIJING
    assert shown(STORED, seconds=True) == BEIJING + ":00"
    assert shown(None) == ""
    assert day_start(dt.date(2024, 4, 1)) == dt.datetime(2024, 3, 31, 16, 0)


def test_a_spreadsheet_time_is_beijing_wall_time_also_across_the_zone_s_old_summer_time():
    """`local_naive` adds eight hours to a time since 1992 (the zone's one offset since then) and asks
    the zone for older ones: Beijing kept summer time (UTC+9) from 1986 to 1991."""
    def by_zone(value):
        return value.replace(tzinfo=dt.timezone.utc).astimezone(ZONE).replace(tzinfo=None)

    assert local_naive(STORED) == dt.datetime(2024, 4, 1, 0, 30)
    assert local_naive(None) is None
    summer_1991 = dt.datetime(1991, 7, 1, 0, 0)
    assert local_naive(summer_1991) == dt.datetime(1991, 7, 1, 9, 0) == by_zone(summer_1991)
    moment = dt.datetime(1991, 12, 31, 15, 59)
    while moment.year < 2100:
        assert local_naive(moment) == by_zone(moment), moment
        moment += dt.timedelta(days=97, hours=5, minutes=7)


def test_the_case_page_shows_when_it_was_assigned_and_closed_in_beijing_time(app, login_as):
    case_id = make_case(app, status=CaseStatus.ENDED)
    update_case(app, case_id, assigned_at=STORED, closed_at=STORED)
    page = text(login_as("13800000001").get(f"/case/{case_id}"))
    assert BEIJING in page
    assert "2024-03-31 16:30" not in page


def test_platform_lists_show_beijing_time_and_say_so(app, login_as):
    with app_ctx(app):
        db.session.add(SmsOutbox(phone="13512345678", kind=SmsKind.NOTICE, body="北京时间测试", created_at=STORED))
        db.session.commit()
    page = text(login_as("admin", "PLATFORM").get("/sms/list/"))
    assert "时间（北京时间）" in page and BEIJING in page and "2024-03-31 16:30" not in page


def test_a_case_closed_just_after_beijing_midnight_belongs_to_the_next_day_in_reports_and_exports(app, login_as):
    case_id = make_case(app, status=CaseStatus.ENDED)
    update_case(app, case_id, received_on=dt.date(2024, 3, 3), closed_at=STORED)
    march = {"start": "2024-03-01", "end": "2024-03-31", "key": "all"}
    c = login_as("13800000001")

    ended = load_workbook(io.BytesIO(c.get("/statistics/detail/export",
                                          query_string={**march, "figure": "ended"}).data)).active
    assert ended.max_row == 3  # title, period, header: closed in April (Beijing), not in March

    mediating = load_workbook(io.BytesIO(c.get("/statistics/detail/export",
                                              query_string={**march, "figure": "mediating"}).data)).active
    head = [cell.value for cell in mediating[3]]
    assert "结案时间（北京时间）" in head
    row = [cell.value for cell in mediating[4]]
    assert row[head.index("结案时间（北京时间）")] == dt.datetime(2024, 4, 1, 0, 30)


def test_the_report_says_its_generation_time_is_beijing_time(app, login_as):
    resp = login_as("13800000001").get("/statistics/report/export",
                                       query_string={"start": "2024-03-01", "end": "2024-03-31", "by": "mediator"})
    assert "（北京时间）" in load_workbook(io.BytesIO(resp.data)).active["A2"].value
