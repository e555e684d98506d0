"""The harness: `Bench` entries, the shared context, interleaved timing and the table.

An area module (`benchmarks/cases.py`, `documents.py`, `exports.py`, ...) has
`benches(ctx) -> list[Bench]`; `AREAS` lists the modules `run` loads. Each
entry pairs what the app does (`app_fn`) with the cheapest way to get the same
result (`floor_fn`); both run in this process against the same database, warm,
alternating app/floor and floor/app, and the table shows the medians.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import sqlalchemy as sa

AREAS = ["benchmarks.cases", "benchmarks.casepage", "benchmarks.reports", "benchmarks.documents", "benchmarks.exports"]


class Skip(Exception):
    """An entry that cannot run here (say why): printed, not failed."""


@dataclass
class Bench:
    name: str
    app_fn: Callable[[], Any]
    floor_fn: Callable[[], Any]
    target_ratio: Optional[float]
    #: operations per timed call (the table shows time per operation)
    inner: int = 1
    #: cap on repeats for slow entries (exports)
    max_repeat: Optional[int] = None
    #: one untimed call of each side first (off for entries that take seconds)
    warmup: bool = True


@dataclass
class Result:
    bench: Bench
    app_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    #: of app_ms, the time spent executing SQL (the part that grows with the data)
    app_sql_ms: list[float] = field(default_factory=list)
    skipped: Optional[str] = None

    @property
    def app_sql(self) -> float:
        return statistics.median(self.app_sql_ms) if self.app_sql_ms else float("nan")

    @property
    def app(self) -> float:
        return statistics.median(self.app_ms)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_ms)

    @property
    def ratio(self) -> float:
        return self.app / self.floor if self.floor else float("inf")

    @property
    def met(self) -> Optional[bool]:
        if self.bench.target_ratio is None:
            return None
        return self.ratio <= self.bench.target_ratio


@dataclass
class Context:
    """What the entries share: the database, a floor connection, the app and a logged-in client."""

    url: str
    app: Any
    client: Any
    engine: sa.Engine
    conn: sa.Connection
    court_id: int
    repeat: int
    is_sqlite: bool


class _SqlClock:
    """Sums the time of every statement any engine executes, and of fetching its rows, while on.

    `cursor.execute` alone is not the SQL's cost: pysqlite produces rows while they are fetched,
    psycopg converts them then (notes/performance.md, "Measured on the product itself"). The fetch
    is timed by wrapping SQLAlchemy's cursor fetch strategies, which are what call the DBAPI
    cursor's `fetchone`/`fetchmany`/`fetchall` (the ORM and Core both go through them)."""

    def __init__(self):
        self.on = False
        self.total = 0.0
        self._start = 0.0
        self._depth = 0
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._before)
        sa.event.listen(sa.engine.Engine, "after_cursor_execute", self._after)
        from sqlalchemy.engine import cursor as _cursor

        for cls in (_cursor.CursorFetchStrategy, _cursor.BufferedRowCursorFetchStrategy,
                    _cursor.FullyBufferedCursorFetchStrategy):
            for name in ("fetchone", "fetchmany", "fetchall", "_buffer_rows"):
                if name in vars(cls):
                    setattr(cls, name, self._timing(vars(cls)[name]))
            if "__init__" in vars(cls):  # the buffered strategies fetch their first rows here
                setattr(cls, "__init__", self._timing(vars(cls)["__init__"]))

    def _timing(self, fn):
        clock = self

        def timed(*args, **kwargs):
            if not clock.on or clock._depth:
                return fn(*args, **kwargs)
            clock._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                clock.total += time.perf_counter() - t0
                clock._depth -= 1

        timed.__wrapped__ = fn
        return timed

    def _before(self, *args):
        if self.on:
            self._start = time.perf_counter()

    def _after(self, *args):
        if self.on:
            self.total += time.perf_counter() - self._start


SQL_CLOCK = _SqlClock()


def _timed(fn: Callable[[], Any], inner: int, sql_out: Optional[list] = None) -> float:
    SQL_CLOCK.total, SQL_CLOCK.on = 0.0, sql_out is not None
    t0 = time.perf_counter()
    try:
        for _ in range(inner):
            fn()
    finally:
        SQL_CLOCK.on = False
    if sql_out is not None:
        sql_out.append(SQL_CLOCK.total * 1000 / inner)
    return (time.perf_counter() - t0) * 1000 / inner


def measure(bench: Bench, repeat: int) -> Result:
    """One warm-up call each, then `repeat` rounds alternating which side goes first."""
    result = Result(bench)
    try:
        if bench.warmup:
            bench.app_fn()
            bench.floor_fn()
        n = min(repeat, bench.max_repeat or repeat)
        for i in range(n):
            sides = [(bench.app_fn, result.app_ms, result.app_sql_ms), (bench.floor_fn, result.floor_ms, None)]
            for fn, out, sql_out in (sides if i % 2 == 0 else sides[::-1]):
                out.append(_timed(fn, bench.inner, sql_out))
    except Skip as exc:
        result.skipped = str(exc)
    return result


def uptime() -> str:
    """`uptime`'s line (the machine's load when a table was measured: other work shares the cores)."""
    import os
    import subprocess

    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def table(results: list[Result]) -> str:
    lines = ["| benchmark | app ms | of which SQL (execute + fetch) | floor ms | ratio | target | met |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.bench.name} | — | — | — | — | "
                         f"{'≤ %.1f×' % r.bench.target_ratio if r.bench.target_ratio else '—'} | skipped: {r.skipped} |")
            continue
        target = f"≤ {r.bench.target_ratio:.1f}×" if r.bench.target_ratio else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        lines.append(f"| {r.bench.name} | {r.app:,.1f} | {r.app_sql:,.1f} | {r.floor:,.1f} | {r.ratio:.2f}× | "
                     f"{target} | {met} |")
    return "\n".join(lines)
