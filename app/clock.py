"""The one clock (STYLE, "Lessons": business dates and screens are Beijing time).

Storage stays naive UTC (`utcnow`), as every `DateTime` column has always
been written. Everything a person reads or a rule counts in days — deadlines,
the 30-day window of a 司法确认, "today" on a screen, the date on an
agreement — is Asia/Shanghai: `today()` and `now()`. `local()` turns a stored
UTC value into Beijing time for display.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    """Now in UTC, naive: what the database columns store."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def now() -> dt.datetime:
    """Now in Beijing time (aware)."""
    return dt.datetime.now(BEIJING)


def today() -> dt.date:
    """Today's date in Beijing: the day every business clock counts from."""
    return now().date()


def local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored (naive UTC) time as Beijing time (aware); None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(BEIJING)


def local_date(value: dt.datetime | None) -> dt.date | None:
    """The Beijing calendar day of a stored time (a case closed at 23:30 UTC closed the next day)."""
    moment = local(value)
    return moment.date() if moment is not None else None
