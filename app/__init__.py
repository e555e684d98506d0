"""Application factory. Importing this package builds nothing (STYLE §1): no app, no
database, no configuration read — `config` (which reads the environment and, in
development, keeps a generated secret key in instance/) is loaded by `create_app`."""
from __future__ import annotations

import logging
import os

from flask import Flask
from flask_appbuilder import AppBuilder
from flask_sqlalchemy.session import Session as FlaskSession

from . import audit, commands, errors, name_grams, operations, permission_cache, rate_limits, serving, views
from .clock import shown
from .extensions import csrf, db, migrate
from .transactions import configure_sqlite, end_request
from .workflows import stat_summary


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object("config")
    overrides = overrides or {}
    if overrides.get("PROFILE", app.config["PROFILE"]) == "production":
        app.config.update(app.config["PRODUCTION"])
    app.config.update(overrides)
    if app.config["PROFILE"] == "production" and not app.config.get("SECRET_KEY"):
        raise RuntimeError("CONFIG=production needs SECRET_KEY in the environment (32 or more characters)")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})

    rate_limits.configure(app.config)  # before AppBuilder: FAB's limiter reads the storage at init

    # Request ids and proxies first: every later hook and log line sees them.
    serving.install(app)
    # CSRF first, so that FAB's REST blueprints can exempt themselves (notes/fab5.md §3).
    csrf.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()))
    audit.install(FlaskSession)
    permission_cache.install(FlaskSession)

    with app.app_context():
        appbuilder = AppBuilder(base_template="court/base.html", indexview=views.HomeView)
        appbuilder.init_app(app, db.session)
        views.register(appbuilder)

    # Every time a template shows is Beijing time (issue 15 item 1): {{ value|beijing }}.
    app.add_template_filter(shown, "beijing")
    errors.register(app)
    operations.register(app)
    commands.register(app)
    name_grams.register()
    stat_summary.install(FlaskSession)
    _configure_sqlite(app)
    app.teardown_request(end_request)
    logging.getLogger("flask_appbuilder.baseviews").setLevel(logging.ERROR)
    return app


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def _configure_sqlite(app: Flask) -> None:
    """SQLite: WAL, foreign keys, and IMMEDIATE only for writing transactions.

    GET/HEAD requests begin DEFERRED and, in WAL mode, never wait for the
    writer; POST/PUT/DELETE requests, CLI commands and the worker begin
    IMMEDIATE, so two writers that read then write (case numbering,
    transitions) queue on the busy timeout instead of failing with "database
    is locked". app/transactions.py explains the rule and its `@writes`
    exception for a GET that writes.
    """
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine
    configure_sqlite(app, engine)
