"""Test fixtures: every test gets its own database, built by the migrations.

The schema comes from Alembic (never `create_all`), once per session, into a
template with roles, permissions and the README's demo data; each test then
gets a copy (a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on
PostgreSQL), so tests are isolated and see exactly what `make run` creates.

PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://user@host:port/dbname
(`.ci/run` does); the server must allow creating databases.
"""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db

PASSWORD = "Demo@2026"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")

BASE_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "SECRET_KEY": "test-secret-key-" + "x" * 32,
    "SERVER_NAME": None,
}


class _Databases:
    """Makes the template once and hands out fresh copies."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory.mktemp("db")
        self.count = 0
        if PG_URL:
            url = sa.engine.make_url(PG_URL)
            self.base = url.database
            self.admin_engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            self.template_url = self._pg_create(f"{self.base}_tpl")
        else:
            self.template_url = f"sqlite:///{self.tmp / 'template.db'}"
        self._build_template()

    def _pg_create(self, name, template=None):
        with self.admin_engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            extra = f' TEMPLATE "{template}"' if template else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{extra}'))
        return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def _build_template(self):
        from flask_migrate import upgrade

        from app.commands import seed_roles
        from app.demo import seed_demo

        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": self.template_url})
        with app.app_context():
            upgrade()
            seed_roles()
            seed_demo()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

    def fresh(self) -> str:
        self.count += 1
        if PG_URL:
            return self._pg_create(f"{self.base}_t{self.count % 2}", template=f"{self.base}_tpl")
        path = self.tmp / f"test{self.count}.db"
        shutil.copyfile(self.tmp / "template.db", path)
        return f"sqlite:///{path}"

    def drop(self, url: str):
        if not PG_URL:
            path = sa.engine.make_url(url).database
            if path and os.path.exists(path):
                os.remove(path)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = _Databases(tmp_path_factory)
    yield dbs
    if PG_URL:
        dbs.admin_engine.dispose()


def make_app(url: str, **overrides):
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture()
def db_url(databases):
    url = databases.fresh()
    yield url
    databases.drop(url)


@pytest.fixture()
def app(db_url):
    app = make_app(db_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def app_ctx(app):
    """A short app context for seeding or reading: never held across requests."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture()
def client(app):
    return app.test_client()


def login(client, username, portal="COURT", password=PASSWORD):
    return client.post("/login/", data={"portal": portal, "username": username, "password": password})


@pytest.fixture()
def login_as(app):
    """`login_as("13800000001")` → a test client logged in through the portal."""

    def _login(username, portal="COURT"):
        c = app.test_client()
        resp = login(c, username, portal)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        assert "/login" not in resp.headers["Location"], "login refused"
        return c

    return _login


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
