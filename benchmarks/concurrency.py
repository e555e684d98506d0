"""Reads beside a writer on SQLite (issue 16 item 3): does a page view queue behind the write lock?

    .venv/bin/python -m benchmarks.concurrency [--seconds 15] [--readers 8] [--hold-ms 200] [--db PATH]
    make bench-concurrency BENCH_ARGS="--seconds 20"

For each mode the app runs under gunicorn (2 sync workers, as `make run`)
on its own copy of the database, and a load generator in this process (N
reader threads, a new connection per request, logged in as court admin
13800000001) requests a page — /health (two indexed look-ups) and a list
page (/court-users/list/) — for S seconds — first alone, then while a
writer holds SQLite's write lock for `--hold-ms` out of every
`hold-ms + 50` ms (a slow import or report job writing):

- before: what main did until issue 16 — rollback journal and every
  transaction `BEGIN IMMEDIATE`, reads included;
- after: WAL, reads `BEGIN` (deferred), only writing requests IMMEDIATE.

The table gives requests per second, latency percentiles, errors, and the
machine's 1-minute load average at the start and end of each phase (the load
generator shares the cores: notes/performance.md §5). Without `--db` the
demo data set is built into a temporary directory.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = {"health": "/health", "list": "/court-users/list/"}


def build_demo(path: str) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.commands import seed_roles
    from app.demo import seed_demo
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "b" * 40})
    with app.app_context():
        upgrade()
        seed_roles()
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def prepare(source: str, target: str, journal: str) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute(f"PRAGMA journal_mode={journal}")
    finally:
        dst.close()
        src.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: str | None = None, cookie: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Set-Cookie"), resp.read()
    finally:
        conn.close()


def log_in(port: int) -> str:
    _status, set_cookie, page = request(port, "GET", "/login/")
    cookie = set_cookie.split(";")[0]
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()
    body = urllib.parse.urlencode({"portal": "COURT", "username": "13800000001", "password": "Demo@2026",
                                   "csrf_token": token})
    status, set_cookie, _ = request(port, "POST", "/login/", body, cookie)
    if status != 302:
        raise SystemExit(f"login failed: {status}")
    return set_cookie.split(";")[0] if set_cookie else cookie


def start_server(db_path: str, mode: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "b" * 40, "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}
    env.pop("CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--log-level", "warning", f"benchmarks.concurrency_app:{mode}()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_up(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            request(port, "GET", "/login/")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


class Writer(threading.Thread):
    """Holds the write lock for `hold` seconds, lets go for 50 ms, again, until stopped."""

    def __init__(self, db_path: str, hold: float):
        super().__init__(daemon=True)
        self.db_path, self.hold = db_path, hold
        self.stop = threading.Event()
        self.transactions = 0

    def run(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=60)
        try:
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("UPDATE court SET name = name WHERE id = (SELECT min(id) FROM court)")
                time.sleep(self.hold)
                conn.execute("COMMIT")
                self.transactions += 1
                time.sleep(0.05)
        finally:
            conn.close()


def load(port: int, cookie: str, readers: int, seconds: float, page: str) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def reader():
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                status, _c, _b = request(port, "GET", page, cookie=cookie)
                ok = status in (200, 503)  # /health: 503 only says no worker runs in the benchmark
            except OSError:
                ok = False
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    load_start = os.getloadavg()[0]
    started = time.monotonic()
    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    qs = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {"rps": len(latencies) / wall, "p50": qs[49], "p95": qs[94], "p99": qs[98],
            "max": max(latencies) if latencies else float("nan"), "errors": errors[0],
            "load": (load_start, os.getloadavg()[0])}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--hold-ms", type=float, default=200)
    parser.add_argument("--db", help="an existing migrated SQLite database with the demo accounts (copied)")
    parser.add_argument("--page", choices=sorted(PAGES), action="append",
                        help="what the readers request (repeatable; default: health and list)")
    args = parser.parse_args(argv)
    pages = [PAGES[p] for p in (args.page or ["health", "list"])]
    tmp = tempfile.mkdtemp(prefix="court-bench-")
    try:
        source = args.db
        if source is None:
            source = os.path.join(tmp, "demo.db")
            print("building the demo database ...", file=sys.stderr)
            build_demo(source)
        rows = []
        for mode, journal in (("before", "DELETE"), ("after", "WAL")):
            db_path = os.path.join(tmp, f"{mode}.db")
            prepare(source, db_path, journal)
            port = free_port()
            server = start_server(db_path, mode, port)
            try:
                wait_up(port)
                cookie = log_in(port)
                load(port, cookie, args.readers, 2, pages[-1])  # warm both workers
                for page in pages:
                    for phase in ("reads alone", f"reads + writer ({args.hold_ms:.0f} ms holds)"):
                        writer = Writer(db_path, args.hold_ms / 1000) if "writer" in phase else None
                        if writer:
                            writer.start()
                        result = load(port, cookie, args.readers, args.seconds, page)
                        if writer:
                            writer.stop.set()
                            writer.join()
                            result["writes"] = writer.transactions / args.seconds
                        rows.append((mode, page, phase, result))
                        print(f"{mode:6} {page:20} {phase:30} {result['rps']:6.1f} rps  p50 {result['p50']:6.0f}  "
                              f"p99 {result['p99']:6.0f} ms  errors {result['errors']}", file=sys.stderr)
            finally:
                os.killpg(server.pid, 15)
                server.wait(timeout=30)
        print(f"\n{os.cpu_count()} cores; {args.readers} reader threads, {args.seconds:.0f} s per phase; "
              "gunicorn 2 sync workers; the writer holds the lock for "
              f"{args.hold_ms:.0f} ms of every {args.hold_ms + 50:.0f} ms\n")
        print("| mode | page | phase | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | writer tx/s "
              "| load 1 min (start→end) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for mode, page, phase, r in rows:
            writes = f"{r['writes']:.1f}" if "writes" in r else "—"
            print(f"| {mode} | `{page}` | {phase} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
                  f"{r['max']:.0f} | {r['errors']} | {writes} | {r['load'][0]:.2f}→{r['load'][1]:.2f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
