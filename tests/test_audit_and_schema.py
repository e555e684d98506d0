"""The audit trail is append-only; the schema is the migrations' (issue 2 items 2, 8)."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.audit import AuditTamperError
from app.enums import AuditAction, CaseType
from app.extensions import db
from app.models import AuditLog, Case, Mediator, Tribunal
from app.views.records import summary_label
from app.workflows import case_intake

from .helpers import PG_URL, app_ctx, make_app
from .helpers import audit_rows, demo_ids


def test_create_update_delete_each_write_an_audit_row_with_before_and_after(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    admin.post("/tribunals/add", data={"court": ids["chaoyang"], "name": "将台人民法庭"})
    with app_ctx(app):
        tid = db.session.scalar(sa.select(Tribunal.id).where(Tribunal.name == "将台人民法庭"))
    admin.post(f"/tribunals/edit/{tid}", data={"name": "将台法庭", "address": "将台路"})
    admin.post(f"/tribunals/delete/{tid}")
    rows = audit_rows(app, "tribunal", entity_id=tid)
    assert [r.action for r in rows] == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]
    create, update, delete = rows
    assert create.after["name"] == "将台人民法庭" and create.before is None
    assert update.before == {"name": "将台人民法庭", "address": None}
    assert update.after == {"name": "将台法庭", "address": "将台路"}
    assert delete.before["name"] == "将台法庭" and delete.after is None
    assert {r.actor_name for r in rows} == {"13800000001"}
    assert {r.court_id for r in rows} == {ids["chaoyang"]}


def test_court_admin_reads_only_the_own_courts_audit_rows(app, login_as):
    ids = demo_ids(app)
    login_as("13800000011").post("/tribunals/add", data={"court": ids["haidian"], "name": "海淀上地法庭"})
    assert "海淀上地法庭" in login_as("13800000011").get("/audit/list/").get_data(as_text=True)
    assert "海淀上地法庭" not in login_as("13800000001").get("/audit/list/").get_data(as_text=True)
    with app_ctx(app):
        row_id = db.session.scalar(sa.select(AuditLog.id).where(AuditLog.summary == "海淀上地法庭"))
    assert login_as("13800000001").get(f"/audit/show/{row_id}").status_code == 404


def test_nobody_edits_or_deletes_audit_rows_through_the_ui(app, login_as):
    with app_ctx(app):
        row_id = db.session.scalar(sa.select(sa.func.min(AuditLog.id)))
    admin = login_as("admin", "PLATFORM")
    assert admin.get(f"/audit/edit/{row_id}").status_code in (403, 404)
    assert admin.post(f"/audit/delete/{row_id}").status_code in (403, 404)


def test_audit_rows_refuse_update_and_delete_in_the_orm(app):
    with app_ctx(app):
        row = db.session.scalar(sa.select(AuditLog).limit(1))
        row.summary = "tampered"
        with pytest.raises(AuditTamperError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalar(sa.select(AuditLog).limit(1)))
        with pytest.raises(AuditTamperError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET summary = 'x'", "DELETE FROM audit_log"])
def test_audit_rows_refuse_update_and_delete_in_the_database(app, statement):
    with app_ctx(app):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) > 0


@pytest.fixture()
def empty_db_url(databases, tmp_path):
    """An empty database (no schema): on PostgreSQL dropped and made again, on SQLite a file of the
    test's own (one shared file kept the previous test's tables and rows)."""
    if PG_URL:
        return databases._pg_create(f"{databases.base}_empty")
    return f"sqlite:///{tmp_path / 'empty.db'}"


def _assert_audit_append_only(conn_engine):
    with conn_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (at, action, entity) VALUES (CURRENT_TIMESTAMP, "
                             "'CREATE', 'court')"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with conn_engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_log"))


def _schema(engine) -> dict:
    """Every table with its columns, indexes (their columns, and what PostgreSQL includes) and foreign
    keys: what a revision changes."""
    insp = sa.inspect(engine)
    return {
        table: (
            frozenset((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)),
            frozenset((i["name"], tuple(i["column_names"]),
                       tuple(i.get("dialect_options", {}).get("postgresql_include") or ()))
                      for i in insp.get_indexes(table)),
            frozenset((tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table)),
        )
        for table in insp.get_table_names() if table != "alembic_version"
    }


def test_every_revision_upgrades_and_downgrades_to_exactly_the_schema_before_it(empty_db_url):
    """Walk every revision from empty: each changes the schema, its downgrade restores exactly
    the previous step's schema (the append-only guard survives), and head equals the models."""
    app = make_app(empty_db_url)
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        scripts = list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))
        revisions = [r.revision for r in scripts]
        # a revision that only tunes PostgreSQL (an index's INCLUDE) changes nothing on SQLite
        on_postgresql = db.engine.dialect.name == "postgresql"
        changes = {r.revision: on_postgresql or not getattr(r.module, "POSTGRESQL_ONLY", False) for r in scripts}
        files = [f for f in os.listdir(os.path.join(config.get_main_option("script_location"), "versions"))
                 if f.endswith(".py")]
        assert len(revisions) == len(files) and revisions[0] == "0001_foundation"
        previous = _schema(db.engine)
        assert previous == {}
        for revision in revisions:
            upgrade(revision=revision)
            current = _schema(db.engine)
            assert (current != previous) == changes[revision], f"{revision} changes nothing"
            downgrade(revision="-1")
            assert _schema(db.engine) == previous, f"downgrading {revision} does not restore the step before"
            if "audit_log" in previous:
                _assert_audit_append_only(db.engine)
            upgrade(revision=revision)
            assert _schema(db.engine) == current
            previous = current
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []
        _assert_audit_append_only(db.engine)
        db.session.remove()
        db.engine.dispose()


def test_a_generic_row_stores_an_enum_in_its_name_as_a_code_and_the_screen_reads_it_in_chinese(app):
    """STYLE §6 / issue 12 item 5: a numberless internet case is named by its type; the row keeps the code."""
    with app.test_request_context():
        case = Case(cause="网络服务合同纠纷")
        case_intake.prepare_internet_application(case, db.session.scalar(sa.select(Mediator).limit(1)))
        db.session.add(case)
        db.session.flush()
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.entity == "mediation_case",
                                                          AuditLog.entity_id == case.id))
        assert row.summary == f"{{CaseType.INTERNET}}#{case.id}"
        assert summary_label(row.summary) == f"互联网调解#{case.id}" == f"{CaseType.INTERNET.label}#{case.id}"
        assert summary_label("{CaseType.NO_SUCH}#1") == "{CaseType.NO_SUCH}#1"  # unknown tokens stay as stored
