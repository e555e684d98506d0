"""Helpers shared by the tests: clients, pages, look-ups. Fixtures live in conftest.py."""
from __future__ import annotations

import io
import os
import re
import tempfile
from contextlib import contextmanager

import sqlalchemy as sa
from openpyxl import Workbook

from app.extensions import db
from app.storage import read_bytes
from app.models import (
    AuditLog,
    Court,
    CourtStaff,
    GrassrootsUnit,
    Mediator,
    MediatorCourt,
    Organisation,
    SmsOutbox,
    Tribunal,
)

from app import create_app

PASSWORD = "Demo@2026"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

BASE_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SECRET_KEY": "test-secret-key-" + "x" * 32,
    "SERVER_NAME": None,
    # the suite's shared app rolls each test back; counts in the database (the default, app/rate_limits.py)
    # would outlive it. tests/test_rate_limits.py and tests/test_two_servers.py use the database storage.
    "RATELIMIT_STORAGE_URI": "memory://",
    # scrypt costs ~0.3 s a hash on the shared box; the demo seed hashes ~100 passwords (every party of
    # a case sent for signature gets an account). The hash method is FAB's, not under test here.
    "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    # the demo's ID images (and anything else a test stores without its own directory) stay out of instance/
    "FILE_STORE_DIR": tempfile.mkdtemp(prefix="court-test-files-"),
}


def make_app(url: str, **overrides):
    """An app of its own on the database at `url` (for tests that race threads or migrate)."""
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **overrides})


@contextmanager
def app_ctx(app):
    """A short app context for seeding or reading: never held across requests."""
    with app.app_context():
        yield
        db.session.remove()


@contextmanager
def counted_commits():
    """The sessions that commit inside the block, one entry per commit."""
    from flask_sqlalchemy.session import Session as FlaskSession

    commits = []

    def count(session):
        commits.append(session)

    sa.event.listen(FlaskSession, "after_commit", count)
    try:
        yield commits
    finally:
        sa.event.remove(FlaskSession, "after_commit", count)


def stored_bytes(app, key: str) -> bytes:
    """A file of the app's store, whole (documents and signature images are small)."""
    with app.app_context():
        return read_bytes(key)


def login(client, username, portal="COURT", password=PASSWORD):
    return client.post("/login/", data={"portal": portal, "username": username, "password": password})


def logged_in(app, username, portal="COURT"):
    """A test client of `app` logged in through the login form of `portal`."""
    c = app.test_client()
    resp = login(c, username, portal)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert "/login" not in resp.headers["Location"], "login refused"
    return c


def text(resp) -> str:
    return resp.get_data(as_text=True)


def flashes(client) -> list[str]:
    with client.session_transaction() as sess:
        return [msg for _cat, msg in sess.get("_flashes", [])]


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert m, "no csrf token in page"
    return m.group(1)


def demo_ids(app) -> dict:
    """Primary keys of the demo rows, by what the README calls them."""
    with app_ctx(app):
        one = lambda q: db.session.scalar(q)  # noqa: E731
        return {
            "chaoyang": one(sa.select(Court.id).where(Court.code == "京0105")),
            "haidian": one(sa.select(Court.id).where(Court.code == "京0108")),
            "cy_admin": one(sa.select(CourtStaff.id).where(CourtStaff.phone == "13800000001")),
            "cy_judge": one(sa.select(CourtStaff.id).where(CourtStaff.phone == "13800000002")),
            "hd_admin": one(sa.select(CourtStaff.id).where(CourtStaff.phone == "13800000011")),
            "cy_invited": one(sa.select(Mediator.id).where(Mediator.phone == "13900000001")),
            "cy_judge_mediator": one(sa.select(Mediator.id).where(Mediator.phone == "13900000002")),
            "hd_invited": one(sa.select(Mediator.id).where(Mediator.phone == "13900000011")),
            "cy_org": one(sa.select(Organisation.id).where(Organisation.name == "朝阳区商事调解中心")),
            "hd_org": one(sa.select(Organisation.id).where(Organisation.name == "北京金融纠纷调解中心")),
            "cy_tribunal": one(sa.select(Tribunal.id).where(Tribunal.name == "团结湖人民法庭")),
            "cy_unit": one(sa.select(GrassrootsUnit.id).where(GrassrootsUnit.liaison_phone == "13600000001")),
            "cy_cert": one(sa.select(MediatorCourt.id).join(Mediator).where(Mediator.phone == "13900000001")),
        }


def count(app, model, *where) -> int:
    with app_ctx(app):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def last_sms(app, phone: str) -> str | None:
    with app_ctx(app):
        return db.session.scalar(
            sa.select(SmsOutbox.body).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc()).limit(1)
        )


def audit_rows(app, entity: str, **where) -> list[AuditLog]:
    with app_ctx(app):
        q = sa.select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)
        for k, v in where.items():
            q = q.where(getattr(AuditLog, k) == v)
        rows = db.session.scalars(q).all()
        db.session.expunge_all()
        return rows


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "手机号", "职务", "是否管理员（是/否）"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
