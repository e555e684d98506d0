"""`flask seed --demo` is idempotent: a second run keeps existing data (issue 2 item 2)."""
from __future__ import annotations

from app.commands import seed_roles
from app.demo import seed_demo
from app.extensions import db
from app.models import AuditLog, Court, CourtStaff, Ministry

from .helpers import app_ctx, login
from .helpers import count


def test_second_seed_keeps_data_and_changed_passwords(app, login_as):
    with app_ctx(app):
        user = app.appbuilder.sm.find_user(username="13800000001")
        app.appbuilder.sm.reset_password(user.id, "Changed2026")
    before = {m: count(app, m) for m in (Court, CourtStaff, Ministry, AuditLog)}
    with app_ctx(app):
        seed_roles()
        seed_demo()
        db.session.commit()
    assert {m: count(app, m) for m in before} == before
    assert login(app.test_client(), "13800000001", "COURT", "Changed2026").status_code == 302


def test_seven_ministries_are_seeded(app):
    assert count(app, Ministry) == 7
