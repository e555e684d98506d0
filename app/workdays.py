"""Working-day arithmetic for the clocks of SPEC §8 (Rules arts 10, 12).

Weekends are rest days unless the holiday table marks them as worked in lieu
(调休); listed holidays are rest days. The table is data the platform admin
keeps (平台后台 › 节假日), so the official calendar needs no release.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from .extensions import db
from .models import Holiday


def calendar_overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """{day: is_workday} for the table's days between start and end."""
    rows = db.session.execute(
        sa.select(Holiday.day, Holiday.is_workday).where(Holiday.day.between(start, end))
    ).all()
    return {day: is_workday for day, is_workday in rows}


def is_workday(day: dt.date, overrides: dict[dt.date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
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
