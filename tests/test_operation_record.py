"""操作记录 in names and Chinese (issue 15 item 3) and the English FAB and its widgets ship (item 4).

STYLE §6: rows store codes; the screen translates them. These tests read the
screens a user reads: the case page's 操作记录 tab and 平台/法院 › 操作日志.
"""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app.enums import AuditAction, CaseStatus
from app.extensions import db
from app.models import AuditLog, Mediator, Ministry
from app.views import records

from .helpers import app_ctx, demo_ids, text
from .test_agreements import case_id, generate, mediator_signs  # noqa: F401  (case_id is a fixture)
from .test_crawl import findings, parse

PHONE = re.compile(r"1[3-9]\d{9}")


def operation_record(html: str) -> list[list[str]]:
    """The rows of the case page's 操作记录 table, as cell texts."""
    table = re.search(r'<table[^>]*id="operation-record".*?</table>', html, re.S).group(0)
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", td).split()) for td in re.findall(r"<td>(.*?)</td>", tr, re.S)])
    return rows


def test_the_qr_signer_is_named_as_the_mediator_in_the_case_record(app, login_as, case_id):  # noqa: F811
    """Issue 15 item 3: the phone that scans the QR code signs as the mediator [FAQ 3.9(3)] — the row
    names 陈静 and carries her account, never 匿名 or a phone."""
    mediator = login_as("13900000001", "MEDIATOR")
    assert generate(mediator, case_id).status_code == 302
    mediator_signs(app, mediator, case_id)
    with app_ctx(app):
        user_id = db.session.scalar(sa.select(Mediator.user_id).where(Mediator.phone == "13900000001"))
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.case_id == case_id,
                                                          AuditLog.summary == "agreement.mediator_sign"))
        assert row.actor_id == user_id and row.actor_name != "anonymous"
    rows = operation_record(text(mediator.get(f"/case/{case_id}?tab=log")))
    signing = [r for r in rows if r[2] == "调解员签字"]
    assert signing and signing[0][1] == "陈静", rows


def test_the_case_record_shows_names_labels_and_no_codes_or_no_op_arrows(app, login_as, case_id):  # noqa: F811
    """Issue 15 item 3: names, not phones or `system`; 送签时间, not `for_signature_at`; no `调解中 → 调解中`."""
    mediator = login_as("13900000001", "MEDIATOR")
    generate(mediator, case_id)
    mediator_signs(app, mediator, case_id)
    rows = operation_record(text(mediator.get(f"/case/{case_id}?tab=log")))
    assert len(rows) >= 4
    for time, operator, operation, details, _ip in rows:
        cells = " ".join((operator, operation, details))
        assert not PHONE.search(operator) and operator not in ("system", "anonymous", ""), rows
        assert not findings([cells]), (cells, findings([cells]))
        states = re.findall(r"(\S+) → (\S+)", details)
        assert all(a != b for a, b in states), details
    assert any(r[1] == "陈静" for r in rows)


def test_the_audit_trail_reads_fields_and_values_in_chinese(app, login_as):
    """Issue 15 item 3 (操作日志): a transition's changes read 调解期限：… → …, states by their labels,
    times in Beijing time; never a dict, `None`, `TO_ASSIGN` or `clock_started_on`."""
    chaoyang = demo_ids(app)["chaoyang"]
    with app_ctx(app):
        row_id = db.session.scalar(sa.select(AuditLog.id).where(
            AuditLog.action == AuditAction.TRANSITION, AuditLog.summary == "case.assign",
            AuditLog.court_id == chaoyang).order_by(AuditLog.id))
    admin = login_as("13800000001")
    listing = text(admin.get("/audit/list/"))
    assert not findings(parse(listing).parts)
    page = admin.get(f"/audit/show/{row_id}")
    html = text(page)
    assert page.status_code == 200
    assert "调解期限：" in html and "状态：待指派 → 调解中" in html and "{'" not in html
    assert not findings(parse(html).parts)


def test_stored_values_read_as_labels():
    """The pieces: an enum code, none, a boolean, a time, a bookkeeping-only update."""
    assert records.value_label("mediation_case", "status", "TO_ASSIGN") == str(CaseStatus.TO_ASSIGN.label)
    assert records.value_label("mediation_case", "deadline", None) == "—"
    assert records.value_label("mediation_case", "x", True) in ("是", "Yes")
    assert records.entity_label("no_such_table") and "_" not in records.entity_label("mediation_case")
    assert records.summary_label("<app.models.MediatorCourt object at 0x7f00>") == ""


@pytest.mark.parametrize("actor_name, expected", [
    ("system", "系统"), ("anonymous", "访客"), (None, "系统"), ("13800000001", "王立新"),
    ("intranet-api:all", "法院内网接口"),
])
def test_an_operator_is_named_never_a_phone_or_a_code(app, actor_name, expected):
    """Issue 15 item 3: `system` / `anonymous` / a phone become 系统 / 访客 / the account's name."""
    with app.test_request_context():
        row = AuditLog(actor_name=actor_name, action=AuditAction.UPDATE, entity="mediation_case")
        assert records.actor_label(row) == expected


def test_a_ministry_interface_is_named_with_its_ministry(app):
    with app.test_request_context():
        ministry = db.session.scalar(sa.select(Ministry).where(Ministry.code == "acfic"))
        row = AuditLog(actor_name=f"ministry-api:{ministry.id}", action=AuditAction.TRANSITION, entity="x")
        assert records.actor_label(row) == f"部委接口（{ministry.name}）"
        db.session.remove()


# --- item 4: what FAB and its widgets ship in English -----------------------------------------

def test_every_page_says_it_is_chinese_and_has_its_own_title(login_as):
    """Issue 15 item 4: `<html lang="zh-CN">`, and the title names the page before the platform."""
    court = login_as("13800000001")
    titles = set()
    for url in ("/", "/cases/pre-litigation/list/", "/audit/list/", "/court-users/list/"):
        page = parse(text(court.get(url)))
        assert page.lang == "zh-CN", url
        titles.add(page.title.strip())
    assert len(titles) == 4 and all(t.endswith("人民法院调解平台") for t in titles)
    assert {"诉前委派调解 · 人民法院调解平台", "操作记录 · 人民法院调解平台"} <= titles, titles


def test_the_date_picker_select2_and_alerts_get_chinese_texts(login_as, client):
    """Issue 15 item 4: bootstrap-datepicker's months and 今天, select2's "Remove all items" and FAB's
    "No row selected" come from the catalog (court/locale.js hands them over after ab.js)."""
    html = text(login_as("13800000001").get("/cases/historical/add"))
    assert html.index("js/ab.js") < html.index("court/locale.js")
    texts = json.loads(re.search(r'<script type="application/json" id="court-i18n">(.*?)</script>', html,
                                 re.S).group(1))
    assert texts["datepicker"]["months"][0] == "一月" and texts["datepicker"]["today"] == "今天"
    assert texts["select2"]["removeAllItems"] == "清除全部" and texts["select2"]["placeholder"] == "请选择"
    assert texts["alerts"]["No row selected"] == "未选择任何记录"
    script = text(client.get("/static/court/locale.js"))
    assert "removeAllItems" in script and "datepicker.dates" in script and "ab_alert" in script


def test_fab_modals_are_chinese_on_every_model_page(login_as):
    """Issue 15 item 4: FAB's confirm (Cancel / OK) and alert (OK) modals."""
    html = text(login_as("13800000001").get("/tribunals/show/1"))
    for modal in ("modal-confirm", "modal-alert"):
        block = html[html.index(f'id="{modal}"'):][:900]
        assert ">Cancel<" not in block and ">OK<" not in block and "确定" in block, modal


def test_users_and_roles_screens_read_chinese(login_as):
    """Issue 15 item 4: 平台后台 › 用户 / 角色: Chinese labels and help texts, 是/否, no e-mails, no
    `can_list on DeadlineView`."""
    admin = login_as("admin", "PLATFORM")
    users = text(admin.get("/users/list/"))
    assert "phone.invalid" not in users and ">True<" not in users and "用户角色" in users
    add = text(admin.get("/users/add"))
    assert "个人或组织的名称" in add and "Write the user first name" not in add
    assert ">Public<" not in add and ">法院管理员<" in add  # the anonymous visitor's role is nobody's account role
    assert "电子邮箱" in add and "选填" not in add  # FAB requires it (a red star): it is not called optional
    role = text(admin.get("/roles/show/1"))
    assert "临期/超期案件：查看列表" in role and "DeadlineView" not in role
    assert "角色详情" in role and "诉讼地位" not in role  # "Role" is a party's 诉讼地位, not an account role


@pytest.mark.parametrize("phone, portal", [
    ("13800000001", "COURT"), ("13900000001", "MEDIATOR"), ("13300000001", "PLATFORM"), ("13500000001", "PARTY"),
])
def test_only_the_platform_admin_reaches_users_and_roles(login_as, phone, portal):
    """Role × endpoint: the account screens are the platform admin's alone."""
    client = login_as(phone, portal)
    for url in ("/users/list/", "/users/show/1", "/roles/list/", "/roles/show/1"):
        assert client.get(url).status_code in (302, 403, 404), (phone, url)


def test_the_case_api_labels_its_columns_in_chinese(login_as):
    """Issue 15 item 4: `/api/v1/case/` answers `label_columns` in Chinese, not "Court Name"."""
    labels = login_as("13800000001").get("/api/v1/case/?q=(page_size:1)").json["label_columns"]
    assert labels["court.name"] == "法院" and labels["id"] == "案件编号"
    assert all(re.search(r"[\u4e00-\u9fff]", str(v)) for v in labels.values()), labels


def test_the_ministry_api_names_a_missing_field_in_chinese(app, client):
    """Issue 15 item 4: the ministry API's reasons are Chinese and still name the JSON field."""
    from app.api_keys import hash_key
    from app.models import MinistryApiKey

    with app_ctx(app):
        acfic = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "acfic"))
        db.session.add(MinistryApiKey(ministry_id=acfic, key_hash=hash_key("mk_i15b")))
        db.session.commit()
    resp = client.post("/api/v1/ministry/messages", json={"type": "receipt"}, headers={"X-Api-Key": "mk_i15b"})
    assert resp.status_code == 400
    reason = resp.json["reason"]
    assert "缺少消息编号（message_id）" in reason and "缺少案号（case_number）" in reason


def test_the_role_form_names_permissions_in_chinese_and_still_saves(app, login_as):
    """Issue 15 item 4: 角色's form lists 临期/超期案件：查看列表, not `can list on DeadlineView`, and a role
    added through it keeps the permission chosen."""
    from flask_appbuilder.security.sqla.models import PermissionView, Role

    admin = login_as("admin", "PLATFORM")
    form = text(admin.get("/roles/add"))
    assert "临期/超期案件：查看列表" in form and "can list on" not in form
    with app_ctx(app):
        pvm = next(p for p in db.session.scalars(sa.select(PermissionView)).all()
                   if p.permission.name == "can_list" and p.view_menu.name == "DeadlineView")
        pvm_id = pvm.id
    assert admin.post("/roles/add", data={"name": "只看临期案件", "permissions": [str(pvm_id)]}).status_code == 302
    with app_ctx(app):
        role = db.session.scalar(sa.select(Role).where(Role.name == "只看临期案件"))
        assert [p.id for p in role.permissions] == [pvm_id]


def test_every_permission_in_the_role_form_names_its_screen_and_its_operation(login_as):
    """The custom pages' own verbs (审核, 分派, 重新推送 …) and FAB's account screens read 其他页面：其他操作."""
    admin = login_as("admin", "PLATFORM")
    form = text(admin.get("/roles/add"))
    assert "其他页面：" not in form and "其他操作" not in form
    for named in ("实名审核：审核", "本组织案件：分派案件", "推送监控：重新推送", "待签材料：签署"):
        assert named in form, named


def test_pages_ask_for_no_favicon_that_would_answer_404(client):
    """Every page said /favicon.ico 404 in the browser console: the page names an empty icon instead."""
    assert '<link rel="icon" href="data:,">' in text(client.get("/login/"))
