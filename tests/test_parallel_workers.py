"""Two real `flask worker` processes share the outbox, the export jobs and the 批量导入 jobs (issue 17
items 3 and 4; SPEC §7; app/claims.py): each message and job is claimed by one of them, and a worker
killed between claim and mark (an injected crash: `COURT_CRASH_AT`, the process ends on the spot) loses
nothing and duplicates nothing — every message is delivered at least once and marked exactly once (the
receiver drops a re-delivery by message_id), no job runs to completion twice, an import is all or nothing.

Run on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (FOR UPDATE SKIP LOCKED).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from app.claims import CRASH_EXIT_STATUS
from app.enums import ExportStatus, ImportStatus, OutboxStatus, SmsKind
from app.extensions import db
from app.models import AuditLog, Court, CourtStaff, ExportJob, ImportJob, OutboxMessage, SmsOutbox
from app.outbox import enqueue
from app.security import Scope
from app.workflows import bulk_import
from app.workflows.actor import Actor

from .helpers import app_ctx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEASE = 2  # seconds: a dead worker's claims are taken over this soon
PERIOD = {"start": "2024-01-01", "end": "2024-06-30"}


class Receiver:
    """The court intranet over HTTP, as the worker's `http` adapter sees it: it counts every delivery by
    message_id (a real receiver applies the first and drops the rest) and takes a little time."""

    def __init__(self, delay: float = 0.05):
        self.deliveries: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.deliveries[body["message_id"]] = receiver.deliveries.get(body["message_id"], 0) + 1
                time.sleep(delay)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def spawn(db_url, name, tmp_path, crash_at=None, **env):
    """`flask --app run worker` as production runs it, on the test's database."""
    full = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "WORKER_LEASE_SECONDS": str(LEASE), "WORKER_OUTBOX_BATCH": "3", "AUDIT_ANCHOR_SECONDS": "0",
            "EXPORT_FOLDER": str(tmp_path / "exports"), "FILE_STORE_DIR": str(tmp_path / "files"),
            "FAB_UPDATE_PERMS": "0", "FAB_CREATE_DB": "0", "LOG_LEVEL": "WARNING",
            # a 2 s lease on a busy machine takes live workers' jobs over too: the cap has its own test
            "WORKER_MAX_ATTEMPTS": "20", **env}
    full.pop("COURT_CRASH_AT", None)
    if crash_at:
        full["COURT_CRASH_AT"] = crash_at
        full["COURT_CRASH_ONCE"] = str(tmp_path / "crashed")  # the first worker to get there dies, once
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "run", "worker", "--name", name,
                             "--interval", "0.2"], cwd=ROOT, env=full,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"{name}.log", "wb"))


def wait_until(app, done, workers, timeout=120):
    """Poll the database until `done()` holds; then stop the workers (SIGTERM: after their round)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with app_ctx(app):
                if done():
                    return
            if all(w.poll() is not None for w in workers):
                break
            time.sleep(0.3)
        pytest.fail("the workers did not finish the work in time")
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()


def _court(code="京0105") -> Court:
    return db.session.scalar(sa.select(Court).where(Court.code == code))


def _messages(n: int) -> list[str]:
    court = _court()
    ids = [enqueue("intranet.test", None, None, {"n": i}, court_id=court.id).message_id for i in range(n)]
    db.session.commit()
    return ids


def _audit_count(entity: str, entity_id: int, summary: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.entity == entity, AuditLog.entity_id == entity_id, AuditLog.summary == summary))


# --- the outbox ---------------------------------------------------------------------------------------

def test_two_workers_share_the_outbox_each_message_delivered_and_marked_once(fresh_app, db_url, tmp_path):
    """SPEC §7, issue 17 item 3: two workers at once, no crash — both deliver, nothing twice."""
    receiver = Receiver(delay=0.1)
    try:
        with app_ctx(fresh_app):
            ids = _messages(40)
        workers = [spawn(db_url, name, tmp_path, COURT_INTRANET="http", COURT_INTRANET_URL=receiver.url)
                   for name in ("w1", "w2")]

        def all_sent():
            return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.SENT)) == len(ids)

        wait_until(fresh_app, all_sent, workers)
    finally:
        receiver.close()
    with app_ctx(fresh_app):
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert {r.attempts for r in rows} == {1}  # marked exactly once
        assert {r.claimed_by.split("@")[0] for r in rows} == {"w1", "w2"}  # both took part
    assert receiver.deliveries == {i: 1 for i in ids}


@pytest.mark.parametrize("crash_at", ["outbox.claimed", "outbox.delivered"])
def test_a_worker_killed_between_claim_and_mark_loses_and_duplicates_no_message(fresh_app, db_url, tmp_path,
                                                                                crash_at):
    """SPEC §7, issue 17 item 3: one of two workers dies after claiming (before or after sending); its
    lease runs out, the other delivers the rest — each message marked once, the receiver drops the one
    re-delivery of a message the dead worker had sent (message_id)."""
    receiver = Receiver()
    try:
        with app_ctx(fresh_app):
            ids = _messages(12)
        env = {"COURT_INTRANET": "http", "COURT_INTRANET_URL": receiver.url}
        workers = [spawn(db_url, name, tmp_path, crash_at=crash_at, **env) for name in ("w1", "w2")]

        def all_sent():
            return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.SENT)) == len(ids)

        wait_until(fresh_app, all_sent, workers)
    finally:
        receiver.close()
    assert sorted(w.returncode for w in workers)[-1] == CRASH_EXIT_STATUS  # one of them was killed
    assert (tmp_path / "crashed").exists()
    with app_ctx(fresh_app):
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert {r.status for r in rows} == {OutboxStatus.SENT}
        # an attempt counts when its delivery starts: the one the dead worker was sending counts twice
        crashed_sending = 1 if crash_at == "outbox.delivered" else 0
        assert sorted(r.attempts for r in rows) == [1] * (len(ids) - crashed_sending) + [2] * crashed_sending
        assert {r.lease_until for r in rows} == {None}
    assert set(receiver.deliveries) == set(ids)  # every message delivered at least once
    twice = [i for i, n in receiver.deliveries.items() if n > 1]
    assert len(twice) == (1 if crash_at == "outbox.delivered" else 0)
    assert max(receiver.deliveries.values()) <= 2


# --- export jobs --------------------------------------------------------------------------------------

def _export_jobs(n: int) -> list[int]:
    user_id = db.session.scalar(sa.text("SELECT id FROM ab_user WHERE username='13800000001'"))
    params = {"query": PERIOD | {"by": "mediator"}, "reach": {"court_ids": [_court().id], "organisation_ids": None},
              "figure": "received", "key": "all"}
    jobs = [ExportJob(user_id=user_id, kind="case_detail", title=f"导出{i}", status=ExportStatus.QUEUED,
                      params=params) for i in range(n)]
    db.session.add_all(jobs)
    db.session.commit()
    return [j.id for j in jobs]


def all_done(model, done, count: int):
    """wait_until's predicate: `count` rows of `model` (jobs) are `done`."""
    return lambda: db.session.scalar(sa.select(sa.func.count()).select_from(model).where(
        model.status == done)) == count


@pytest.mark.parametrize("crash_at", ["export.claimed", "export.written"])
def test_a_worker_killed_while_exporting_leaves_each_job_finished_once(fresh_app, db_url, tmp_path, crash_at):
    """SPEC §6, issue 17 item 3: a worker dies holding an export; after its lease the other takes the job
    over and writes it — every job done, each finished exactly once."""
    with app_ctx(fresh_app):
        ids = _export_jobs(4)
    workers = [spawn(db_url, name, tmp_path, crash_at=crash_at) for name in ("w1", "w2")]

    wait_until(fresh_app, all_done(ExportJob, ExportStatus.DONE, len(ids)), workers)
    assert sorted(w.returncode for w in workers)[-1] == CRASH_EXIT_STATUS
    with app_ctx(fresh_app):
        for job_id in ids:
            job = db.session.get(ExportJob, job_id)
            assert os.path.exists(job.path)
            assert _audit_count("export_job", job_id, "export_job.finish") == 1
        taken_over = sum(_audit_count("export_job", j, "export_job.take_over") for j in ids)
        assert taken_over == 1  # the dead worker's one job, and only it


# --- 批量导入 jobs ------------------------------------------------------------------------------------

def _import_jobs(phones_per_job: list[list[str]]) -> list[int]:
    admin = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13800000001"))
    actor = Actor(admin.user_id, Scope(portal=None, court_id=admin.court_id, is_court_admin=True,
                                       staff_id=admin.id))
    ids = []
    for phones in phones_per_job:
        rows = [bulk_import.Row(n + 2, f"用户{p[-4:]}", p, "书记员", False, [], True) for n, p in enumerate(phones)]
        ids.append(bulk_import.queue_import(rows, actor, "users.xlsx").id)
    db.session.commit()
    return ids


@pytest.mark.parametrize("crash_at", ["import.hashed", "import.created"])
def test_a_worker_killed_while_importing_leaves_all_or_nothing_then_every_user_once(fresh_app, db_url, tmp_path,
                                                                                   crash_at):
    """[FAQ 2.1] issue 17 item 4: a worker dies after hashing, or after creating every user but before
    its commit — nothing of that run stays; the other worker takes the job over and imports each user
    exactly once, with one initial-password SMS each."""
    phones = [[f"1371000{j}{i:03d}" for i in range(150)] for j in range(2)]
    with app_ctx(fresh_app):
        ids = _import_jobs(phones)
    workers = [spawn(db_url, name, tmp_path, crash_at=crash_at) for name in ("w1", "w2")]

    wait_until(fresh_app, all_done(ImportJob, ImportStatus.DONE, len(ids)), workers)
    assert sorted(w.returncode for w in workers)[-1] == CRASH_EXIT_STATUS
    everyone = [p for job in phones for p in job]
    with app_ctx(fresh_app):
        staff = db.session.scalars(sa.select(CourtStaff.phone).where(CourtStaff.phone.in_(everyone))).all()
        assert sorted(staff) == sorted(everyone)
        sms = db.session.scalars(sa.select(SmsOutbox.phone).where(
            SmsOutbox.phone.in_(everyone), SmsOutbox.kind == SmsKind.INITIAL_PASSWORD)).all()
        assert sorted(sms) == sorted(everyone)
        for job_id, job_phones in zip(ids, phones):
            job = db.session.get(ImportJob, job_id)
            assert (job.created, job.done, job.total) == (len(job_phones),) * 3
            assert _audit_count("import_job", job_id, "import_job.finish") == 1
        assert sum(_audit_count("import_job", j, "import_job.take_over") for j in ids) == 1


def test_a_worker_whose_lease_ran_out_cannot_mark_what_another_took_over(app):
    """SPEC §7, issue 17 item 3: a stalled (not dead) worker's late outcome is not recorded over the
    claim that took its message over — one mark, by the worker that holds the claim."""
    import datetime as dt

    from app.clock import utcnow
    from app.outbox import _deliver_one, claim_due

    with app_ctx(app):
        (message_id,) = _messages(1)
        pk = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.message_id == message_id))
        now = utcnow()
        assert claim_due("stalled", now, 10) == [pk]
        assert claim_due("other", now, 10) == []  # the lease runs: nobody else takes it
        later = now + dt.timedelta(seconds=app.config["WORKER_LEASE_SECONDS"] + 1)
        deliveries = []

        class SlowReceiver:
            def deliver(self, envelope):
                deliveries.append(envelope.message_id)
                if len(deliveries) == 1:  # while "stalled" delivers, its lease runs out and "other" takes over
                    assert claim_due("other", later, 10) == [pk]
                return True

        app.config["COURT_INTRANET"] = SlowReceiver()
        assert _deliver_one(pk, "stalled", lambda: later) is None  # delivered, but its mark is refused
        message = db.session.get(OutboxMessage, pk)
        # the stalled delivery counted when it began; "other" holds the message now
        assert (message.status, message.attempts, message.claimed_by) == (OutboxStatus.PENDING, 1, "other")
        db.session.rollback()
        assert _deliver_one(pk, "other", lambda: later) == "sent"
        message = db.session.get(OutboxMessage, pk)
        assert (message.status, message.attempts, message.claimed_by) == (OutboxStatus.SENT, 2, "other")
    assert deliveries == [message_id, message_id]  # at least once: the receiver drops the second by message_id


# --- the attempt cap ----------------------------------------------------------------------------------

class _WorkerDied(BaseException):
    """The delivering process ends on the spot (as os._exit would): nothing records the outcome."""


def test_a_message_that_kills_its_worker_every_time_is_given_up_after_max_attempts_and_can_be_resent(app):
    """SPEC §7, issue 17 item 3: an attempt counts when its delivery starts, so a poison message is not
    claimed forever — after MAX_ATTEMPTS deaths the next worker fails it with a Chinese reason that tells
    platform staff what to do; 重新推送 gives it a fresh start."""
    import datetime as dt

    from app.clock import utcnow
    from app.outbox import MAX_ATTEMPTS, deliver_due, resend

    calls = []

    class Deadly:
        def deliver(self, envelope):
            calls.append(envelope.message_id)
            raise _WorkerDied()

    app.config["COURT_INTRANET"] = Deadly()
    lease = dt.timedelta(seconds=app.config["WORKER_LEASE_SECONDS"] + 1)
    with app_ctx(app):
        (message_id,) = _messages(1)
        pk = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.message_id == message_id))
        now = utcnow()
        for n in range(1, MAX_ATTEMPTS + 1):
            with pytest.raises(_WorkerDied):
                deliver_due(now, worker=f"w{n}")
            db.session.rollback()
            message = db.session.get(OutboxMessage, pk)
            assert (message.status, message.attempts) == (OutboxStatus.PENDING, n)  # counted though unrecorded
            assert deliver_due(now) == {"sent": 0, "retry": 0, "failed": 0}  # its lease still runs
            now += lease
        assert deliver_due(now) == {"sent": 0, "retry": 0, "failed": 0}
        db.session.expire_all()
        message = db.session.get(OutboxMessage, pk)
        assert message.status is OutboxStatus.FAILED and message.lease_until is None
        assert f"中断了 {MAX_ATTEMPTS} 次" in message.last_error and "重新推送" in message.last_error
        assert calls == [message_id] * MAX_ATTEMPTS  # not one delivery more

        app.config["COURT_INTRANET"] = "local"
        resend(message)
        db.session.commit()
        assert deliver_due(now)["sent"] == 1
        db.session.expire_all()
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)


def test_a_message_on_its_last_attempt_is_not_given_up_while_its_worker_still_holds_it(app):
    import datetime as dt

    from app.clock import utcnow
    from app.outbox import MAX_ATTEMPTS, claim_due

    with app_ctx(app):
        (message_id,) = _messages(1)
        message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.message_id == message_id))
        now = utcnow()
        message.attempts = MAX_ATTEMPTS - 1
        db.session.commit()
        assert claim_due("slow", now, 10) == [message.id]  # its last attempt: it may still succeed
        message.attempts = MAX_ATTEMPTS  # what the delivery's start records
        db.session.commit()
        assert claim_due("other", now + dt.timedelta(seconds=1), 10) == []
        db.session.expire_all()
        assert (message.status, message.claimed_by) == (OutboxStatus.PENDING, "slow")
        later = now + dt.timedelta(seconds=app.config["WORKER_LEASE_SECONDS"] + 1)
        assert claim_due("other", later, 10) == []  # "slow" died: given up, not claimed again
        db.session.expire_all()
        assert message.status is OutboxStatus.FAILED


def _claimed_until_given_up(claim, job_id: int) -> list[int]:
    """Claim `job_id` as one fresh worker after another, none finishing (each dies, its lease 0 s): the
    attempts counted at each claim, until a claim takes nothing."""
    seen = []
    for n in range(10):
        job = claim(job_id, f"worker-{n}")
        if job is None:
            return seen
        seen.append(job.attempts)
    return seen


@pytest.mark.parametrize("cap", [3, 1])
def test_an_export_whose_worker_dies_every_time_is_given_up_after_the_cap(app, login_as, monkeypatch, cap):
    """A job re-claimed forever is a worker busy forever: after WORKER_MAX_ATTEMPTS claims (default 3) the
    next worker fails it, audited, with a Chinese reason the owner reads under 我的导出."""
    from app.workflows import exports

    monkeypatch.setitem(app.config, "WORKER_LEASE_SECONDS", 1e-6)  # each claim's lease runs out at once
    if cap != 3:
        monkeypatch.setitem(app.config, "WORKER_MAX_ATTEMPTS", cap)
    else:
        assert app.config["WORKER_MAX_ATTEMPTS"] == 3
    with app_ctx(app):
        (job_id,) = _export_jobs(1)
        assert _claimed_until_given_up(exports.claim, job_id) == list(range(1, cap + 1))
        job = db.session.get(ExportJob, job_id)
        assert job.status is ExportStatus.FAILED and job.claimed_by is None and job.lease_until is None
        assert f"已中断{cap}次" in job.error and "请重新导出" in job.error
        assert _audit_count("export_job", job_id, "export_job.give_up") == 1
        assert _audit_count("export_job", job_id, "export_job.take_over") == cap - 1
        assert exports.claim(job_id, "later") is None and exports.run_due_jobs() == 0  # nothing left to take
    owner = login_as("13800000001")
    assert f"已中断{cap}次" in owner.get("/statistics/exports/").get_data(as_text=True)
    assert f"已中断{cap}次" in owner.get(f"/statistics/exports/{job_id}").get_data(as_text=True)
    assert owner.get(f"/statistics/exports/{job_id}/status").get_json()["status"] == "failed"


def test_an_import_whose_worker_dies_every_time_is_given_up_after_three_attempts(app, login_as, monkeypatch):
    """The same cap for 批量导入: failed, nothing imported, the reason on the import job's page."""
    monkeypatch.setitem(app.config, "WORKER_LEASE_SECONDS", 1e-6)
    with app_ctx(app):
        (job_id,) = _import_jobs([["13710009001", "13710009002"]])
        assert _claimed_until_given_up(bulk_import.claim_import, job_id) == [1, 2, 3]
        job = db.session.get(ImportJob, job_id)
        assert job.status is ImportStatus.FAILED and job.created == 0
        assert _audit_count("import_job", job_id, "import_job.give_up") == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CourtStaff).where(
            CourtStaff.phone.in_(["13710009001", "13710009002"]))) == 0
    page = login_as("13800000001").get(f"/court-users/import/{job_id}").get_data(as_text=True)
    assert "已中断3次" in page and "未导入任何用户" in page


def test_a_real_worker_crashing_on_every_claim_gives_the_export_up(fresh_app, db_url, tmp_path):
    """With the crash injection: workers die right after each claim (COURT_CRASH_AT=export.claimed, every
    time); after WORKER_MAX_ATTEMPTS=2 claims the next worker fails the job instead of dying on it again."""
    with app_ctx(fresh_app):
        (job_id,) = _export_jobs(1)
    once = tmp_path / "crashed"
    for _attempt in range(2):
        if once.exists():
            once.unlink()
        worker = spawn(db_url, f"crash{_attempt}", tmp_path, crash_at="export.claimed", WORKER_MAX_ATTEMPTS="2")
        assert worker.wait(60) == CRASH_EXIT_STATUS
    if once.exists():
        once.unlink()
    survivor = spawn(db_url, "survivor", tmp_path, crash_at="export.claimed", WORKER_MAX_ATTEMPTS="2")
    wait_until(fresh_app, all_done(ExportJob, ExportStatus.FAILED, 1), [survivor])
    assert survivor.returncode != CRASH_EXIT_STATUS  # it gave the job up rather than claim and die
    with app_ctx(fresh_app):
        job = db.session.get(ExportJob, job_id)
        assert job.attempts == 2 and "已中断2次" in job.error
        assert _audit_count("export_job", job_id, "export_job.give_up") == 1
