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


def shown(value: dt.datetime | None, seconds: bool = False) -> str:
    """A stored time as a person reads it: Beijing time to the minute (or second); "" for none.

    The Jinja filter `beijing` — templates never format a time themselves.
    """
    moment = local(value)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


#: Asia/Shanghai has been UTC+8 all year since its last summer time ended in September 1991
_FIXED_SINCE = dt.datetime(1992, 1, 1)
_EIGHT_HOURS = dt.timedelta(hours=8)


def local_naive(value: dt.datetime | None) -> dt.datetime | None:
    """Beijing time without a zone, for a spreadsheet cell (xlsx has no time zones).

    A stored time since 1992 is UTC + 8 hours, the zone's one offset since then: an export writes
    one such cell per case, and the addition costs a fifth of the zone conversion."""
    if value is not None and value.tzinfo is None and value >= _FIXED_SINCE:
        return value + _EIGHT_HOURS
    moment = local(value)
    return moment.replace(tzinfo=None) if moment is not None else None


def day_start(day: dt.date) -> dt.datetime:
    """The stored (naive UTC) instant at which Beijing's `day` begins: 00:00 Beijing is 16:00 UTC the day before."""
    return dt.datetime.combine(day, dt.time(), tzinfo=BEIJING).astimezone(dt.timezone.utc).replace(tzinfo=None)
