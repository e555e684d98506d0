"""案件统计报表 pages through the app vs the raw GROUP BY they need (issue 7, SPEC §6).

The app side is `GET /statistics/report?by=…` as the court admin (validation,
the GROUP BY over the cohort, the 司法确认/转立案 counts, the roster and names,
the template with a link per figure). The floor is the one GROUP BY the
figures come from, hand-written in SQL on the same covering index
(`ix_case_report`), through a warm Core connection.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app import clock

from .core import Bench, Context

OPEN = "('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED')"

GROUP_BY_SQL = """
SELECT {key} AS k, count(*),
       sum(CASE WHEN status IN {open} OR closed_at >= :end_next THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'ENDED' AND closed_at < :end_next THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'TERMINATED' AND closed_at < :end_next THEN 1 ELSE 0 END),
       sum(CASE WHEN status IN {open} AND deadline < :overdue_on THEN 1 ELSE 0 END),
       sum(CASE WHEN status IN ('ENDED', 'TERMINATED') AND closed_at < :end_next THEN {days} ELSE 0 END)
FROM mediation_case
WHERE court_id = :court AND received_on >= :start AND received_on <= :end
GROUP BY {key}
"""


def _days(is_sqlite: bool) -> str:
    if is_sqlite:
        return "julianday(closed_at) - julianday(received_on)"
    return "EXTRACT(EPOCH FROM (closed_at - CAST(received_on AS TIMESTAMP))) / 86400.0"


def app_report(ctx: Context, by: str, start: dt.date, end: dt.date):
    url = f"/statistics/report?by={by}&start={start.isoformat()}&end={end.isoformat()}"

    def fn():
        resp = ctx.client.get(url)
        if resp.status_code != 200 or b'id="report"' not in resp.data:
            raise RuntimeError(f"{url}: HTTP {resp.status_code}")
        return resp.data

    return fn


def floor_report(ctx: Context, key: str, start: dt.date, end: dt.date):
    sql = sa.text(GROUP_BY_SQL.format(key=key, open=OPEN, days=_days(ctx.is_sqlite)))
    end_next = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    params = {"court": ctx.court_id, "start": start, "end": end, "end_next": end_next,
              "overdue_on": min(end + dt.timedelta(days=1), clock.today())}
    if ctx.is_sqlite:  # SQLite stores dates and datetimes as ISO text
        params = {k: (str(v) if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in params.items()}
        params["end_next"] = end_next.strftime("%Y-%m-%d %H:%M:%S.%f")

    def fn():
        return ctx.conn.execute(sql, params).all()

    return fn


def benches(ctx: Context) -> list[Bench]:
    today = clock.today()
    year = today - dt.timedelta(days=364)
    month = today - dt.timedelta(days=30)
    out = []
    for by, key, start, label in (
        ("mediator", "mediator_id", year, "by mediator, one year"),
        ("organisation", "organisation_id", year, "by organisation, one year"),
        ("case_type", "case_type", year, "by case type, one year"),
        ("mediator", "mediator_id", month, "by mediator, one month"),
    ):
        out.append(Bench(f"report {label}", app_report(ctx, by, start, today),
                         floor_report(ctx, key, start, today), 2.0))
    return out + [dashboard_bench(ctx)]


def dashboard_bench(ctx: Context) -> Bench:
    """数据看板 (`/statistics/dashboard`, twelve months) against its page floor: the same five
    aggregates it runs, executed and fetched, rendered by a minimal page (pagefloor.py). Its
    target in issue 17 is absolute (≤ 200 ms at 10 M cases, within 1.5× from 1 M to 10 M); the
    ratio shows how much of it is SQL."""
    from .pagefloor import any_floor

    path = "/statistics/dashboard"

    def app_fn():
        resp = ctx.client.get(path)
        if resp.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status_code}")
        return resp.data

    return Bench("dashboard (12 months) vs page floor", app_fn, any_floor(ctx, path, title="数据看板"), 2.0)
