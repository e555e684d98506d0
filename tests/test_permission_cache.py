"""Permissions and the sidebar are cached per process (app/permission_cache.py, issue 17 item 5):
a change to a role's permissions reaches the next request, and an unchanged role set costs no
permission query."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.models import SecurityVersion
from app.roles import COURT_USER

from .helpers import text

JUDGE = "13800000002"


def _statements(app, client, url):
    with app.app_context():
        engine = db.engine
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        resp = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return resp, seen


def test_a_permission_taken_from_a_role_is_refused_on_the_next_request(app, login_as):
    judge = login_as(JUDGE)
    assert judge.get("/cases/deadlines/list/").status_code == 200
    assert 'href="/cases/deadlines/list/"' in text(judge.get("/cases/pre-litigation/list/"))
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(COURT_USER)
        pvm = sm.find_permission_view_menu("can_list", "DeadlineView")
        sm.del_permission_role(role, pvm)
    assert judge.get("/cases/deadlines/list/").status_code in (302, 403)
    assert 'href="/cases/deadlines/list/"' not in text(judge.get("/cases/pre-litigation/list/"))
    with app.app_context():
        sm.add_permission_role(sm.find_role(COURT_USER), sm.find_permission_view_menu("can_list", "DeadlineView"))
    assert judge.get("/cases/deadlines/list/").status_code == 200


def test_the_same_roles_again_cost_no_permission_query(app, login_as):
    judge = login_as(JUDGE)
    judge.get("/cases/pre-litigation/list/")
    resp, seen = _statements(app, login_as(JUDGE), "/cases/pre-litigation/list/")
    assert resp.status_code == 200
    assert not [s for s in seen if "ab_permission" in s]


def test_only_a_change_to_roles_or_permissions_adds_a_security_version(app):
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(SecurityVersion))
        app.appbuilder.sm.find_role(COURT_USER)
        db.session.commit()  # a read and a commit: nothing changed
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SecurityVersion)) == before
        app.appbuilder.sm.add_role("临时角色")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SecurityVersion)) > before
        db.session.rollback()


def test_templates_are_not_checked_for_changes_outside_debug(app):
    assert app.jinja_env.auto_reload is False
