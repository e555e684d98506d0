"""Two app servers behind one address share everything a browser relies on (issue 17 item 3): two real
gunicorn instances on two loopback ports against one database, and one browser (one cookie jar) whose
requests alternate between them with no sticky session — login on A, pages on B; failed logins spread
over A and B reach the account's limit together (app/rate_limits.py: the counts live in the database);
logout on B ends the session on A (app/sessions.py: the account's session generation); a WebRTC signal
posted through A is polled from B (the hearing_signal table). The outbox shared by several workers is
tests/test_parallel_workers.py.

SQLite (one file) and, with TEST_DATABASE_URL, PostgreSQL.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from app.enums import CaseStatus
from app.extensions import db

from .case_factory import make_case
from .helpers import PASSWORD, csrf_token, make_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEDIATOR = "13900000001"  # 陈静, the case's mediator
ZHANG, LI = "13500000001", "13500000002"
JUDGE = "13800000002"
PARTIES = [("APPLICANT", "张三", ZHANG, "110105198001010013"),
           ("RESPONDENT", "李四", LI, "11010519850505002X")]
ACCOUNT_LIMIT = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """Two `gunicorn 'run:wsgi()'` instances (deploy/gunicorn.conf.py, one worker each), one database,
    one SECRET_KEY, no RATELIMIT_STORAGE_URI (the default: the database)."""

    def __init__(self, db_url, tmp_path):
        env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "two-servers-" + "k" * 32,
               "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "FILE_STORE_DIR": str(tmp_path / "files"),
               "EXPORT_FOLDER": str(tmp_path / "exports"), "LOGIN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per 15 minutes",
               "GUNICORN_LOG_LEVEL": "warning", "LOG_LEVEL": "WARNING"}
        for name in ("CONFIG", "RATELIMIT_STORAGE_URI", "PORT"):
            env.pop(name, None)
        self.procs, self.bases, self.logs = [], [], []
        for name in ("a", "b"):
            port = _free_port()
            log = tmp_path / f"gunicorn-{name}.log"
            with open(log, "wb") as out:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "run:wsgi()"],
                    cwd=ROOT, env={**env, "PORT": str(port)}, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True))
            self.bases.append(f"http://127.0.0.1:{port}")
            self.logs.append(log)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        for base, proc, log in zip(self.bases, self.procs, self.logs):
            while True:
                try:
                    requests.get(base + "/login/", timeout=15)
                    break
                except requests.RequestException:  # not listening yet, or still loading the app
                    assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
                    time.sleep(0.2)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


class Browser:
    """One browser, one cookie jar; `on(i)` sends the next request to server i (both are 127.0.0.1, so
    the cookies go to both, as they would to one address behind a round-robin proxy)."""

    def __init__(self, servers):
        self.bases = servers.bases
        self.http = requests.Session()

    def get(self, server, path, **kw):
        return self.http.get(self.bases[server] + path, allow_redirects=False, timeout=30, **kw)

    def post(self, server, path, **kw):
        return self.http.post(self.bases[server] + path, allow_redirects=False, timeout=30, **kw)

    def login(self, server, username, portal, password=PASSWORD, token_from=None):
        page = self.get(token_from if token_from is not None else server, f"/login/?portal={portal}")
        return self.post(server, "/login/", data={"csrf_token": csrf_token(page.text), "portal": portal,
                                                  "username": username, "password": password})

    def room(self, server, hid) -> dict:
        page = self.get(server, f"/hearing/{hid}")
        assert page.status_code == 200, page.status_code
        found = re.search(r'<script type="application/json" id="room-config">(.*?)</script>', page.text, re.S)
        return json.loads(found.group(1))

    def post_json(self, server, path, body, csrf):
        return self.post(server, path, json=body, headers={"X-CSRFToken": csrf})


@pytest.fixture(scope="module")
def two_servers_db(databases):
    """One database for the module's two servers (starting them is the slow part)."""
    url = databases.fresh()
    yield url
    databases.drop(url)


@pytest.fixture(scope="module")
def servers(two_servers_db, tmp_path_factory):
    pytest.importorskip("gunicorn")
    running = Servers(two_servers_db, tmp_path_factory.mktemp("two-servers"))
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def case_id(two_servers_db, servers):
    """A 调解中 case of 陈静 with 张三 against 李四, committed while the servers run."""
    app = make_app(two_servers_db)
    try:
        return make_case(app, status=CaseStatus.MEDIATING, parties=PARTIES)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


A, B = 0, 1


def test_a_login_on_one_server_holds_on_the_other_and_a_logout_there_ends_it_here(case_id, servers):
    mediator = Browser(servers)
    assert mediator.get(B, f"/hearing/case/{case_id}").status_code == 302  # not logged in yet
    login = mediator.login(A, MEDIATOR, "MEDIATOR", token_from=B)  # the form from B, posted to A
    assert login.status_code == 302 and "/login" not in login.headers["Location"]
    page = mediator.get(B, f"/hearing/case/{case_id}")
    assert page.status_code == 200 and "视频调解" in page.text
    call = mediator.post(A, f"/hearing/case/{case_id}/call",
                         data={"csrf_token": csrf_token(page.text), "sides": ["APPLICANT", "RESPONDENT"]})
    assert call.status_code == 302, call.text[:500]
    hid = int(call.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert mediator.room(B, hid)["csrf"]

    assert mediator.get(B, "/logout/").status_code == 302
    again = mediator.get(A, f"/hearing/{hid}")
    assert again.status_code == 302 and "/login" in again.headers["Location"]


def test_failed_logins_spread_over_both_servers_reach_the_account_limit_together(servers):
    browser = Browser(servers)
    for attempt in range(ACCOUNT_LIMIT):
        refused = browser.login(attempt % 2, JUDGE, "COURT", password="Wrong-pass1")
        assert refused.status_code == 200 and "密码" in refused.text
    for server in (A, B):  # each server alone saw only half of them
        locked = Browser(servers).login(server, JUDGE, "COURT")  # the right password, a fresh browser
        assert locked.status_code == 429 and "登录失败次数过多" in locked.text
        assert int(locked.headers["Retry-After"]) > 60
    assert Browser(servers).login(B, MEDIATOR, "MEDIATOR").status_code == 302  # another account is not locked


def test_a_signal_posted_through_one_server_is_polled_from_the_other(case_id, servers):
    mediator, zhang = Browser(servers), Browser(servers)
    assert mediator.login(A, MEDIATOR, "MEDIATOR").status_code == 302
    page = mediator.get(B, f"/hearing/case/{case_id}")
    call = mediator.post(A, f"/hearing/case/{case_id}/call",
                         data={"csrf_token": csrf_token(page.text), "sides": ["APPLICANT", "RESPONDENT"]})
    hid = int(call.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert zhang.login(B, ZHANG, "PARTY").status_code == 302

    m_cfg, z_cfg = mediator.room(A, hid), zhang.room(B, hid)
    m = mediator.post_json(B, m_cfg["join_url"], {}, m_cfg["csrf"]).json()["session"]
    z = zhang.post_json(A, z_cfg["join_url"], {}, z_cfg["csrf"]).json()["session"]
    sent = zhang.post_json(A, z_cfg["signals_url"], {"session": z, "to": m, "kind": "offer",
                                                      "data": {"type": "offer", "sdp": "v=0 two-servers"}},
                           z_cfg["csrf"])
    assert sent.status_code == 200, sent.text[:300]
    polled = mediator.get(B, f"{m_cfg['signals_url']}?session={m}&after=0").json()["signals"]
    assert [(s["from"], s["data"]["sdp"]) for s in polled if s["kind"] == "offer"] == [(z, "v=0 two-servers")]
    answer = mediator.post_json(A, m_cfg["signals_url"], {"session": m, "to": z, "kind": "answer",
                                                          "data": {"type": "answer", "sdp": "v=0 back"}},
                                m_cfg["csrf"])
    assert answer.status_code == 200
    got = zhang.get(B, f"{z_cfg['signals_url']}?session={z}&after=0").json()["signals"]
    assert [s["data"]["sdp"] for s in got if s["kind"] == "answer"] == ["v=0 back"]
