"""`make bench-pg`: the app against its floors on PostgreSQL at 1 M and 10 M cases, side by side (issue 17).

    .venv/bin/python -m benchmarks.scale [--sizes 1000000,10000000] [--courts 3000] [--repeat 5] [--only TEXT]

A size `N@R` is N cases with the mediators and organisations of the R-case data set
(`1000000@10000000`: the courts, roster and organisations of 10 M, a tenth of its cases),
so growth to R measures the cases alone; a plain N has a roster in proportion to N.

One command: starts the benchmarks' own PostgreSQL (benchmarks/pgserver.py,
127.0.0.1:55440, data under /work/benchdata), generates each data set that
is missing or finishes one that was interrupted (benchmarks/generate.py, the
national shape: 3,000 basic courts, 朝阳 the largest), brings an existing
one's schema up to date (Alembic `upgrade`), then measures every entry at
each size in turn — entry by entry, so the sizes of one row ran minutes
apart, not an hour — and prints one table with both sizes, their ratio, the
targets and the machine's load average when each row ran.

Entries: the case lists against the SQL floor (full COUNT + 20 rows, issue 7)
and against the page floor (the page's own SQL through a minimal page, item 5);
the reports (a year by organisation, a month by mediator) against their
GROUP BY; the dashboard and the case page against their page floors; the
100k-row export against xlsxwriter alone.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time

import sqlalchemy as sa

from . import generate, pgserver
from .core import Result, measure, uptime
from .run import make_context

ENTRIES = [  # (module, name) in table order
    ("cases", "case list: first page"),
    ("cases", "case list: filter status = 调解中"),
    ("cases", "case list: deep page 1000"),
    ("cases", "case list: parties contain 张伟"),
    ("cases", "case list: parties contain 王"),
    ("cases", "case list: first page vs page floor"),
    ("cases", "case list: filter status = 调解中 vs page floor"),
    ("cases", "case list: deep page 1000 vs page floor"),
    ("casepage", "case page vs page floor"),
    ("reports", "report by organisation, one year"),
    ("reports", "report by mediator, one month"),
    ("reports", "dashboard (12 months) vs page floor"),
    ("exports", "export ≤ 100k rows: app (query + app.exports) vs xlsxwriter"),
]
#: absolute targets of issue 17 at the largest size: entry -> (ms, growth from the smallest size)
ABSOLUTE = {
    "case list: parties contain 张伟": (300, None),
    "case list: parties contain 王": (300, None),
    "report by organisation, one year": (200, 1.5),
    "report by mediator, one month": (200, 1.5),
    "dashboard (12 months) vs page floor": (200, 1.5),
}


class Size(int):
    """A data set's case count; `"1000000@10000000"` is 1 M cases with the mediators and
    organisations of the 10 M data set (the roster of 10 M's flow, a tenth of its cases), so the
    two sizes differ in cases only."""

    roster: int

    def __new__(cls, spec):
        n, _, roster = str(spec).partition("@")
        self = super().__new__(cls, int(n))
        self.roster = int(roster or n)
        return self

    def __eq__(self, other):
        return int(self) == int(other) and self.roster == getattr(other, "roster", other)

    def __hash__(self):
        return hash((int(self), self.roster))


def _m(n: int) -> str:
    return f"{n // 1_000_000} M" if n % 1_000_000 == 0 else f"{n:,}"


def label(n: int) -> str:
    roster = getattr(n, "roster", n)
    return _m(n) if roster == n else f"{_m(n)} (roster of {_m(roster)})"


def db_name(n: int) -> str:
    base = f"bench_{n // 1_000_000}m" if n % 1_000_000 == 0 else f"bench_{n}"
    roster = getattr(n, "roster", n)
    return base if roster == n else f"{base}_roster_{db_name(int(roster))[6:]}"


def prepare(n: int, courts: int) -> str:
    url = pgserver.url(db_name(n))
    state = generate.progress(url) or {}
    if "done" not in state:
        print(f"{label(n)}: {'resuming' if state else 'generating'} the data set in {db_name(n)} …", flush=True)
        roster = getattr(n, "roster", n)  # the generator's proportions: one mediator per 200 cases, …
        generate.generate(url, int(n), n_courts=courts, n_mediators=max(100, roster // 200),
                          n_orgs=max(20, roster // 2000))
    else:
        from flask_migrate import upgrade

        app = generate.bench_app(url)
        with app.app_context():
            upgrade()  # a migration added since the data set was generated runs on the 10 M rows once
    return url


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def key(name: str) -> str:
    """An entry's name without its row count (the export takes the court's newest 100k cases,
    or all it has: 85k at 1 M)."""
    return re.sub(r"^export \d+k rows", "export ≤ 100k rows", name)


def benches_for(ctx, only: str) -> dict:
    import importlib

    out = {}
    wanted = {name for _m, name in ENTRIES if only in name}
    for module in sorted({m for m, name in ENTRIES if name in wanted}):
        for bench in importlib.import_module(f"benchmarks.{module}").benches(ctx):
            if key(bench.name) in wanted:
                out[key(bench.name)] = bench
    return out


def cell(r: Result | None) -> list[str]:
    if r is None:
        return ["—"] * 4
    if r.skipped:
        return ["skipped", "", "", ""]
    return [f"{r.app:,.1f}", f"{r.app_sql:,.1f}", f"{r.floor:,.1f}", f"{r.ratio:.2f}×"]


def table(sizes: list[int], results: dict, loads: dict) -> str:
    head = ["benchmark"]
    for n in sizes:
        head += [f"{label(n)} app ms", "SQL ms", "floor ms", "ratio"]
    head += [f"app {label(sizes[-1])} / {label(n)}" for n in sizes[:-1]] or ["growth"]
    head += ["target", f"met at {label(sizes[-1])}", "load 1/5/15 min"]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 4) + "|---|---|---|"]
    for _m, name in ENTRIES:
        rs = [results.get((name, n)) for n in sizes]
        if all(r is None for r in rs):
            continue
        row = [name + "".join(f" ({label(n)}: {r.bench.name.split(' rows')[0][7:]} rows)" for n, r in zip(sizes, rs)
                              if r is not None and name.startswith("export"))]
        for r in rs:
            row += cell(r)
        last = rs[-1]
        complete = all(r is not None and not r.skipped for r in rs)
        growths = [last.app / r.app for r in rs[:-1]] if complete else []
        row += [f"{g:.2f}×" for g in growths] or ["—"] * max(1, len(rs) - 1)
        targets, met = [], []
        if last is not None and not last.skipped and last.bench.target_ratio:
            targets.append(f"≤ {last.bench.target_ratio:.1f}×")
            met.append(last.ratio <= last.bench.target_ratio)
        if name in ABSOLUTE and last is not None and not last.skipped:
            ms, grow = ABSOLUTE[name]
            targets.append(f"≤ {ms} ms")
            met.append(last.app <= ms)
            if grow and growths:
                targets.append(f"growth ≤ {grow}×")
                met.append(all(g <= grow for g in growths))
        row.append(", ".join(targets) or "—")
        row.append("yes" if met and all(met) else ("**no**" if met else "—"))
        row.append(" → ".join(loads.get((name, n), "") for n in sizes))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000000,10000000",
                   help="case counts; N@R: N cases with the mediators and organisations of R cases")
    p.add_argument("--courts", type=int, default=3000, help="basic courts when a data set is generated")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", default="", help="run only entries whose name contains this text")
    p.add_argument("--verbose", action="store_true", help="print the statements each page floor runs")
    a = p.parse_args(argv)
    sizes = [Size(x) for x in a.sizes.split(",")]
    pgserver.ensure([db_name(n) for n in sizes])
    urls = {n: prepare(n, a.courts) for n in sizes}
    contexts, benches = {}, {}
    for n in sizes:
        ctx = contexts[n] = make_context(urls[n], a.repeat)
        total = ctx.conn.execute(sa.text("SELECT count(*) FROM mediation_case")).scalar()
        court = ctx.conn.execute(sa.text("SELECT count(*) FROM mediation_case WHERE court_id = :c"),
                                 {"c": ctx.court_id}).scalar()
        size = ctx.conn.execute(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        print(f"{label(n)}: {total:,} cases ({size}), court #{ctx.court_id} (朝阳) has {court:,}", flush=True)
        benches[n] = benches_for(ctx, a.only)
        if a.verbose:
            for b in benches[n].values():
                if hasattr(b.floor_fn, "statements"):
                    from .pagefloor import describe

                    print(f"  {b.name}: the floor runs\n{describe(b.floor_fn.statements)}")
    print(f"median of {a.repeat}, warm, app and floor alternating; each row at every size in turn", flush=True)
    print(f"uptime at the start: {uptime()}\n", flush=True)
    results, loads = {}, {}
    t0 = time.perf_counter()
    for _m, name in ENTRIES:
        for n in sizes:
            bench = benches[n].get(name)
            if bench is None:
                continue
            print(f"  {label(n)} {name} …", end="", flush=True, file=sys.stderr)
            before = load()
            r = measure(bench, a.repeat)
            loads[(name, n)] = before
            results[(name, n)] = r
            print(" skipped: " + r.skipped if r.skipped else f" {r.app:,.1f} / {r.floor:,.1f} ms", file=sys.stderr)
    print(table(sizes, results, loads))
    print(f"\n(PostgreSQL {contexts[sizes[0]].conn.execute(sa.text('SHOW server_version')).scalar()}, "
          f"{os.cpu_count()} cores; {time.perf_counter() - t0:.0f} s)\nuptime at the end: {uptime()}")


if __name__ == "__main__":
    main()
