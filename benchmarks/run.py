"""Run every benchmark, app vs floor, and print the table (issue 7).

    .venv/bin/python -m benchmarks.run [--url URL] [--cases N] [--repeat 5] [--only TEXT] [--no-memory]

Generates the data set first when it is missing (see generate.py). Each entry
runs warm, app and floor alternating, `--repeat` rounds; the table shows the
medians and their ratio against the issue's target.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import sqlalchemy as sa

from . import generate
from .core import AREAS, Context, measure, table, uptime


def make_context(url: str, repeat: int, court_id: int | None = None, login: bool = True) -> Context:
    app = generate.bench_app(url)
    engine = sa.create_engine(url)
    conn = engine.connect()
    if court_id is None:
        court_id = conn.execute(sa.text("SELECT court_id FROM court_staff WHERE phone = :p"),
                                {"p": generate.ADMIN_PHONE}).scalar_one()
    client = app.test_client()
    if login:
        resp = client.post("/login/", data={"portal": "COURT", "username": generate.ADMIN_PHONE,
                                            "password": generate.PASSWORD})
        if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
            raise RuntimeError("the court admin could not log in")
    return Context(url=url, app=app, client=client, engine=engine, conn=conn, court_id=court_id, repeat=repeat,
                   is_sqlite=url.startswith("sqlite"))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", generate.DEFAULT_URL))
    p.add_argument("--cases", type=int, default=1_000_000, help="size when the data set must be generated")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", default="", help="run only entries whose name contains this text")
    p.add_argument("--no-memory", action="store_true", help="skip the export peak-memory subprocesses")
    a = p.parse_args(argv)

    if not generate.exists(a.url):
        print(f"no data set at {a.url}: generating {a.cases:,} cases")
        generate.generate(a.url, a.cases)  # resumes an interrupted build
    ctx = make_context(a.url, a.repeat)
    n_cases = ctx.conn.execute(sa.text("SELECT count(*) FROM mediation_case")).scalar()
    n_court = ctx.conn.execute(sa.text("SELECT count(*) FROM mediation_case WHERE court_id = :c"),
                               {"c": ctx.court_id}).scalar()
    print(f"{ctx.engine.dialect.name}: {n_cases:,} cases, court #{ctx.court_id} has {n_court:,}; "
          f"median of {a.repeat}, warm, app and floor alternating")
    print(f"uptime at the start: {uptime()}", flush=True)

    from .cases import check_same_rows

    check_same_rows(ctx)
    results = []
    t0 = time.perf_counter()
    for area in AREAS:
        for bench in importlib.import_module(area).benches(ctx):
            if a.only and a.only not in bench.name:
                continue
            print(f"  {bench.name} …", end="", flush=True, file=sys.stderr)
            r = measure(bench, a.repeat)
            print(" skipped" if r.skipped else f" {r.app:,.1f} / {r.floor:,.1f} ms", file=sys.stderr)
            results.append(r)
    print()
    print(table(results))
    if not a.no_memory and (not a.only or "export" in a.only):
        from .exports import MEM_KINDS, N_ROWS, peak_memory

        print(f"\nExport peak-RSS growth, the court's newest {N_ROWS:,} cases (or all it has), one fresh process "
              "each (target for the app: < 50 MB):\n")
        print("| export | peak RSS growth |\n|---|---|")
        for kind in MEM_KINDS:
            print(f"| {kind} | {peak_memory(ctx, kind)} |")
    print(f"\n({time.perf_counter() - t0:.0f} s, {os.cpu_count()} cores; uptime at the end: {uptime()})")


if __name__ == "__main__":
    main()
