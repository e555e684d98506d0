"""Claims: how two or more `flask worker` processes share the outbox and the job queues (issue 17 item 3).

A worker takes a row — an outbox message, an export job, an import job —
by *claiming* it: it writes its claim token (`claimed_by`) and a lease
(`lease_until = now + WORKER_LEASE_SECONDS`) and commits before doing the
work. The claim is exactly-once:

- PostgreSQL: the candidates are read `FOR UPDATE SKIP LOCKED`, so two
  workers reading at once get disjoint rows and never wait for each other;
- SQLite (which has no row locks): a worker's transaction begins IMMEDIATE
  (app/transactions.py), so claims queue on the one write lock, and the claim
  itself is conditional — `UPDATE … WHERE id = :id AND <still claimable>` —
  counted by its rowcount (jobs: the version column, `Conflict` for the loser).

A lease is not forever: a worker that dies holding a claim (a crash, a
killed container) leaves a lease that expires, and the next worker to look
takes the row over. The work's outcome is recorded only under the claim that
did it (`WHERE claimed_by = :token`), so a row is *marked* exactly once; a
message delivered by a worker that died before marking it is delivered again
by the next one — at least once — and receivers drop the duplicate by
`message_id` (app/outbox.py). A job's work is one transaction or renews its
lease at each checkpoint, so a taken-over job never runs to completion twice.

Attempts are counted per claim (a job's `attempts`): a job whose worker
dies every time would otherwise be taken over forever. Once it has been
claimed `WORKER_MAX_ATTEMPTS` times (default 3) and its lease runs out again,
the next worker fails it (`give_up`, audited) with a reason its owner reads
on the job's page instead of claiming it once more.

`crash_point(where)` is fault injection for the crash tests
(tests/test_parallel_workers.py): inert unless the environment variable
`COURT_CRASH_AT` names that point, it ends the process on the spot, as a
power cut would — no rollback, no cleanup.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from flask import current_app

#: the exit status of an injected crash (tests tell it from a real failure)
CRASH_EXIT_STATUS = 75


def lease_seconds() -> float:
    return float(current_app.config.get("WORKER_LEASE_SECONDS") or 300)


def lease_until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=lease_seconds())


def max_attempts() -> int:
    """Claims of one job before it is given up (see the module docstring)."""
    return int(current_app.config.get("WORKER_MAX_ATTEMPTS") or 3)


def new_token(name: str | None = None) -> str:
    """A claim token: the worker's name, host and pid (for the operator), and a random part (one per round)."""
    who = name or "worker"
    return f"{who[:20]}@{socket.gethostname()[:16]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]


def crash_point(where: str) -> None:
    """End the process here when `COURT_CRASH_AT` (comma-separated) names `where` (see the module docstring).

    `COURT_CRASH_ONCE=<file>`: only the first process to reach the point crashes (it creates the file).
    """
    points = os.environ.get("COURT_CRASH_AT")
    if not points or where not in points.split(","):
        return
    once = os.environ.get("COURT_CRASH_ONCE")
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os._exit(CRASH_EXIT_STATUS)
