"""The benchmarks' own throwaway PostgreSQL server (not the test suite's on 55432).

    .venv/bin/python -m benchmarks.pgserver start|stop|status [--dir DIR] [--port PORT]

`scripts/pg-test-server` makes and starts the cluster (trust auth, loopback
only, fsync/synchronous_commit/full_page_writes off: a benchmark box, not a
production one); `ensure()` then sets the memory the data sets need once
(`ALTER SYSTEM`, restart) and creates the databases. Data lives under
`BENCH_PG_DIR` (default /work/benchdata/pg if /work exists, else
benchmarks/data/pg): 10 M cases with parties and audit trails take about
35 GB, more than /tmp should hold.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from .generate import ROOT

PORT = int(os.environ.get("BENCH_PG_PORT", "55440"))
DIR = os.environ.get("BENCH_PG_DIR") or (
    "/work/benchdata/pg" if os.path.isdir("/work") else os.path.join(ROOT, "benchmarks", "data", "pg"))
SCRIPT = os.path.join(ROOT, "scripts", "pg-test-server")
#: sized for a 2-core, 23 GB box shared with other work; the defaults (128 MB buffers,
#: 4 MB work_mem) spill every report's sort and hash to disk at 10 M rows
SETTINGS = {
    "shared_buffers": "3GB",
    "effective_cache_size": "12GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "16GB",
    "random_page_cost": "1.1",
    "max_connections": "200",
}


def bindir() -> str:
    return subprocess.run([SCRIPT, "bindir"], check=True, capture_output=True, text=True).stdout.strip()


def url(db: str, port: int = PORT) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{db}"


def running(port: int = PORT) -> bool:
    return subprocess.run([os.path.join(bindir(), "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0


def _psql(sql: str, port: int, db: str = "postgres") -> str:
    return subprocess.run([os.path.join(bindir(), "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                           "-d", db, "-Atqc", sql], check=True, capture_output=True, text=True).stdout.strip()


def ensure(databases: list[str] = (), directory: str = DIR, port: int = PORT) -> None:
    """Start the server if it is not running, apply SETTINGS, create the missing databases."""
    if not running(port):
        os.makedirs(os.path.dirname(directory), exist_ok=True)
        subprocess.run([SCRIPT, "start", directory, str(port)], check=True)
    current = {}
    for line in _psql("SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name IN ("
                      + ", ".join(f"'{k}'" for k in SETTINGS) + ")", port).splitlines():
        name, setting, unit = line.split("|")
        current[name] = _normal(setting, unit)
    wanted = {k: v for k, v in SETTINGS.items() if current.get(k) != _normal(v)}
    if wanted:
        for k, v in wanted.items():
            _psql(f"ALTER SYSTEM SET {k} = '{v}'", port)
        subprocess.run([SCRIPT, "stop", directory], check=True)
        subprocess.run([SCRIPT, "start", directory, str(port)], check=True)
    have = set(_psql("SELECT datname FROM pg_database", port).splitlines())
    for db in databases:
        if db not in have:
            subprocess.run([os.path.join(bindir(), "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                            db], check=True)


UNITS = {"kB": 1, "8kB": 8, "MB": 1024, "GB": 1024 * 1024}


def _normal(value: str, unit: str = "") -> str:
    """pg_settings' ('393216', '8kB') and our '3GB' alike, in kB; other values as they are."""
    if not unit:
        for u in ("kB", "MB", "GB"):
            if value.endswith(u) and value[:-2].isdigit():
                value, unit = value[:-2], u
    if unit in UNITS and value.replace(".", "").isdigit():
        return str(int(float(value) * UNITS[unit]))
    return value


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--dir", default=DIR)
    p.add_argument("--port", type=int, default=PORT)
    a = p.parse_args(argv)
    if a.action == "start":
        ensure([], a.dir, a.port)
        print(f"PostgreSQL on 127.0.0.1:{a.port}, data in {a.dir}")
    elif a.action == "stop":
        subprocess.run([SCRIPT, "stop", a.dir], check=True)
    else:
        print("running" if running(a.port) else "stopped")
        sys.exit(0 if running(a.port) else 1)


if __name__ == "__main__":
    main()
