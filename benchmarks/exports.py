"""The 报表明细 export of 100k case rows: the app's export vs the floors, and the memory method.

Rows are the court's newest ~100,000 cases as `app.exports.detail_select`
returns them for 收案数 of a report (13 columns: numbers, type, court, cause,
parties, amount, mediator, organisation, status, received, closed, deadline).

- `app_export(ctx, path)`: what the background job does — the query read in
  primary-key batches (`app.exports.CaseRows`) and `app.exports.write_cases` (constant memory).
- `floor_xlsxwriter(rows, path)`: the same rows, fetched beforehand, written by
  xlsxwriter `constant_memory` with typed writes. Target: app ≤ 1.2× this.
- `floor_csv(rows, path)`: the `csv` module, utf-8-sig: the floor of any export.
- `peak_memory(ctx, kind)`: runs one export in a fresh interpreter
  (`python -m benchmarks.exports --mem KIND`); the child opens the app and
  the database (and, for the floors, loads the rows, which are their input),
  resets the kernel's peak-RSS mark to the current RSS (`/proc/self/clear_refs`),
  runs the export once, and prints the peak (VmHWM) minus that baseline in MB: the growth
  of the process's peak resident set caused by the export itself. Target for
  the app: < 50 MB.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile

import sqlalchemy as sa

from app import clock

from .core import Bench, Context

N_ROWS = 100_000


def export_request(ctx: Context):
    """The 报表明细 export of about N_ROWS cases: 收案数 of the court's report for the period that
    holds its newest N_ROWS cases (ties on the first day included)."""
    from app.workflows import statistics as stats

    cutoff = ctx.conn.execute(sa.text(
        "SELECT received_on FROM mediation_case WHERE court_id = :c ORDER BY received_on DESC LIMIT 1 OFFSET :n"),
        {"c": ctx.court_id, "n": N_ROWS - 1}).scalar()
    start = _day(cutoff) if cutoff else dt.date(2000, 1, 1)
    q = stats.Query(by=stats.Dimension.MEDIATOR, start=start, end=clock.today())
    return q, stats.Reach(court_ids=(ctx.court_id,))


def _day(v):
    return dt.date.fromisoformat(v) if isinstance(v, str) else v


def load_rows(ctx: Context) -> list[tuple]:
    """The very rows the app's export writes (its own query), fetched up front: the floors' input."""
    from app import exports
    from app.extensions import db

    q, reach = export_request(ctx)
    with ctx.app.test_request_context():
        stmt = exports.detail_select(q, reach, "received", None, all_rows=True).order_by(sa.desc("id"))
        return [tuple(r) for r in db.session.execute(stmt)]


def _labels(app) -> dict:
    from app.enums import CaseStatus, CaseType

    with app.test_request_context():
        return {**{m: str(m.label) for m in CaseType}, **{m: str(m.label) for m in CaseStatus}}


def floor_xlsxwriter(rows: list[tuple], path: str, labels: dict) -> None:
    """xlsxwriter alone, constant memory, typed writes: the same 13 columns, a header row."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("明细")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    minute = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = wb.add_format({"num_format": "#,##0.00"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c in (1, 2, 4, 5, 6, 8, 9):
            if row[c]:
                ws.write_string(r, c - 1, row[c])
        ws.write_string(r, 2, labels[row[3]])
        ws.write_string(r, 9, labels[row[10]])
        if row[7] is not None:
            ws.write_number(r, 6, float(row[7]), money)
        ws.write_datetime(r, 10, dt.datetime.combine(row[11], dt.time()), day)
        if row[12]:
            ws.write_datetime(r, 11, row[12], minute)
        if row[13]:
            ws.write_datetime(r, 12, dt.datetime.combine(row[13], dt.time()), day)
    wb.close()


def floor_csv(rows: list[tuple], path: str, labels: dict) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for row in rows:
            w.writerow(row[1:3] + (labels[row[3]],) + row[4:10] + (labels[row[10]],) + row[11:])


HEADERS = ["诉前调解案号", "案号", "案件类型", "法院", "案由", "当事人", "标的额（元）", "调解员", "调解组织", "状态",
           "收案日期", "结案时间", "调解期限"]


def app_export(ctx: Context, path: str) -> None:
    """The app's 报表明细 export, as the background job runs it: its query read in keyset
    batches, written by `app.exports.write_cases` (title, period, header, typed cells)."""
    from app import exports

    q, reach = export_request(ctx)
    with ctx.app.test_request_context():
        exports.write_cases(path, "报表明细：合计 · 收案数", [exports.period_text(q)],
                            exports.CaseRows(q, reach, "received", None, all_rows=True))


def _tmp(suffix: str) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="bench-export-")
    os.close(fd)
    return path


def benches(ctx: Context) -> list[Bench]:
    rows = load_rows(ctx)
    labels = _labels(ctx.app)
    xlsx, xlsx2, csv_path = _tmp(".xlsx"), _tmp(".xlsx"), _tmp(".csv")
    n = f"{len(rows) // 1000}k"
    return [
        Bench(f"export {n} rows: app (query + app.exports) vs xlsxwriter", lambda: app_export(ctx, xlsx),
              lambda: floor_xlsxwriter(rows, xlsx2, labels), 1.2, max_repeat=3, warmup=False),
        Bench(f"export {n} rows: xlsxwriter floor vs CSV floor", lambda: floor_xlsxwriter(rows, xlsx, labels),
              lambda: floor_csv(rows, csv_path, labels), None, max_repeat=3, warmup=False),
    ]


# --- peak memory, one fresh process per export ---------------------------------------

MEM_KINDS = ("app", "xlsxwriter", "csv")


def peak_memory(ctx: Context, kind: str) -> str:
    """Peak-RSS growth in MB of one export run in a fresh interpreter, or the reason it could not run."""
    cmd = [sys.executable, "-m", "benchmarks.exports", "--mem", kind, "--url", ctx.url, "--court",
           str(ctx.court_id)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    lines = (proc.stdout or "").strip().splitlines()
    if proc.returncode != 0 or not lines:
        return "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    return lines[-1]


def _maxrss_mb() -> float:
    """This process's peak RSS in MB: VmHWM on Linux.

    Not `getrusage().ru_maxrss` there: after fork+exec it is at least the
    *parent's* peak (the kernel carries the old mm's high-water mark into the
    child's signal struct), so a child of a big harness reads the harness's
    peak, and `clear_refs` cannot reset that part.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux, bytes on macOS


def _reset_peak() -> float:
    """Start a new peak at the current RSS; return the baseline in MB.

    Loading the rows peaks above where the process settles (temporary result
    rows), and that peak would hide the export's own growth. On Linux, writing
    5 to /proc/self/clear_refs resets the peak (VmHWM) to the current RSS.
    Elsewhere the baseline is the peak so far.
    """
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _maxrss_mb()


def _mem_child(kind: str, url: str, court_id: int) -> None:
    from .run import make_context

    ctx = make_context(url, repeat=1, court_id=court_id, login=False)
    path = _tmp(".xlsx" if kind != "csv" else ".csv")
    try:
        if kind == "app":
            with ctx.app.app_context():
                ctx.conn.execute(sa.text("SELECT 1"))
            base = _reset_peak()
            app_export(ctx, path)
        else:
            rows = load_rows(ctx)
            labels = _labels(ctx.app)
            print(f"{len(rows):,} rows")
            base = _reset_peak()
            (floor_xlsxwriter if kind == "xlsxwriter" else floor_csv)(rows, path, labels)
        print(f"+{_maxrss_mb() - base:.1f} MB (baseline {base:.0f} MB)", flush=True)
    finally:
        os.remove(path)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--mem", choices=MEM_KINDS, required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--court", type=int, required=True)
    a = p.parse_args()
    _mem_child(a.mem, a.url, a.court)
