"""Working-day arithmetic for the clocks of SPEC §8 (Rules arts 10, 12).

A day is a working day by, in this order:
1. the holiday table (平台后台 › 节假日) — the admin's override, for a year the
   official calendar below does not cover yet or a local change;
2. the State Council's calendar of public holidays and 调休 workdays, as the
   `chinese-calendar` package carries it (years OFFICIAL_YEARS);
3. outside those years, Monday to Friday.
"""
from __future__ import annotations

import datetime as dt

import chinese_calendar
import sqlalchemy as sa

from .extensions import db
from .models import Holiday

OFFICIAL_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def calendar_overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """{day: is_workday} for the table's days between start and end."""
    rows = db.session.execute(
        sa.select(Holiday.day, Holiday.is_workday).where(Holiday.day.between(start, end))
    ).all()
    return {day: is_workday for day, is_workday in rows}


def is_workday(day: dt.date, overrides: dict[dt.date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    if day.year in OFFICIAL_YEARS:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int, overrides: dict[dt.date, bool] | None = None) -> dt.date:
    """The n-th working day after `start` (the start day itself does not count)."""
    if overrides is None:
        overrides = calendar_overrides(start, start + dt.timedelta(days=n * 3 + 30))
    day, left = start, n
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            left -= 1
    return day
