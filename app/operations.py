"""Keeping the platform running: the worker loop and its heartbeat, /health, the production start check.

`flask worker` (app/commands.py) runs `Worker.run`: each round delivers the
outbox (app/outbox.py), runs queued exports (app/workflows/exports.py) and
批量导入 jobs (app/workflows/bulk_import.py), logs the audit
chain's anchor when it is due, and writes the heartbeat row. A round that
fails — a locked or unreachable database above all — is logged, rolled back,
and retried after a back-off that doubles up to `WORKER_MAX_BACKOFF_SECONDS`;
the loop itself never ends on an exception (only on SIGTERM/SIGINT, after the
round in progress). Nothing is lost by a failed round: a message stays
pending until a round records it delivered, and receivers drop duplicates by
`message_id` (outbox.py). Two or more workers may run side by side, on one
machine or several: each message and job is claimed by one of them, with a
lease another takes over when its holder dies (app/claims.py).

A supervisor restarts the process if it dies anyway (`make run`:
deploy/supervisord.conf; production: deploy/court-worker.service), and
/health answers 503 when the freshest heartbeat is older than
`WORKER_HEARTBEAT_STALE_SECONDS`, so a load balancer or monitor notices a
worker that is gone or stuck. /health stays cheap: two indexed look-ups, in
a read transaction that never waits for a writer on SQLite.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

import sqlalchemy as sa
from flask import Flask, current_app, jsonify
from werkzeug.security import check_password_hash

from .audit import current_anchor
from .clock import utcnow
from .demo import DEMO_INTRANET_KEY, DEMO_PASSWORD
from .enums import OutboxStatus
from .workflows.bulk_import import run_due_imports
from .workflows.exports import run_due_jobs
from .workflows.identity import purge_due_images
from .workflows.recordings import convert_next, remove_folder
from .workflows.internet import expire_overdue
from .workflows.stat_summary import refresh_dirty
from .extensions import db
from .models import IntranetApiKey, OutboxMessage, WorkerHeartbeat
from .outbox import deliver_due
from .api_keys import hash_key

log = logging.getLogger("court.worker")

#: every account `flask seed --demo` creates (tests/test_operations.py keeps this list complete)
DEMO_USERNAMES = (
    "admin",
    "13800000001", "13800000002", "13800000011",
    "13900000001", "13900000002", "13900000003", "13900000011",
    "13700000001", "13700000002",
    "13600000001",
    "13500000001", "13500000002", "13500000003", "13500000004",
    "13300000001",
    "52110105MJ0000018A",  # 调解组织端: 朝阳区商事调解中心 logs in with its credit code
)


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the pool replaces it
        db.session.remove()


def beat(name: str, started_at, rounds: int, failures: int, error: str | None = None) -> None:
    """Write this worker's heartbeat row (its own short transaction)."""
    now = utcnow()
    row = db.session.get(WorkerHeartbeat, name)
    if row is None:
        row = WorkerHeartbeat(name=name)
        db.session.add(row)
    row.pid, row.host, row.started_at, row.beat_at = os.getpid(), socket.gethostname()[:128], started_at, now
    row.rounds, row.failures = rounds, failures
    if error is not None:
        row.last_error, row.last_error_at = error[:500], now
    db.session.commit()


class Worker:
    """The loop of `flask worker` (see the module docstring)."""

    def __init__(self, name: str = "worker", interval: float | None = None, max_backoff: float | None = None):
        config = current_app.config
        self.name = name
        self.interval = config["WORKER_INTERVAL_SECONDS"] if interval is None else interval
        self.max_backoff = config["WORKER_MAX_BACKOFF_SECONDS"] if max_backoff is None else max_backoff
        self.anchor_every = config.get("AUDIT_ANCHOR_SECONDS") or 0
        self.stop = threading.Event()
        self.started_at = utcnow()
        self.rounds = 0
        self.failures = 0  # consecutive
        self._next_anchor = time.monotonic()

    def delay(self) -> float:
        if not self.failures:
            return self.interval
        return min(max(self.interval, 1.0) * 2 ** min(self.failures - 1, 16), self.max_backoff)

    def round(self) -> bool:
        """One round; True when it went through. Never raises an Exception."""
        try:
            counts = deliver_due(limit=current_app.config.get("WORKER_OUTBOX_BATCH") or 50, worker=self.name)
            if any(counts.values()):
                log.info("outbox: %s", counts, extra={"fields": {"event": "outbox.round", **counts}})
            if run_due_jobs(worker=self.name):
                log.info("exports: done", extra={"fields": {"event": "exports.round"}})
            if run_due_imports(worker=self.name):
                log.info("bulk import: done", extra={"fields": {"event": "imports.round"}})
            for _i in range(3):  # recordings Janus made: converted into the store, a few a round
                folder = convert_next()
                if folder is None:
                    break
                db.session.commit()
                remove_folder(folder)
                log.info("recordings: %s converted", folder, extra={"fields": {"event": "recordings.converted"}})
            purged = purge_due_images()
            db.session.commit()
            if purged:
                log.info("identity: %d ID image sets deleted", purged,
                         extra={"fields": {"event": "identity.images_purged", "count": purged}})
            returned = expire_overdue()  # Rules art 12: back to the applicant after 3 working days
            db.session.commit()
            if returned:
                log.info("internet: %d returned", returned, extra={"fields": {"event": "internet.expired"}})
            refreshed = refresh_dirty(db.session)  # the statistics summary's stale buckets
            db.session.commit()
            if refreshed:
                log.info("statistics: %d buckets refreshed", refreshed,
                         extra={"fields": {"event": "stats.refreshed", "count": refreshed}})
            self._anchor_when_due()
            self.rounds += 1
            self.failures = 0
            beat(self.name, self.started_at, self.rounds, self.failures)
            return True
        except Exception as exc:  # noqa: BLE001 - the loop must outlive any one round
            _rollback_quietly()
            self.failures += 1
            log.exception("worker round failed (%d in a row); retrying in %.0f s", self.failures, self.delay(),
                          extra={"fields": {"event": "worker.round_failed", "failures": self.failures,
                                            "error": type(exc).__name__}})
            try:
                beat(self.name, self.started_at, self.rounds, self.failures, f"{type(exc).__name__}: {exc}")
            except Exception:  # noqa: BLE001 - the database is still away: the stale heartbeat says so
                _rollback_quietly()
            return False

    def _anchor_when_due(self) -> None:
        if self.anchor_every <= 0 or time.monotonic() < self._next_anchor:
            return
        anchor = current_anchor(db.session)
        db.session.rollback()
        log.info("audit anchor %s", anchor.line(), extra={"fields": {
            "event": "audit.anchor", "seq": anchor.seq, "row_hash": anchor.row_hash}})
        self._next_anchor = time.monotonic() + self.anchor_every

    def _stop(self, signum, _frame) -> None:
        log.info("worker stopping (signal %d)", signum)
        self.stop.set()

    def run(self, once: bool = False) -> bool:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        log.info("flask worker %r started (pid %d)", self.name, os.getpid())
        while True:
            ok = self.round()
            if once or self.stop.is_set():
                return ok
            if self.stop.wait(self.delay()):
                return ok


def health():
    """200 when the database answers and the worker's heartbeat is fresh; 503 otherwise."""
    stale_after = float(current_app.config.get("WORKER_HEARTBEAT_STALE_SECONDS") or 0)
    try:
        beat_at = db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.beat_at)))
        undelivered = {status if isinstance(status, OutboxStatus) else OutboxStatus[status]: (n, first)
                       for status, n, first in db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count(), sa.func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)))
            .group_by(OutboxMessage.status))}
        pending, oldest = undelivered.get(OutboxStatus.PENDING, (0, None))
        failed = undelivered.get(OutboxStatus.FAILED, (0, None))[0]
        db.session.rollback()
    except sa.exc.SQLAlchemyError as exc:
        _rollback_quietly()
        return jsonify(status="error", database="unavailable", error=type(exc).__name__), 503
    now = utcnow()
    age = (now - beat_at).total_seconds() if beat_at else None
    stale = age is None or (stale_after > 0 and age > stale_after)
    body = {
        "status": "error" if stale else "ok",
        "database": "ok",
        "worker": {"last_heartbeat": _iso(beat_at), "age_seconds": _round(age), "stale": stale,
                   "stale_after_seconds": stale_after},
        # counts and ages only: /health is unauthenticated and names no case
        "outbox": {"pending": pending, "failed": failed, "oldest_undelivered_at": _iso(oldest),
                   "oldest_undelivered_age_seconds": _round((now - oldest).total_seconds() if oldest else None)},
    }
    return jsonify(body), 503 if stale else 200


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _round(value):
    return None if value is None else round(value, 1)


def unsafe_start_problems(app: Flask) -> list[str]:
    """Why the production profile must not serve this database (empty: it may)."""
    problems = []
    if app.debug:
        problems.append("DEBUG is on")
    if not app.config.get("WTF_CSRF_ENABLED", True):
        problems.append("CSRF protection is off")
    if len(app.config.get("SECRET_KEY") or "") < 32:
        problems.append("SECRET_KEY is shorter than 32 characters")
    with app.app_context():
        user_model = app.appbuilder.sm.user_model
        rows = db.session.execute(sa.select(user_model.username, user_model.password).where(
            user_model.username.in_(DEMO_USERNAMES), user_model.active.is_(True))).all()
        demo = sorted(name for name, hashed in rows if hashed and check_password_hash(hashed, DEMO_PASSWORD))
        if demo:
            problems.append(f"demo accounts still have the demo password: {', '.join(demo)}")
        key = db.session.scalar(sa.select(IntranetApiKey.id).where(
            IntranetApiKey.key_hash == hash_key(DEMO_INTRANET_KEY), IntranetApiKey.revoked_at.is_(None)))
        if key is not None:
            problems.append(f"the demo intranet key {DEMO_INTRANET_KEY} is not revoked")
        db.session.rollback()
    return problems


class UnsafeStart(RuntimeError):
    """The production profile refuses to serve (the message lists why)."""


def refuse_unsafe_start(app: Flask) -> None:
    """Under CONFIG=production, raise `UnsafeStart` instead of serving demo credentials."""
    if app.config.get("PROFILE") != "production":
        return
    problems = unsafe_start_problems(app)
    if problems:
        raise UnsafeStart("CONFIG=production refuses to start: " + "; ".join(problems))


def register(app: Flask) -> None:
    app.add_url_rule("/health", "health", health)
