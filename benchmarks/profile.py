"""Where one app request spends its time: SQL statements (count, time, text) and a cProfile.

    .venv/bin/python -m benchmarks.profile [PATH ...] [--url URL] [--top 25]

Logs in as the benchmark's court admin, requests PATH once to warm up, then
once more under a SQLAlchemy `before/after_cursor_execute` listener (every
statement, its time, grouped by text) and once under cProfile. A statement's
time is `cursor.execute` only: fetching its rows (the 5,000 mediators of the
search widget, say) shows up in the cProfile, not here.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import time
from collections import defaultdict

from sqlalchemy import event

from . import generate
from .run import make_context


def statements(ctx, path: str) -> list[tuple[str, float]]:
    from app.extensions import db

    with ctx.app.app_context():
        engine = db.engine
    seen: list[tuple[str, float]] = []

    def before(conn, cursor, statement, params, context, executemany):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, params, context, executemany):
        seen.append((statement, (time.perf_counter() - conn.info["t0"].pop()) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        t0 = time.perf_counter()
        ctx.client.get(path)
        total = (time.perf_counter() - t0) * 1000
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    groups: dict[str, list[float]] = defaultdict(list)
    for sql, ms in seen:
        groups[re.sub(r"\s+", " ", sql).strip()].append(ms)
    print(f"\n## {path}: {total:.1f} ms, {len(seen)} statements, {sum(ms for _, ms in seen):.1f} ms in SQL")
    for sql, times in sorted(groups.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {len(times):>3}× {sum(times):8.1f} ms  {sql[:300]}")
    return seen


def profile(ctx, path: str, top: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    ctx.client.get(path)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="*", default=["/cases/pre-litigation/list/"])
    p.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", generate.DEFAULT_URL))
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--no-cprofile", action="store_true")
    a = p.parse_args(argv)
    ctx = make_context(a.url, repeat=1)
    for path in a.paths:
        ctx.client.get(path)
        statements(ctx, path)
        if not a.no_cprofile:
            profile(ctx, path, a.top)


if __name__ == "__main__":
    main()
