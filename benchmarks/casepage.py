"""The case page (`/case/<id>`, 基本信息 · 当事人 · 调解信息 · 操作记录) against its page floor.

The case: the court's newest 调解中 case with a mediator (two parties, a
trail of create + 指派). The floor (pagefloor.any_floor) is every data
statement the page ran — the case with its relations, parties, agents, the
audit rows, agreements, transcripts, applications, hearings — executed and
fetched on the same engine and rendered as plain tables by a minimal Flask
page: what the case page costs beyond its own SQL. Target ≤ 2×, as for lists.
"""
from __future__ import annotations

import sqlalchemy as sa

from .core import Bench, Context, Skip


def case_id(ctx: Context) -> int:
    pk = ctx.conn.execute(sa.text(
        "SELECT id FROM mediation_case WHERE court_id = :c AND status = 'MEDIATING' AND mediator_id IS NOT NULL "
        "ORDER BY id DESC LIMIT 1"), {"c": ctx.court_id}).scalar()
    if pk is None:
        raise Skip("the court has no 调解中 case")
    return pk


def benches(ctx: Context) -> list[Bench]:
    from .pagefloor import any_floor

    path = f"/case/{case_id(ctx)}"

    def app_fn():
        resp = ctx.client.get(path)
        if resp.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status_code}")
        return resp.data

    return [Bench("case page vs page floor", app_fn, any_floor(ctx, path, title="案件"), 2.0)]
