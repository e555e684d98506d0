"""Issue 16, operations: serving like production, a worker that never dies silently, reads that never
queue behind a writer on SQLite, a tamper-evident audit trail, backup and restore.

The slow test at the end (`slow` marker, ~90 s, SQLite) runs the app as `make run` does — gunicorn and
a supervised worker — kills the worker, holds the write lock for 60 s and watches /health.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from werkzeug import exceptions as http
from werkzeug.security import generate_password_hash

from app import audit, backup, create_app
from app.clock import utcnow
from app.enums import AuditAction, CaseStatus, OutboxStatus
from app.extensions import db
from app.models import (Agreement, AuditChainHead, AuditLog, Court, IntranetApiKey, OutboxMessage, SimulatedIntranetInbox,
                        Tribunal, WorkerHeartbeat)
from app.operations import DEMO_USERNAMES, UnsafeStart, Worker, beat, refuse_unsafe_start, unsafe_start_problems
from app.outbox import enqueue
from app.serving import JsonFormatter, RequestIdFilter, external_url
from app.transactions import is_writing, reading, writing

from .case_factory import make_case
from .helpers import BASE_CONFIG, PG_URL, app_ctx, login, make_app, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQLITE_ONLY = pytest.mark.skipif(bool(PG_URL), reason="SQLite's write lock")
TERMS = {"terms": "被申请人于2026年12月31日前支付货款50000元", "performance_manner": "银行转账",
         "performance_place": "北京市朝阳区", "performance_deadline": "2026年12月31日前",
         "disputed_items": "货款金额", "liability": "被申请人承担主要责任"}


# --- 1. error pages ------------------------------------------------------------------------------

@pytest.mark.parametrize("error, code, words", [
    (http.BadRequest, 400, "无法处理"),
    (http.Forbidden, 403, "没有权限"),
    (http.NotFound, 404, "不存在"),
    (http.MethodNotAllowed(["GET"]), 405, "不接受"),
    (http.RequestEntityTooLarge, 413, "上传内容超过"),
    (http.TooManyRequests, 429, "请求过于频繁"),
    (http.InternalServerError, 500, "服务器出错"),
])
def test_every_error_page_is_chinese_with_the_request_id_and_json_under_api(app, monkeypatch, error, code, words):
    def boom(*_args, **_kwargs):
        raise error() if isinstance(error, type) else error

    monkeypatch.setitem(app.view_functions, "health", boom)
    monkeypatch.setitem(app.view_functions, "intranet_api.results", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    page = app.test_client().get("/health", headers={"X-Request-Id": "req-abc-12345"})
    assert page.status_code == code and page.mimetype == "text/html"
    assert words in text(page) and "req-abc-12345" in text(page) and "请求编号" in text(page)
    assert page.headers["X-Request-Id"] == "req-abc-12345"
    api = app.test_client().post("/api/v1/intranet/results")
    assert api.status_code == code
    assert api.json["status"] == "error" and words in api.json["reason"]
    assert api.json["request_id"] == api.headers["X-Request-Id"]


def test_unknown_pages_and_api_paths_answer_404_in_chinese(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "页面不存在" in text(page)
    api = client.get("/api/v1/intranet/nothing-here")
    assert api.status_code == 404 and api.json["status"] == "error" and "不存在" in api.json["reason"]


def test_a_missing_csrf_token_is_explained_in_chinese(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    resp = client.post("/login/", data={"portal": "COURT", "username": "13800000001", "password": "x"})
    assert resp.status_code == 400
    assert "安全令牌" in text(resp) and "CSRF" not in text(resp)


def test_an_oversize_request_is_refused_with_the_limit_in_chinese(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    resp = client.post("/login/", data={"file": (io.BytesIO(b"x" * (1024 * 1024 + 1)), "a.bin")},
                       content_type="multipart/form-data")
    assert resp.status_code == 413 and "上传内容超过1MB" in text(resp)


def test_a_request_id_from_the_proxy_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/login/", headers={"X-Request-Id": "abcdef0123456789"}).headers["X-Request-Id"] \
        == "abcdef0123456789"
    replaced = client.get("/login/", headers={"X-Request-Id": "<script>alert(1)</script>"}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_json_log_lines_carry_the_request_id(app):
    with app.test_request_context("/x", headers={"X-Request-Id": "rid-0123456789"}):
        app.preprocess_request()
        record = logging.LogRecord("court.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
        record.fields = {"status": 200}
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "rid-0123456789" and line["msg"] == "GET /x" and line["status"] == 200


# --- 1. production profile -----------------------------------------------------------------------

def test_production_refuses_to_start_without_a_secret_key(db_url):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": db_url, "PROFILE": "production", "SECRET_KEY": None})
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    done = subprocess.run([sys.executable, "-c", "import run; run.wsgi()"], cwd=ROOT, capture_output=True,
                          text=True, env={**env, "CONFIG": "production", "DATABASE_URL": db_url}, timeout=120)
    assert done.returncode != 0 and "CONFIG=production needs SECRET_KEY" in done.stderr


def test_production_refuses_demo_accounts_with_the_demo_password_and_the_demo_intranet_key(app):
    app.config.update(PROFILE="production", WTF_CSRF_ENABLED=True)
    with pytest.raises(UnsafeStart) as refused:
        refuse_unsafe_start(app)
    assert "13800000001" in str(refused.value) and "admin" in str(refused.value)
    assert "ik_demo_intranet_2026" in str(refused.value)
    with app_ctx(app):
        user_model = app.appbuilder.sm.user_model
        db.session.execute(sa.update(user_model).where(user_model.username.in_(DEMO_USERNAMES))
                           .values(password=generate_password_hash("Changed-2027", "pbkdf2:sha256:1000")))
        db.session.execute(sa.update(IntranetApiKey).values(revoked_at=utcnow()))
        db.session.commit()
    assert unsafe_start_problems(app) == []
    refuse_unsafe_start(app)


def test_the_demo_account_list_names_every_account_with_the_demo_password(app):
    from werkzeug.security import check_password_hash

    with app_ctx(app):
        user_model = app.appbuilder.sm.user_model
        rows = db.session.execute(sa.select(user_model.username, user_model.password)).all()
    assert {name for name, hashed in rows if check_password_hash(hashed, "Demo@2026")} == set(DEMO_USERNAMES)


def test_seed_refuses_demo_data_in_production_and_create_admin_needs_no_demo(app):
    runner = app.test_cli_runner()
    app.config["PROFILE"] = "production"
    refused = runner.invoke(args=["seed", "--demo"])
    assert refused.exit_code != 0 and "create-admin" in refused.output
    weak = runner.invoke(args=["create-admin", "--username", "root", "--password", "short"])
    assert weak.exit_code != 0
    done = runner.invoke(args=["create-admin", "--username", "root", "--password", "Court-Admin-2027"])
    assert done.exit_code == 0, done.output
    with app_ctx(app):
        user = app.appbuilder.sm.find_user(username="root")
        assert [r.name for r in user.roles] == ["平台管理员"]
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.summary == "account.admin_created"))
        assert row.entity == "ab_user" and row.entity_id == user.id
    assert runner.invoke(args=["create-admin", "--username", "root", "--password", "Court-Admin-2027"]).exit_code


def test_production_trusts_its_proxy_marks_cookies_secure_and_sends_hsts_behind_tls(db_url):
    from flask import request

    app = make_app(db_url, PROFILE="production", PROXY_COUNT=1)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["LOG_FORMAT"] == "json" and app.config["PREFERRED_URL_SCHEME"] == "https"
    app.view_functions["health"] = lambda: request.remote_addr
    client = app.test_client()
    tls = client.get("/health", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert text(tls) == "203.0.113.9"  # the address the one trusted proxy saw
    spoofed = client.get("/health", base_url="http://localhost",
                         headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert "Strict-Transport-Security" not in spoofed.headers and text(spoofed) == "203.0.113.9"
    with app.app_context():
        db.engine.dispose()


def test_the_signing_qr_carries_the_configured_external_address(app, login_as):
    app.config["EXTERNAL_BASE_URL"] = "http://192.168.1.20:5000"
    with app.test_request_context("/", base_url="http://127.0.0.1:5000"):
        assert external_url("SigningView.sign", token="t") == "http://192.168.1.20:5000/sign/t"
        app.config["EXTERNAL_BASE_URL"] = None
        assert external_url("SigningView.sign", token="t") == "http://127.0.0.1:5000/sign/t"
    app.config["EXTERNAL_BASE_URL"] = "http://192.168.1.20:5000"
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post(f"/case/{case_id}/agreement/new", data=TERMS)
    with app_ctx(app):
        doc = db.session.scalar(sa.select(Agreement.id).where(Agreement.case_id == case_id))
    html = text(mediator.get(f"/case/{case_id}/sign-qr/AGREEMENT/{doc}"))
    assert re.search(r"http://192\.168\.1\.20:5000/sign/[A-Za-z0-9_\-]+", html)


# --- 2. the worker and /health -------------------------------------------------------------------

def test_health_is_503_until_the_worker_beats_and_again_when_its_heartbeat_is_stale(app, client):
    gone = client.get("/health")
    assert gone.status_code == 503 and gone.json["worker"]["stale"] and gone.json["database"] == "ok"
    with app_ctx(app):
        beat("worker", utcnow(), 1, 0)
        enqueue("intranet.case_handover", None, None, {"n": 1})
        db.session.commit()
    ok = client.get("/health")
    assert ok.status_code == 200 and ok.json["status"] == "ok" and not ok.json["worker"]["stale"]
    assert ok.json["outbox"]["pending"] >= 1 and ok.json["outbox"]["oldest_undelivered_at"].endswith("Z")
    app.config["WORKER_HEARTBEAT_STALE_SECONDS"] = 0.000001
    time.sleep(0.01)
    assert client.get("/health").status_code == 503


def test_a_worker_round_survives_database_errors_backs_off_and_recovers(app, monkeypatch):
    calls = []

    def flaky(*_args, **_kwargs):
        calls.append(1)
        if len(calls) <= 3:
            raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
        return {"sent": 0, "retry": 0, "failed": 0}

    monkeypatch.setattr("app.operations.deliver_due", flaky)
    with app_ctx(app):
        worker = Worker(interval=1, max_backoff=3)
        delays = []
        for _ in range(4):
            worker.round()
            delays.append(worker.delay())
        row = db.session.get(WorkerHeartbeat, "worker")
        assert row.rounds == 1 and row.failures == 0 and "database is locked" in row.last_error
    assert delays == [1, 2, 3, 1]  # doubles, capped, back to the interval after a good round


# --- 3. SQLite: reads do not take the write lock -------------------------------------------------

def test_only_writing_requests_and_commands_begin_immediate(app):
    assert is_writing()  # CLI, worker, scripts
    with reading():
        assert not is_writing()
    for method, writes_ in [("GET", False), ("HEAD", False), ("POST", True), ("PUT", True), ("DELETE", True)]:
        with app.test_request_context("/login/", method=method):
            assert is_writing() is writes_
    with app.test_request_context("/case/1/sign-qr/AGREEMENT/1"):
        assert is_writing()  # a GET that issues a token is marked @writes
    with app.test_request_context("/login/"), writing():
        assert is_writing()


@SQLITE_ONLY
def test_a_page_view_does_not_wait_for_a_writer_holding_the_lock(fresh_app, db_url):
    client = fresh_app.test_client()
    login(client, "13800000001")
    path = sa.engine.make_url(db_url).database
    with app_ctx(fresh_app):
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        page = client.get("/court-users/list/")
        health = client.get("/health")
        elapsed = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert page.status_code == 200 and health.status_code == 503  # 503: no worker in this test
    assert elapsed < 10, f"reads waited {elapsed:.1f}s for the writer (the busy timeout is 30 s)"


# --- 4. the audit chain --------------------------------------------------------------------------

def _lift_append_only(dialect: str) -> None:
    if dialect == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_log_no_delete"))


def _audited_rows(n: int) -> list[int]:
    court = db.session.scalar(sa.select(Court).where(Court.code == "京0105"))
    for i in range(n):
        audit.record(db.session, court, AuditAction.UPDATE, "test.chain", {"i": i})
    db.session.flush()
    return list(db.session.scalars(sa.select(AuditLog.id).order_by(AuditLog.seq.desc()).limit(n)))[::-1]


def test_each_audit_row_is_chained_to_the_previous_in_the_same_transaction(app):
    with app_ctx(app):
        ids = _audited_rows(3)
        rows = [db.session.get(AuditLog, pk) for pk in ids]
        assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 3))
        assert rows[1].prev_hash == rows[0].row_hash and rows[2].prev_hash == rows[1].row_hash
        head = db.session.get(AuditChainHead, 1)
        assert (head.seq, head.row_hash) == (rows[2].seq, rows[2].row_hash)
        result = audit.verify_chain(db.session)
        assert result.broken is None and result.head.seq == rows[2].seq


@pytest.mark.parametrize("tamper, reason", [
    ("rewrite", "rewritten"),
    ("delete", "missing"),
    ("insert", "outside the chain"),
    ("forge_next", "does not match the newest row"),
    ("delete_newest", "does not match the newest row"),
])
def test_verify_names_the_first_row_someone_changed_in_the_database(app, tamper, reason):
    with app_ctx(app):
        dialect = db.engine.dialect.name
        ids = _audited_rows(4)
        _lift_append_only(dialect)
        expected = ids[1]
        if tamper == "rewrite":
            db.session.execute(sa.text("UPDATE audit_log SET summary = 'nothing happened' WHERE id = :i"),
                               {"i": ids[1]})
        elif tamper == "delete":
            db.session.execute(sa.text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[1]})
            expected = ids[2]
        elif tamper == "insert":
            db.session.execute(sa.text("INSERT INTO audit_log (at, action, entity, summary) "
                                       "VALUES (CURRENT_TIMESTAMP, 'DELETE', 'mediation_case', 'x')"))
            expected = db.session.scalar(sa.select(sa.func.max(AuditLog.id)))
        elif tamper == "forge_next":
            last = db.session.get(AuditLog, ids[-1])
            values = {f: getattr(last, f) for f in audit.CHAIN_FIELDS} | {"seq": last.seq + 1, "summary": "forged"}
            db.session.execute(sa.insert(AuditLog.__table__).values(
                **values, prev_hash=last.row_hash, row_hash=audit.row_digest(values, last.row_hash)))
            expected = None
        elif tamper == "delete_newest":
            db.session.execute(sa.text("DELETE FROM audit_log WHERE id IN (:a, :b)"), {"a": ids[-1], "b": ids[-2]})
            expected = None
        db.session.expire_all()
        result = audit.verify_chain(db.session)
        assert result.broken is not None and reason in result.broken.reason
        assert result.broken.row_id == expected
        db.session.rollback()


def test_an_anchor_kept_outside_catches_the_newest_rows_deleted_with_the_head_rewritten(app, tmp_path):
    runner = app.test_cli_runner()
    anchors = tmp_path / "anchors.jsonl"
    with app_ctx(app):
        ids = _audited_rows(3)
        db.session.commit()
    out = runner.invoke(args=["audit", "anchor", "--append", str(anchors)])
    assert out.exit_code == 0 and json.loads(out.output)["seq"] > 0
    ok = runner.invoke(args=["audit", "verify", "--anchor", str(anchors)])
    assert ok.exit_code == 0 and "1 anchors matched" in ok.output
    with app_ctx(app):
        _lift_append_only(db.engine.dialect.name)
        db.session.execute(sa.text("DELETE FROM audit_log WHERE id IN (:a, :b)"), {"a": ids[-1], "b": ids[-2]})
        keep = db.session.get(AuditLog, ids[0])
        db.session.execute(sa.update(AuditChainHead).values(seq=keep.seq, row_hash=keep.row_hash))
        db.session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # a consistent shorter chain...
    broken = runner.invoke(args=["audit", "verify", "--anchor", str(anchors)])
    assert broken.exit_code == 1 and "anchored row" in broken.output  # ...but the anchor remembers


def test_concurrent_writers_keep_one_linear_chain(fresh_app):
    errors = []

    def write(n):
        try:
            for i in range(8):
                with app_ctx(fresh_app):
                    court = db.session.scalar(sa.select(Court).where(Court.code == "京0105"))
                    audit.record(db.session, court, AuditAction.UPDATE, "test.race", {"n": n, "i": i})
                    db.session.flush()
                    audit.record(db.session, court, AuditAction.UPDATE, "test.race", {"n": n, "i": i, "b": 1})
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app_ctx(fresh_app):
        result = audit.verify_chain(db.session)
        assert result.broken is None
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditLog.summary == "test.race")) == 48


def test_migration_0010_chains_the_rows_written_before_it(tmp_path):
    from flask_migrate import upgrade

    app = make_app(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="0008_versions")
        for i in range(3):
            db.session.execute(sa.text("INSERT INTO audit_log (at, action, entity, summary, after) VALUES "
                                       "('2026-01-0%d 08:00:00.000000', 'CREATE', 'court', 'old', '{\"i\": %d}')"
                                       % (i + 1, i)))
        db.session.commit()
        upgrade()
        result = audit.verify_chain(db.session)
        assert result.broken is None and result.rows == 3
        db.session.remove()
        db.engine.dispose()


# --- 5. backup and restore -----------------------------------------------------------------------

def _put_files(folder):
    os.makedirs(os.path.join(folder, "cases", "7"), exist_ok=True)
    with open(os.path.join(folder, "cases", "7", "调解协议.docx"), "wb") as fh:
        fh.write(os.urandom(4096))
    with open(os.path.join(folder, "a.pdf"), "wb") as fh:
        fh.write(b"%PDF-1.4 test")


def _round_trip(source_url, target_url, tmp_path):
    uploads, restored_uploads, out = tmp_path / "up", tmp_path / "up2", tmp_path / "backup"
    _put_files(uploads)
    source = make_app(source_url, FILE_STORE_DIR=str(uploads))
    with app_ctx(source):
        tribunal = db.session.scalar(sa.select(Tribunal))
        tribunal.address = "备份前最后一次修改"
        db.session.commit()
    made = source.test_cli_runner().invoke(args=["backup", str(out)])
    assert made.exit_code == 0, made.output
    manifest = backup.read_manifest(str(out))
    with source.app_context():
        with db.engine.connect() as conn:
            assert backup.table_digests(conn) == manifest["tables"]
        db.engine.dispose()
    assert manifest["tables"]["audit_log"]["rows"] > 0 and len(manifest["files"]) == 2
    assert source.test_cli_runner().invoke(args=["backup", str(out)]).exit_code != 0  # never overwrites

    target = make_app(target_url, FILE_STORE_DIR=str(restored_uploads))
    done = target.test_cli_runner().invoke(args=["restore", str(out)])
    assert done.exit_code == 0, done.output
    with target.app_context():
        with db.engine.connect() as conn:
            assert backup.table_digests(conn) == manifest["tables"]
        assert backup.file_digests(str(restored_uploads)) == manifest["files"]
        assert audit.verify_chain(db.session).broken is None
        assert db.session.scalar(sa.select(Tribunal.address).where(Tribunal.address == "备份前最后一次修改"))
        db.session.remove()
    again = target.test_cli_runner().invoke(args=["restore", str(out)])
    assert again.exit_code != 0 and "not empty" in again.output
    with target.app_context():
        db.engine.dispose()


def _damage(out):
    name = backup.read_manifest(str(out))["files"]
    victim = next(iter(name))
    with open(os.path.join(out, "files", victim), "ab") as fh:
        fh.write(b"!")


@pytest.fixture()
def sqlite_url(request, tmp_path):
    """A demo SQLite database: the suite's copy, or on the PostgreSQL leg one migrated and seeded here."""
    if not PG_URL:
        return request.getfixturevalue("db_url")
    from flask_migrate import upgrade

    from app.commands import seed_roles
    from app.demo import seed_demo

    url = f"sqlite:///{tmp_path / 'source.db'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        seed_roles()
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url


def test_backup_then_restore_into_an_empty_instance_gives_every_count_and_hash_back_sqlite(sqlite_url, tmp_path):
    _round_trip(sqlite_url, f"sqlite:///{tmp_path / 'restored.db'}", tmp_path)
    _damage(tmp_path / "backup")
    refused = make_app(f"sqlite:///{tmp_path / 'other.db'}", FILE_STORE_DIR=str(tmp_path / "up3")) \
        .test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert refused.exit_code != 0 and "do not match" in refused.output


@pytest.mark.skipif(not PG_URL or shutil.which("pg_dump") is None, reason="PostgreSQL leg with pg_dump")
def test_backup_then_restore_into_an_empty_instance_gives_every_count_and_hash_back_postgresql(
        databases, db_url, tmp_path):
    target = databases._pg_create(f"{databases.base}_restored")
    _round_trip(db_url, target, tmp_path)


# --- 2 + 3, end to end: gunicorn, the supervised worker, a 60 s write lock ----------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


@pytest.mark.slow
@SQLITE_ONLY
def test_under_gunicorn_a_killed_worker_and_a_60s_write_lock_lose_and_duplicate_nothing(db_url, tmp_path):
    pytest.importorskip("gunicorn")
    pytest.importorskip("supervisor")
    hold = float(os.environ.get("COURT_LOCK_HOLD_SECONDS", "60"))
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "s" * 40, "HOST": "127.0.0.1", "PORT": str(port),
           "COURT_RUN_DIR": str(tmp_path), "COURT_PYTHON": sys.executable, "WEB_CONCURRENCY": "2",
           "WORKER_INTERVAL_SECONDS": "0.5", "WORKER_MAX_BACKOFF_SECONDS": "2",
           "WORKER_HEARTBEAT_STALE_SECONDS": "4", "UPLOAD_FOLDER": str(tmp_path / "up"), "FILE_STORE_DIR": str(tmp_path / "files"),
           "EXPORT_FOLDER": str(tmp_path / "exports"), "LOG_FORMAT": "json"}
    env.pop("CONFIG", None)
    log_path = tmp_path / "supervisord.out"
    with open(log_path, "wb") as log_file:
        supervisor = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", "deploy/supervisord.conf"],
                                      cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                      start_new_session=True)
    health = f"http://127.0.0.1:{port}/health"
    app = make_app(db_url)
    path = sa.engine.make_url(db_url).database

    def delivered():
        with app_ctx(app):
            return db.session.scalars(sa.select(SimulatedIntranetInbox)
                                      .where(SimulatedIntranetInbox.topic == "intranet.test")).all()

    def all_sent():
        with app_ctx(app):
            return not db.session.scalar(sa.select(sa.func.count()).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.topic == "intranet.test"))

    def worker_pid():
        with app_ctx(app):
            row = db.session.get(WorkerHeartbeat, "worker")
            return row.pid if row else None

    try:
        _wait(lambda: _safe_status(health) == 200, 90, "/health 200 after start")
        with app_ctx(app):
            court_id = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
            first = [enqueue("intranet.test", None, None, {"n": i}, court_id=court_id).message_id for i in range(10)]
            db.session.commit()
        _wait(all_sent, 30, "the first messages delivered")
        before = worker_pid()
        os.kill(before, signal.SIGKILL)
        restarted = _wait(lambda: (worker_pid() or before) != before and worker_pid(), 60, "the worker restarted")

        writer = sqlite3.connect(path, isolation_level=None, timeout=30)
        writer.execute("BEGIN IMMEDIATE")
        second = []
        for i in range(10):
            mid = f"00000000-0000-4000-8000-{i:012d}"
            second.append(mid)
            writer.execute("INSERT INTO outbox_message (message_id, topic, court_id, payload, status, attempts, "
                           "next_attempt_at, created_at) VALUES (?, 'intranet.test', ?, '{}', 'PENDING', 0, "
                           "'2000-01-01 00:00:00.000000', '2000-01-01 00:00:00.000000')", (mid, court_id))
        started, slowest, statuses = time.monotonic(), 0.0, set()
        try:
            while time.monotonic() - started < hold:
                t0 = time.monotonic()
                statuses.add(_safe_status(health))
                slowest = max(slowest, time.monotonic() - t0)
                time.sleep(0.5)
        finally:
            writer.execute("COMMIT")
            writer.close()
        assert 503 in statuses, "the stale heartbeat must show"
        assert slowest < 8, f"/health waited {slowest:.1f}s behind the writer (its busy timeout is 30 s)"

        _wait(lambda: _safe_status(health) == 200, 90, "/health back to 200")
        _wait(all_sent, 60, "the queue drained")
        assert worker_pid() == restarted, "the worker survived the locked database without a restart"
        inbox = delivered()
        ids = [m.message_id for m in inbox]
        assert sorted(ids) == sorted(first + second), "nothing lost"
        assert all(m.deliveries == 1 for m in inbox), "nothing delivered twice"
        if hold > 35:  # longer than the busy timeout: the worker's rounds failed, were logged and retried
            with app_ctx(app):
                assert "locked" in db.session.get(WorkerHeartbeat, "worker").last_error
        status, body = _get(health)
        assert status == 200 and body["outbox"]["pending"] == 0
    finally:
        os.killpg(supervisor.pid, signal.SIGTERM)
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(supervisor.pid, signal.SIGKILL)
            raise
        with app.app_context():
            db.engine.dispose()
    # Web server and worker stop with the supervisor.
    assert _safe_status(health) is None
    print(log_path.read_text(errors="replace")[-2000:])


def _safe_status(url):
    try:
        return _get(url, timeout=5)[0]
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None
