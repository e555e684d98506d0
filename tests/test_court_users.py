"""本院管理 › 本院用户: 单个新增 and 批量导入 [FAQ 2.1]."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditLog, CourtStaff
from app.security import Scope
from app.workflows import NotAllowed, bulk_import
from app.workflows.actor import Actor

from .helpers import app_ctx, flashes, login, text
from .helpers import audit_rows, count, demo_ids, last_sms, xlsx


def add_user(client, **overrides):
    ids = overrides.pop("_ids")
    data = {"court": str(ids["chaoyang"]), "name": "赵书记", "phone": "13811112222", "position": "书记员"}
    data.update(overrides)
    return client.post("/court-users/add", data=data)


def test_add_single_user_sends_initial_password_that_logs_in(app, login_as, sms_text):
    ids = demo_ids(app)
    resp = add_user(login_as("13800000001"), _ids=ids)
    assert resp.status_code == 302
    sms = sms_text("13811112222")
    assert sms and "13811112222" in sms
    password = re.search(r"([A-Za-z0-9]{10})", sms.split("13811112222", 1)[1]).group(1)
    assert password not in last_sms(app, "13811112222")  # 短信记录 masks it (M8)
    client = app.test_client()
    assert login(client, "13811112222", "COURT", password).headers["Location"].endswith("/")
    # A plain court user: no admin screens.
    assert client.get("/court-users/list/").status_code == 403


def test_add_single_user_writes_an_audit_row(app, login_as):
    ids = demo_ids(app)
    add_user(login_as("13800000001"), _ids=ids)
    rows = [r for r in audit_rows(app, "court_staff", action=AuditLog.action.type.enum_class.CREATE)
            if r.after and r.after.get("phone") == "13811112222"]
    assert len(rows) == 1
    row = rows[0]
    assert row.actor_name == "13800000001" and row.court_id == ids["chaoyang"]
    assert row.ip == "127.0.0.1"


def test_add_user_refuses_bad_phone_keeps_input_and_saves_nothing(app, login_as):
    ids = demo_ids(app)
    before = count(app, CourtStaff)
    resp = add_user(login_as("13800000001"), _ids=ids, phone="2381111222")
    html = text(resp)
    assert resp.status_code == 200
    assert "请输入以1开头的11位手机号" in html
    assert 'value="赵书记"' in html  # the form keeps what was typed
    assert count(app, CourtStaff) == before


def test_add_user_refuses_a_phone_already_a_court_user(app, login_as):
    ids = demo_ids(app)
    resp = add_user(login_as("13800000001"), _ids=ids, phone="13800000011")
    assert resp.status_code == 200
    assert "已是法院用户" in text(resp)


def test_add_user_with_full_width_digits_is_normalised(app, login_as):
    ids = demo_ids(app)
    add_user(login_as("13800000001"), _ids=ids, phone="１３８ １１１１ ２２２２")
    with app_ctx(app):
        assert db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13811112222")) is not None


def test_court_admin_cannot_add_a_user_to_another_court(app, login_as):
    ids = demo_ids(app)
    before = count(app, CourtStaff)
    resp = add_user(login_as("13800000001"), _ids=ids, court=str(ids["haidian"]))
    assert resp.status_code == 200  # the choice is not offered: form error
    assert count(app, CourtStaff) == before


def test_admin_cannot_delete_or_demote_themself(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    admin.post(f"/court-users/delete/{ids['cy_admin']}")
    assert "不能删除自己的账号" in " ".join(flashes(admin))
    admin.post(f"/court-users/edit/{ids['cy_admin']}", data={"name": "王立新", "position": ""})
    assert "不能取消自己的管理员权限" in " ".join(flashes(admin))
    with app_ctx(app):
        assert db.session.get(CourtStaff, ids["cy_admin"]).is_admin


def test_deleting_a_tribunal_admin_is_refused_with_the_reason(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    admin.post(f"/court-users/delete/{ids['cy_judge']}")
    assert "团结湖人民法庭" in " ".join(flashes(admin))
    assert count(app, CourtStaff, CourtStaff.id == ids["cy_judge"]) == 1


def test_promoting_a_user_gives_the_admin_role(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    resp = admin.post(f"/court-users/edit/{ids['cy_judge']}",
                      data={"name": "李明", "position": "法官", "is_admin": "y"})
    assert resp.status_code == 302
    assert login_as("13800000002").get("/court-users/list/").status_code == 200


def test_import_template_download(login_as):
    resp = login_as("13800000001").get("/court-users/import/template")
    assert resp.status_code == 200
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    from openpyxl import load_workbook
    import io

    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[1]] == ["姓名", "手机号", "职务", "是否管理员（是/否）"]


def test_bulk_import_creates_every_row(app, login_as):
    """[FAQ 2.1] issue 17 item 4: the request checks and queues the file; the worker creates the users."""
    data = xlsx([["甲", "13811110001", "书记员", "否"], ["乙", 13811110002, None, "是"]])
    client = login_as("13800000001")
    resp = client.post("/court-users/import", data={"file": (__import__("io").BytesIO(data), "users.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and "/court-users/import/" in resp.headers["Location"]
    assert count(app, CourtStaff, CourtStaff.phone.in_(["13811110001", "13811110002"])) == 0
    with app_ctx(app):
        assert bulk_import.run_due_imports() == 1
    assert count(app, CourtStaff, CourtStaff.phone.in_(["13811110001", "13811110002"])) == 2
    with app_ctx(app):
        yi = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13811110002"))
        assert yi.is_admin and yi.court.code == "京0105"
    assert last_sms(app, "13811110001")


def test_bulk_import_skips_the_templates_example_row(app, login_as):
    """[FAQ 2.1] 批量导入, issue 15 item 13: the template filled in below its example imports only the
    rows the court wrote; the example (张三 13800000000) is never a user."""
    import io

    from openpyxl import load_workbook

    client = login_as("13800000001")
    wb = load_workbook(io.BytesIO(client.get("/court-users/import/template").data))
    assert [c.value for c in wb.active[2]] == ["张三", "13800000000", "书记员", "否"]
    wb.active.append(["丙", "13811110003", "书记员", "否"])
    buf = io.BytesIO()
    wb.save(buf)
    resp = client.post("/court-users/import", data={"file": (io.BytesIO(buf.getvalue()), "users.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    with app_ctx(app):
        assert bulk_import.run_due_imports() == 1  # the worker's part (issue 17 item 4)
    assert count(app, CourtStaff, CourtStaff.phone == "13811110003") == 1
    assert count(app, CourtStaff, CourtStaff.phone == "13800000000") == 0
    assert last_sms(app, "13800000000") is None


def test_bulk_import_of_the_untouched_template_imports_nothing_and_says_so(app, login_as):
    client = login_as("13800000001")
    template = client.get("/court-users/import/template").data
    resp = client.post("/court-users/import", data={"file": (__import__("io").BytesIO(template), "users.xlsx")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "文件中没有用户数据" in text(resp)
    assert count(app, CourtStaff, CourtStaff.phone == "13800000000") == 0


def test_bulk_import_with_a_bad_row_imports_nothing_and_names_the_row(app, login_as):
    data = xlsx([
        ["甲", "13811110001", "书记员", "否"],
        ["乙", "1381111", None, "否"],
        ["", "13811110003", None, "也许"],
        ["丁", "13811110001", None, "否"],
        ["戊", "13800000011", None, "否"],
    ])
    before = count(app, CourtStaff)
    resp = login_as("13800000001").post(
        "/court-users/import", data={"file": (__import__("io").BytesIO(data), "users.xlsx")},
        content_type="multipart/form-data")
    html = text(resp)
    assert resp.status_code == 200
    assert "第3行" in html and "手机号" in html
    assert "第4行" in html and "姓名" in html
    assert "第5行" in html and "第2行" in html  # repeats row 2
    assert "第6行" in html and "已是其他法院的用户" in html
    assert "北京市海淀区人民法院" not in html  # L5: an import does not tell who works at another court
    assert "第2行：" not in html  # the good row is not an error
    assert count(app, CourtStaff) == before
    assert last_sms(app, "13811110001") is None


def test_bulk_import_is_the_court_admins_even_when_the_workflow_is_called_directly(app):
    """The workflow checks who imports; the view's permission is not the protection."""
    ids = demo_ids(app)
    data = xlsx([["甲", "13811110001", "书记员", "否"]])
    with app_ctx(app):
        judge = db.session.get(CourtStaff, ids["cy_judge"])
        for scope in (Scope(portal=None, court_id=ids["chaoyang"], is_court_admin=False, staff_id=judge.id),
                      Scope(portal=None, is_platform=True)):
            with pytest.raises(NotAllowed):
                bulk_import.queue_import(bulk_import.read_rows(data), Actor(judge.user_id, scope))
        db.session.rollback()
    assert count(app, CourtStaff, CourtStaff.phone == "13811110001") == 0


def test_bulk_import_refuses_a_file_that_is_not_excel(app, login_as):
    before = count(app, CourtStaff)
    resp = login_as("13800000001").post(
        "/court-users/import", data={"file": (__import__("io").BytesIO(b"name,phone\n"), "users.xlsx")},
        content_type="multipart/form-data")
    assert resp.status_code == 200
    assert "请上传" in text(resp)
    assert count(app, CourtStaff) == before


def test_adding_a_person_who_already_has_an_account_keeps_their_password(app, login_as):
    """One phone, several identities (SPEC §1): a mediator becomes a court user too."""
    ids = demo_ids(app)
    resp = add_user(login_as("13800000001"), _ids=ids, phone="13900000002", name="刘洋")
    assert resp.status_code == 302
    assert "原密码" in last_sms(app, "13900000002")
    assert login(app.test_client(), "13900000002", "COURT").status_code == 302
    assert login(app.test_client(), "13900000002", "MEDIATOR").status_code == 302
