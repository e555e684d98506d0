"""Case export of 100k rows: the floors, the memory method, and the hook for the app's export.

Rows are the court's 100,000 newest cases with the columns `export_cases`
(app/views/cases.py) writes: number, type, court, cause, parties, status,
mediator, received on, deadline — labels in Chinese, dates as dates.

- `floor_xlsxwriter(rows, path)`: xlsxwriter `constant_memory`, typed writes
  (`write_string` / `write_datetime` / `write_blank`), the same rows. The
  target for the app's export is ≤ 1.2× this.
- `floor_csv(rows, path)`: the `csv` module, utf-8-sig: the floor of any export.
- `peak_memory(ctx, kind)`: runs one export in a fresh interpreter
  (`python -m benchmarks.exports --mem KIND`); the child opens the app and
  the database (and, for the floors, loads the rows, which are their input),
  resets the kernel's peak-RSS mark to the current RSS (`/proc/self/clear_refs`),
  runs the export once, and prints the peak (VmHWM) minus that baseline in MB: the growth
  of the process's peak resident set caused by the export itself. Target for
  the app: < 50 MB.
- `app_export(ctx, path)`: THE HOOK for the app's export (issue 7): it
  imports `app.exports`; until that module exists the entry is skipped with a
  note.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import os
import resource
import subprocess
import sys
import tempfile

import sqlalchemy as sa

from .core import Bench, Context, Skip

N_ROWS = 100_000
HEADERS = ["调解案号", "案件类型", "法院", "案由", "当事人", "状态", "调解员", "收案日期", "截止日期"]
ROWS_SQL = """
SELECT c.number, c.case_type, ct.name AS court, c.cause, c.party_names, c.status,
       m.name AS mediator_name, m.phone AS mediator_phone, c.received_on, c.deadline
FROM mediation_case c
JOIN court ct ON ct.id = c.court_id
LEFT JOIN mediator m ON m.id = c.mediator_id
WHERE c.court_id = :court
ORDER BY c.id DESC
LIMIT :n
"""


def _labels(app) -> tuple[dict, dict]:
    from app.enums import CaseStatus, CaseType

    with app.test_request_context():
        return ({m.name: m.label for m in CaseType}, {m.name: m.label for m in CaseStatus})


def _day(v):
    return dt.date.fromisoformat(v) if isinstance(v, str) else v


def load_rows(ctx_app, conn, court_id: int, n: int = N_ROWS) -> list[tuple]:
    types, statuses = _labels(ctx_app)
    out = []
    for r in conn.execute(sa.text(ROWS_SQL), {"court": court_id, "n": n}):
        mediator = f"{r.mediator_name}（{r.mediator_phone}）" if r.mediator_name else None
        out.append((r.number, types[r.case_type], r.court, r.cause, r.party_names, statuses[r.status], mediator,
                    _day(r.received_on), _day(r.deadline)))
    return out


def floor_xlsxwriter(rows: list[tuple], path: str) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False})
    ws = wb.add_worksheet("调解案件")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c in range(7):
            v = row[c]
            if v is None:
                ws.write_blank(r, c, None)
            else:
                ws.write_string(r, c, v)
        for c in (7, 8):
            v = row[c]
            if v is None:
                ws.write_blank(r, c, None)
            else:
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), day)
    wb.close()


def floor_csv(rows: list[tuple], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows)


def app_export(ctx: Context, path: str) -> None:
    """The app's export of the court's N_ROWS newest cases into `path` (wire it to app.exports)."""
    try:
        exports = importlib.import_module("app.exports")  # issue 7: the export module, not written yet
    except ModuleNotFoundError:
        raise Skip("app.exports does not exist yet: wire benchmarks.exports.app_export") from None
    fn = getattr(exports, "export_cases_xlsx", None)
    if fn is None:
        raise Skip("app.exports has no export_cases_xlsx: wire benchmarks.exports.app_export")
    with ctx.app.test_request_context():
        fn(court_id=ctx.court_id, limit=N_ROWS, path=path)


def _tmp(suffix: str) -> str:
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="bench-export-")
    os.close(fd)
    return path


def benches(ctx: Context) -> list[Bench]:
    rows = load_rows(ctx.app, ctx.conn, ctx.court_id)
    if len(rows) < N_ROWS:
        print(f"note: the court has {len(rows):,} cases; exports use all of them")
    xlsx, xlsx2, csv_path = _tmp(".xlsx"), _tmp(".xlsx"), _tmp(".csv")
    n = f"{len(rows) // 1000}k"
    return [
        Bench(f"export {n} rows: app (app.exports) vs xlsxwriter", lambda: app_export(ctx, xlsx),
              lambda: floor_xlsxwriter(rows, xlsx2), 1.2, max_repeat=3, warmup=False),
        Bench(f"export {n} rows: xlsxwriter floor vs CSV floor", lambda: floor_xlsxwriter(rows, xlsx),
              lambda: floor_csv(rows, csv_path), None, max_repeat=3, warmup=False),
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
            try:
                app_export(ctx, path)
            except Skip as exc:
                print(f"skipped: {exc}")
                return
        else:
            rows = load_rows(ctx.app, ctx.conn, court_id)
            print(f"{len(rows):,} rows")
            base = _reset_peak()
            (floor_xlsxwriter if kind == "xlsxwriter" else floor_csv)(rows, path)
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
