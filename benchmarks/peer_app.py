"""The peer of the load test (issue 17 item 7): a default Flask-AppBuilder ModelView over the same table.

    gunicorn -w 2 'benchmarks.peer_app:wsgi()'       (DATABASE_URL, PEER_COURT_ID in the environment)

Nothing of the app: FAB's own security manager (database auth), its own
templates and list widget, `SQLAInterface` with its sub-select COUNT, lazy
relations, the default search columns (every column, so the filter form
lists every mediator and organisation: FAB #796). What it shares with the app
is the data: `mediation_case` with its mediators and organisations, in the
PostgreSQL database the app uses. Its own `ab_*` tables live in the schema
`peer` (the connection's search_path), so they neither see nor touch the
app's. Scoped to one court with a FAB base filter and ordered newest first,
20 rows a page, the columns the app's list shows: the same question, asked
the default way.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask
from flask_appbuilder import AppBuilder, ModelView
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.legacy import get_sqla_class
from sqlalchemy.orm import relationship

SCHEMA = "peer"
ADMIN = ("peeradmin", "Peer@2026")
db = get_sqla_class()(model_class=Model)


class PeerMediator(Model):
    __tablename__ = "mediator"
    __table_args__ = {"schema": "public"}
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64))
    phone = sa.Column(sa.String(16))

    def __repr__(self):
        return f"{self.name} {self.phone}"


class PeerOrganisation(Model):
    __tablename__ = "organisation"
    __table_args__ = {"schema": "public"}
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(100))

    def __repr__(self):
        return self.name


class PeerCase(Model):
    __tablename__ = "mediation_case"
    __table_args__ = {"schema": "public"}
    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(64))
    court_id = sa.Column(sa.Integer)
    case_type = sa.Column(sa.String(32))
    cause = sa.Column(sa.String(100))
    party_names = sa.Column(sa.String(500))
    status = sa.Column(sa.String(32))
    received_on = sa.Column(sa.Date)
    deadline = sa.Column(sa.Date)
    mediator_id = sa.Column(sa.Integer, sa.ForeignKey("public.mediator.id"))
    organisation_id = sa.Column(sa.Integer, sa.ForeignKey("public.organisation.id"))
    mediator = relationship(PeerMediator)
    organisation = relationship(PeerOrganisation)


def court_id() -> int:
    return int(os.environ.get("PEER_COURT_ID", "0"))


class PeerCaseView(ModelView):
    datamodel = SQLAInterface(PeerCase)
    list_columns = ["number", "cause", "party_names", "status", "mediator", "organisation", "received_on",
                    "deadline"]
    show_columns = ["number", "case_type", "cause", "party_names", "status", "mediator", "organisation",
                    "received_on", "deadline"]
    base_order = ("id", "desc")
    page_size = 20
    base_permissions = ["can_list", "can_show"]

    def __init__(self, **kwargs):
        self.base_filters = [["court_id", FilterEqual, court_id()], ["case_type", FilterEqual, "PRE_LITIGATION"]]
        super().__init__(**kwargs)


def create_app(url: str | None = None) -> Flask:
    app = Flask("peer")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url or os.environ["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={SCHEMA}"}},
        SECRET_KEY=os.environ.get("SECRET_KEY", "peer-" + "x" * 40),
        WTF_CSRF_ENABLED=True,
        FAB_UPDATE_PERMS=os.environ.get("PEER_SETUP") == "1",
        AUTH_TYPE=1,
        AUTH_ROLE_ADMIN="Admin",
        FAB_PASSWORD_HASH_METHOD="scrypt",  # as the app, so a login costs the same
    )
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder(app, db.session)
        appbuilder.add_view(PeerCaseView, "Cases", category="Cases")
    return app


def setup(url: str) -> None:
    """Create the `peer` schema, FAB's tables and permissions in it, and the admin (idempotent)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    engine.dispose()
    os.environ["PEER_SETUP"] = "1"
    try:
        app = create_app(url)
    finally:
        os.environ.pop("PEER_SETUP")
    with app.app_context():
        db.create_all()  # only FAB's tables: the case tables exist (schema "public")
        sm = app.appbuilder.sm
        sm.create_db()
        if sm.find_user(username=ADMIN[0]) is None:
            sm.add_user(ADMIN[0], "Peer", "Admin", "peer@example.invalid", sm.find_role("Admin"), ADMIN[1])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def wsgi() -> Flask:
    return create_app()
