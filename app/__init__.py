"""Application factory. Importing this package builds nothing (STYLE §1)."""
from __future__ import annotations

import logging

from flask import Flask
from flask_appbuilder import AppBuilder


def create_app(overrides: dict | None = None) -> Flask:
    from flask_sqlalchemy.session import Session as FlaskSession

    from . import audit, commands, views
    from .extensions import csrf, db, migrate

    app = Flask(__name__)
    app.config.from_object("config")
    app.config.update(overrides or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})

    # CSRF first, so that FAB's REST blueprints can exempt themselves (notes/fab5.md §3).
    csrf.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    audit.install(FlaskSession)

    with app.app_context():
        appbuilder = AppBuilder(base_template="court/base.html", indexview=views.HomeView)
        appbuilder.init_app(app, db.session)
        views.register(appbuilder)

    commands.register(app)
    _configure_sqlite(app)
    logging.getLogger("flask_appbuilder.baseviews").setLevel(logging.ERROR)
    return app


def _migrations_dir() -> str:
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def _configure_sqlite(app: Flask) -> None:
    """SQLite: enforce foreign keys, and begin every transaction IMMEDIATE.

    Immediate transactions take the write lock up front, so two requests that
    both read then write (case numbering, transitions) queue on the busy
    timeout instead of failing with "database is locked" or interleaving.
    This is the SQLAlchemy recipe for pysqlite's transaction handling.
    """
    from sqlalchemy import event

    from .extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
