"""`make bench-load`: 100 sessions for 5 minutes against gunicorn on PostgreSQL, 1 M cases (issue 17 item 7).

    .venv/bin/python -m benchmarks.load [--users 100] [--minutes 5] [--wait 1,3] [--phases app,peer,app-court]
                                        [--cases 1000000]

A smoke run at small scale (a 20k-case data set, generated in seconds):
`make bench-load BENCH_ARGS="--cases 20000 --users 20 --minutes 1"`.

Loopback only. The benchmarks' PostgreSQL (benchmarks/pgserver.py) with the
1 M-case data set (generated if missing, as `make bench-pg` does). Each
phase starts its server with deploy/gunicorn.conf.py (2 sync workers, the
production settings) on a free port, runs locust headless in one process
(benchmarks/locustfile.py, FastHttpUser) with the given number of sessions,
each logging in once and then clicking with a think time drawn from `--wait`
seconds, for `--minutes` from 20 s after the last session started (the ramp-up,
the logins and each worker's first pages are not counted), then stops the server. Phases:

- `app`: the app, mixed roles — 50 % court clerks (list, filters, a page
  further on, a party-name search, case pages), 25 % mediators (我的案件,
  their case pages, 延长调解期限 by one day: a GET and a POST that writes),
  15 % parties (the portal), 10 % report viewers (reports, the dashboard);
- `peer`: a default Flask-AppBuilder ModelView over the same table
  (benchmarks/peer_app.py), every session a court clerk with the same
  journey (the peer has no mediator, party or report pages);
- `app-court`: the app with the peer's load, for a like-for-like throughput.

`NAME@N` runs that phase's server with N sync workers instead of 2
(`--phases app,app@4,peer@4`): the same load against another worker count in
the same run. Each app phase's throughput is compared with the peer phase of
its own worker count when there is one.

The table gives, per page and in total: requests, errors, p50, p95, p99 (from
every response time, not locust's rounded buckets), requests per second, and
the machine's load average at the start and end of the phase: the load
generator, both workers, PostgreSQL and — on a shared box — other people's
work share the cores.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import sqlalchemy as sa

from app import clock

from . import generate, pgserver
from .core import uptime
from .generate import ROOT

SIZE = 1_000_000
WORKERS = 2  # gunicorn sync workers of a phase without @N: deploy/gunicorn.conf.py's default
TARGETS = ("app", "peer", "app-court")
WARMUP = 20  # seconds after the last session started before anything is counted (locustfile.py)
LIST = "/cases/pre-litigation/list/"
PEER_LIST = "/peercaseview/list/"
SURNAMES = ["张", "王", "李伟", "刘", "陈静", "张伟", "杨", "黄"]
GROUPS = {  # name -> which request names it pools
    "list pages": lambda n: ": list" in n or n == "mediator: my cases",
    "case pages": lambda n: "case page" in n,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plan(url: str, users: int, wait: tuple[float, float], target: str, court_id: int, data: dict) -> dict:
    if target == "app":
        shares = {"court": 0.5, "mediator": 0.25, "party": 0.15}
        counts = {k: round(users * v) for k, v in shares.items()}
        counts["report"] = users - sum(counts.values())
    else:
        counts = {"court": users, "mediator": 0, "party": 0, "report": 0}
    today = clock.today()
    if target == "peer":
        urls = {"list": PEER_LIST, "filter_status": "?_flt_3_status=MEDIATING", "filter_party": "?_flt_2_party_names=",
                "page_param": "?page_PeerCaseView=", "detail": "/peercaseview/show/{id}"}
        from .peer_app import ADMIN

        court_user = list(ADMIN)
    else:
        urls = {"list": LIST, "filter_status": "?_flt_0_status=MEDIATING", "filter_party": "?_flt_2_party_names=",
                "page_param": "?page_PreLitigationCaseView=", "detail": "/case/{id}"}
        court_user = [generate.ADMIN_PHONE, generate.PASSWORD]
    return {
        "target": target, "wait": list(wait), "users": counts, "court_user": court_user,
        "password": generate.PASSWORD, "surnames": SURNAMES, **urls,
        "report_month": f"/statistics/report?by=mediator&start={today - dt.timedelta(days=30)}&end={today}",
        "report_year": f"/statistics/report?by=organisation&start={today - dt.timedelta(days=364)}&end={today}",
        **data,
    }


def accounts(url: str, n_mediators: int, n_parties: int) -> dict:
    """The court's recent 诉前 case ids, mediators with 调解中 cases, and party accounts (created once,
    through the app's account helper, with the 当事人 role)."""
    from app.extensions import db
    from app.roles import PARTY
    from app.workflows.accounts import ensure_account

    app = generate.bench_app(url)
    with app.app_context():
        court_id = db.session.execute(sa.text("SELECT court_id FROM court_staff WHERE phone = :p"),
                                      {"p": generate.ADMIN_PHONE}).scalar_one()
        case_ids = list(db.session.scalars(sa.text(
            "SELECT id FROM mediation_case WHERE court_id = :c AND case_type = 'PRE_LITIGATION' "
            "ORDER BY id DESC LIMIT 5000"), {"c": court_id}))
        mediators = []
        for phone, ids in db.session.execute(sa.text(
                "SELECT m.phone, array_agg(c.id ORDER BY c.id DESC) FROM mediation_case c "
                "JOIN mediator m ON m.id = c.mediator_id WHERE c.court_id = :c AND c.status = 'MEDIATING' "
                "GROUP BY m.phone HAVING count(*) >= 2 ORDER BY count(*) DESC, m.phone LIMIT :n"),
                {"c": court_id, "n": n_mediators}):
            mediators.append({"phone": phone, "cases": ids[:20]})
        phones = list(db.session.scalars(sa.text(
            "SELECT DISTINCT p.phone FROM case_party p JOIN mediation_case c ON c.id = p.case_id "
            "WHERE c.court_id = :c AND p.phone IS NOT NULL AND c.id > (SELECT max(id) - 20000 FROM mediation_case) "
            "ORDER BY p.phone LIMIT :n"), {"c": court_id, "n": n_parties}))
        for phone in phones:
            ensure_account(phone, "当事人", [PARTY], password=generate.PASSWORD, notify=False)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"court_id": court_id, "data": {"case_ids": case_ids, "mediators": mediators, "parties": phones}}


def start_server(target: str, url: str, port: int, court_id: int, log: str, workers: int = WORKERS) -> subprocess.Popen:
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "DATABASE_URL": url, "WEB_CONCURRENCY": str(workers),
           "SECRET_KEY": "bench-load-" + "x" * 40, "PEER_COURT_ID": str(court_id),
           "LOG_LEVEL": os.environ.get("BENCH_LOAD_LOG_LEVEL", "WARNING")}
    app = "benchmarks.peer_app:wsgi()" if target == "peer" else "run:wsgi()"
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", app], cwd=ROOT,
                            env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def wait_up(port: int, seconds: float = 90) -> None:
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"server on {port} did not come up")


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))] if xs else float("nan")


def phase_of(name: str) -> tuple[str, int]:
    """`app` → ("app", 2); `app@4` → ("app", 4): the target and its gunicorn sync workers."""
    target, _, workers = name.partition("@")
    if target not in TARGETS or (workers and not workers.isdigit()):
        raise SystemExit(f"unknown phase {name!r}: one of {', '.join(TARGETS)}, optionally @WORKERS")
    return target, int(workers or WORKERS)


def run_phase(name: str, url: str, court_id: int, data: dict, a, logs: str) -> dict:
    target, workers = phase_of(name)
    port = free_port()
    server = start_server(target, url, port, court_id, os.path.join(logs, f"gunicorn-{name}.log"), workers)
    try:
        wait_up(port)
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            plan_path, out_path = os.path.join(tmp, "plan.json"), os.path.join(tmp, "times.json")
            with open(plan_path, "w", encoding="utf-8") as fh:
                json.dump(plan(url, a.users, a.wait, target, court_id, data), fh, ensure_ascii=False)
            ramp = a.users / a.spawn_rate
            env = {**os.environ, "BENCH_LOAD_PLAN": plan_path, "BENCH_LOAD_OUT": out_path,
                   "BENCH_LOAD_WARMUP": str(WARMUP)}
            load_start = os.getloadavg()[0]
            t0 = time.time()
            subprocess.run([sys.executable, "-m", "locust", "-f", os.path.join(ROOT, "benchmarks", "locustfile.py"),
                            "--headless", "-u", str(a.users), "-r", str(a.spawn_rate),
                            "-t", f"{int(ramp + 5 + WARMUP + a.minutes * 60)}s", "--reset-stats", "--only-summary",
                            "--host", f"http://127.0.0.1:{port}", "--loglevel", "WARNING"],
                           cwd=ROOT, env=env, check=False, stdout=open(os.path.join(logs, f"locust-{name}.log"), "w"),
                           stderr=subprocess.STDOUT)
            load_end = os.getloadavg()[0]
            with open(out_path, encoding="utf-8") as fh:
                times = json.load(fh)
    finally:
        server.terminate()
        server.wait(30)
    return {"target": name, "times": times, "load": (load_start, load_end), "wall": time.time() - t0}


def summarise(phase: dict) -> list[dict]:
    times, seconds = phase["times"]["requests"], phase["times"]["seconds"]
    rows = []
    names = sorted({r[0] for r in times if not r[0].startswith("login")})
    pools = {n: [r for r in times if r[0] == n] for n in names}
    for group, test in GROUPS.items():
        pools[f"**{group}**"] = [r for r in times if test(r[0])]
    pools["**all**"] = [r for r in times if not r[0].startswith("login")]
    for name, rs in pools.items():
        ms = [r[1] for r in rs]
        if not ms:
            continue
        rows.append({"name": name, "n": len(rs), "errors": sum(1 for r in rs if r[2]),
                     "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
                     "rps": len(rs) / seconds})
    return rows


def table(phases: list[dict]) -> str:
    lines = ["| run | page | requests | errors | p50 ms | p95 ms | p99 ms | req/s | load 1 min (start→end) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for ph in phases:
        for r in summarise(ph):
            lines.append(f"| {ph['target']} | {r['name']} | {r['n']:,} | {r['errors']} | {r['p50']:.0f} | "
                         f"{r['p95']:.0f} | {r['p99']:.0f} | {r['rps']:.1f} | "
                         f"{ph['load'][0]:.2f}→{ph['load'][1]:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=100)
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--wait", default="1,3", help="think time between a session's clicks, min,max seconds")
    p.add_argument("--spawn-rate", type=float, default=5)
    p.add_argument("--phases", default="app,peer,app-court",
                   help="app, peer, app-court; NAME@N runs its server with N gunicorn sync workers (default 2)")
    p.add_argument("--courts", type=int, default=3000, help="basic courts if the data set must be generated")
    p.add_argument("--cases", type=int, default=SIZE, help="the data set's size (generated if missing)")
    a = p.parse_args(argv)
    a.wait = tuple(float(x) for x in a.wait.split(","))
    for name in a.phases.split(","):
        phase_of(name)
    from .scale import db_name, prepare

    pgserver.ensure([db_name(a.cases)])
    url = prepare(a.cases, a.courts)
    info = accounts(url, n_mediators=max(1, round(a.users * 0.25)), n_parties=max(1, round(a.users * 0.15)) * 2)
    subprocess.run([sys.executable, "-c", f"from benchmarks.peer_app import setup; setup({url!r})"], cwd=ROOT,
                   check=True, capture_output=True)
    logs = os.path.join(os.path.dirname(pgserver.DIR), "logs")
    os.makedirs(logs, exist_ok=True)
    print(f"{a.users} sessions, {a.minutes:g} min each run after the ramp-up, think time {a.wait[0]:g}–{a.wait[1]:g} s; "
          f"gunicorn {WORKERS} sync workers unless a phase says @N; PostgreSQL, {a.cases:,} cases; logs in {logs}", flush=True)
    print(f"uptime at the start: {uptime()}", flush=True)
    phases = []
    for target in a.phases.split(","):
        print(f"  {target} …", end="", flush=True, file=sys.stderr)
        ph = run_phase(target, url, info["court_id"], info["data"], a, logs)
        total = next(r for r in summarise(ph) if r["name"] == "**all**")
        print(f" {total['n']:,} requests, {total['errors']} errors, p99 {total['p99']:.0f} ms", file=sys.stderr)
        phases.append(ph)
    print()
    print(table(phases))
    print(f"\nuptime at the end: {uptime()} ({os.cpu_count()} cores; the load generator, the servers and "
          f"PostgreSQL share them)")
    by = {ph["target"]: next(r for r in summarise(ph) if r["name"] == "**all**") for ph in phases}
    peers = {phase_of(name)[1]: name for name in by if phase_of(name)[0] == "peer"}
    for name, total in by.items():
        target, workers = phase_of(name)
        peer = peers.get(workers) or next(iter(peers.values()), None)
        if target != "peer" and peer:
            print(f"\nthroughput {name} / {peer}: {total['rps'] / by[peer]['rps']:.2f}× "
                  f"({total['rps']:.1f} vs {by[peer]['rps']:.1f} req/s)")


if __name__ == "__main__":
    main()
