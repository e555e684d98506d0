"""Fixtures. One migrated, demo-seeded database and one app for the whole run;
every test runs inside a transaction that is rolled back after it.

The schema comes from Alembic (never `create_all`) into a template with roles,
permissions and the README's demo data, built once per run. The suite's app
is built once on a copy of it. Each test that asks for `app` gets a
connection with an open transaction; every session of the test — the test's
own `app_ctx` blocks and every request of its test clients — joins that
transaction through a SAVEPOINT, so a commit at the request edge releases a
savepoint and the test's end rolls everything back (STYLE §10).

Tests that race real transactions in threads, migrate, or need a
configuration of their own ask for `fresh_app` (or `db_url` and `make_app`):
a fresh copy of the template and an app of its own, as before.

PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://user@host:port/dbname
(`.ci/run` does); the server must allow creating databases.
"""
from __future__ import annotations

import logging
import os
import shutil

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import Session as PlainSession

from app.extensions import db

from . import janus_server as janus_server_mod
from .helpers import BASE_CONFIG, PG_URL, logged_in, make_app


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

        app = make_app(self.template_url)
        with app.app_context():
            upgrade()
            seed_roles()
            seed_demo()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

    def copy(self, name: str) -> str:
        if PG_URL:
            return self._pg_create(f"{self.base}_{name}", template=f"{self.base}_tpl")
        path = self.tmp / f"{name}.db"
        shutil.copyfile(self.tmp / "template.db", path)
        return f"sqlite:///{path}"

    def fresh(self) -> str:
        self.count += 1
        return self.copy(f"t{self.count % 2}")

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


@pytest.fixture(scope="session")
def suite_app(databases):
    """The one app of the run, on its own copy of the template."""
    app = make_app(databases.copy("suite"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _own_store(tmp_path_factory) -> str:
    """A copy of the store the template's demo wrote (agreements, signatures, ID images) for one test.

    A test's commit only releases a SAVEPOINT, but the store deletes a file once the session commits
    (app/storage.py delete_after_commit): a test voiding a demo signature would delete the one copy every
    later test's rolled-back rows still name."""
    copy = tmp_path_factory.mktemp("store") / "files"  # beside the test's tmp_path, never in it
    shutil.copytree(BASE_CONFIG["FILE_STORE_DIR"], copy)
    return str(copy)


@pytest.fixture()
def app(suite_app, monkeypatch, tmp_path_factory):
    """The suite's app, with everything this test writes rolled back after it (its files too)."""
    with suite_app.app_context():
        engine = db.engine
    conn = engine.connect()
    outer = conn.begin()
    # Every session on the suite's engine — Flask-SQLAlchemy's and any plain one — works on
    # this connection; sessions of a `fresh_app` keep their own engine.
    for cls in (FlaskSession, PlainSession):
        monkeypatch.setattr(cls, "get_bind", _joining(cls.get_bind, engine, conn))
    config = dict(suite_app.config)
    suite_app.config["FILE_STORE_DIR"] = _own_store(tmp_path_factory)
    suite_app.appbuilder.sm.limiter.reset()  # failed-login counts (memory storage) are per test too
    try:
        yield suite_app
    finally:
        suite_app.config.clear()
        suite_app.config.update(config)
        outer.rollback()
        conn.close()


def _joining(get_bind, engine, conn):
    def get_bind_joining(self, *args, **kwargs):
        bind = get_bind(self, *args, **kwargs)
        return conn if bind is engine else bind

    return get_bind_joining


@pytest.fixture(scope="session", autouse=True)
def _savepoint_sessions(suite_app):
    """A session joining the test's transaction commits by releasing a SAVEPOINT."""
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")


@pytest.fixture()
def db_url(databases):
    url = databases.fresh()
    yield url
    databases.drop(url)


@pytest.fixture()
def fresh_app(db_url, tmp_path_factory):
    """An app of its own on a fresh copy of the template and of its files: real commits, real connections."""
    app = make_app(db_url, FILE_STORE_DIR=_own_store(tmp_path_factory))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


_session_cookies: dict = {}


@pytest.fixture()
def login_as(app):
    """`login_as("13800000001")` → a test client logged in through the portal.

    The first login of an account through a portal goes through the login
    form; its session cookie is kept and handed to later clients of the same
    account (the password hash is the slow part of a login).
    """

    def _login(username, portal="COURT"):
        c = app.test_client()
        key = (id(app), username, portal)
        if key in _session_cookies:
            c.set_cookie("session", _session_cookies[key])
            return c
        c = logged_in(app, username, portal)
        cookie = c.get_cookie("session")
        if cookie is not None:
            _session_cookies[key] = cookie.value
        return c

    return _login


@pytest.fixture()
def sms_text():
    """`sms_text(phone)` → the full text of the newest SMS to `phone`, as the local adapter delivered it
    to the log (app/sms.py). The 短信记录 row (`helpers.last_sms`) masks codes and initial passwords.
    A handler of its own, not pytest's caplog: the suite runs with `-p no:logging` too."""
    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("court.sms")
    handler, level = _Keep(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def _last(phone):
        for record in reversed(records):
            if record.args and record.args[0] == phone:
                return record.args[2]
        return None

    try:
        yield _last
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(scope="session")
def janus_server(tmp_path_factory):
    """A real Janus (the SFU of VIDEO_BACKEND=janus) for the run; skipped where /usr/bin/janus is missing,
    unless JANUS_REQUIRED=1 (CI sets it): then that fails."""
    if not os.path.exists(janus_server_mod.JANUS):
        if os.environ.get("JANUS_REQUIRED") == "1":
            pytest.fail(f"Janus is required here but {janus_server_mod.JANUS} is missing "
                        "(apt-get install janus janus-tools)")
        pytest.skip(f"{janus_server_mod.JANUS} not installed (apt-get install janus janus-tools)")
    server = janus_server_mod.start(str(tmp_path_factory.mktemp("janus")))
    yield server
    server.stop()

