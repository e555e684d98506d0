"""诉源治理 › 人民法院名册管理: tribunals and grassroots units [FAQ 7.1–7.3]."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import GrassrootsUnit, Tribunal

from .helpers import app_ctx, login, text
from .helpers import audit_rows, count, demo_ids


def test_add_tribunal_with_an_admin_from_the_courts_users(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    form = text(admin.get("/tribunals/add"))
    assert "王立新" in form and "周海" not in form  # 海淀's admin is not offered
    resp = admin.post("/tribunals/add", data={"court": ids["chaoyang"], "name": "小红门人民法庭",
                                              "admin": ids["cy_admin"], "address": "小红门路"})
    assert resp.status_code == 302
    with app_ctx(app):
        t = db.session.scalar(sa.select(Tribunal).where(Tribunal.name == "小红门人民法庭"))
        assert t.court_id == ids["chaoyang"] and t.admin_id == ids["cy_admin"]


def test_tribunal_admin_from_another_court_is_refused(app, login_as):
    ids = demo_ids(app)
    resp = login_as("13800000001").post("/tribunals/add", data={"court": ids["chaoyang"], "name": "小红门人民法庭",
                                                                "admin": ids["hd_admin"]})
    assert resp.status_code == 200
    assert count(app, Tribunal, Tribunal.name == "小红门人民法庭") == 0


def test_tribunal_name_is_required(app, login_as):
    ids = demo_ids(app)
    resp = login_as("13800000001").post("/tribunals/add", data={"court": ids["chaoyang"], "name": ""})
    assert resp.status_code == 200
    assert count(app, Tribunal) == 1


def test_tribunal_with_units_cannot_be_deleted(app, login_as):
    ids = demo_ids(app)
    login_as("13800000001").post(f"/tribunals/delete/{ids['cy_tribunal']}")
    assert count(app, Tribunal) == 1


def unit_form(ids, **overrides):
    data = {"court": ids["chaoyang"], "tribunal": ids["cy_tribunal"], "name": "朝阳区六里屯街道",
            "liaison_name": "钱联络", "liaison_phone": "13622223333", "liaison_password": "Liaison2026"}
    data.update(overrides)
    return data


def test_add_grassroots_unit_and_the_liaison_logs_in(app, login_as):
    ids = demo_ids(app)
    resp = login_as("13800000001").post("/grassroots-units/add", data=unit_form(ids))
    assert resp.status_code == 302
    client = app.test_client()
    assert login(client, "13622223333", "GRASSROOTS", "Liaison2026").status_code == 302
    assert client.get("/", follow_redirects=True).status_code == 200
    assert "朝阳区六里屯街道" in client.get("/grassroots/").get_data(as_text=True)


def test_grassroots_unit_refuses_weak_password_and_bad_phone(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    resp = admin.post("/grassroots-units/add", data=unit_form(ids, liaison_password="123"))
    assert resp.status_code == 200 and "8" in text(resp)
    resp = admin.post("/grassroots-units/add", data=unit_form(ids, liaison_phone="0612345678"))
    assert resp.status_code == 200 and "11位手机号" in text(resp)
    resp = admin.post("/grassroots-units/add", data=unit_form(ids, liaison_phone="13600000001"))
    assert resp.status_code == 200
    assert count(app, GrassrootsUnit) == 1


def test_court_admin_sets_a_new_liaison_password(app, login_as):
    ids = demo_ids(app)
    resp = login_as("13800000001").post(
        f"/grassroots-units/edit/{ids['cy_unit']}",
        data={"tribunal": ids["cy_tribunal"], "name": "朝阳区团结湖街道", "liaison_name": "赵联络",
              "new_password": "Changed2026"})
    assert resp.status_code == 302
    assert login(app.test_client(), "13600000001", "GRASSROOTS", "Changed2026").status_code == 302
    rows = audit_rows(app, "grassroots_unit", entity_id=ids["cy_unit"])
    assert any(r.action.name == "PASSWORD" for r in rows)
    assert not any("Changed2026" in str(r.after) for r in rows)


def test_editing_a_unit_without_password_keeps_it(app, login_as):
    ids = demo_ids(app)
    login_as("13800000001").post(
        f"/grassroots-units/edit/{ids['cy_unit']}",
        data={"tribunal": ids["cy_tribunal"], "name": "团结湖街道", "liaison_name": "赵联络", "new_password": ""})
    assert login_as("13600000001", "GRASSROOTS")
