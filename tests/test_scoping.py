"""Nobody sees or touches another court's data (issue 2 acceptance; SPEC §1, STYLE §7).

The 海淀 admin (13800000011) is pointed at every URL of 朝阳's rows: show,
edit, delete, actions and downloads answer 403/404 and change nothing.
"""
from __future__ import annotations

import pytest

from app.models import CourtStaff, GrassrootsUnit, Mediator, Organisation, Tribunal

from .helpers import text
from .helpers import count, demo_ids

SIDEBAR = ["本院管理", "本院用户", "名册管理", "特邀调解员名册管理", "特邀调解员名册", "其他调解员名册管理",
           "其他调解员名册", "特邀调解组织名册管理", "特邀调解组织名册", "特邀调解员认证", "诉源治理",
           "人民法院名册管理", "人民法院管理", "基层治理单位管理"]


def test_court_admin_sidebar_shows_the_faq_menus_in_chinese(login_as):
    html = text(login_as("13800000001").get("/"))
    for label in SIDEBAR:
        assert f">{label}<" in html, label
    assert "平台后台" not in html and "短信记录" not in html


@pytest.mark.parametrize("url,own_row,other_row", [
    ("/court-users/list/", "王立新", "周海"),
    ("/mediators/invited/list/", "陈静", "杨帆"),
    ("/mediators/other/list/", "刘洋", None),
    ("/organisations/list/", "朝阳区商事调解中心", "北京金融纠纷调解中心"),
    ("/tribunals/list/", "团结湖人民法庭", None),
    ("/grassroots-units/list/", "朝阳区团结湖街道", None),
    ("/mediator-certifications/list/", "陈静", "杨帆"),
])
def test_lists_show_only_the_own_courts_rows(login_as, url, own_row, other_row):
    chaoyang, haidian = login_as("13800000001"), login_as("13800000011")
    assert own_row in text(chaoyang.get(url))
    hd_html = text(haidian.get(url))
    assert own_row not in hd_html
    if other_row:
        assert other_row in hd_html


def _chaoyang_urls(ids):
    """Every URL that reaches one of 朝阳's rows, with the method and form data."""
    return [
        ("GET", f"/court-users/show/{ids['cy_judge']}", None),
        ("GET", f"/court-users/edit/{ids['cy_judge']}", None),
        ("POST", f"/court-users/edit/{ids['cy_judge']}", {"name": "x", "is_admin": "y"}),
        ("POST", f"/court-users/delete/{ids['cy_judge']}", {}),
        ("GET", f"/mediators/invited/show/{ids['cy_invited']}", None),
        ("GET", f"/mediators/invited/edit/{ids['cy_invited']}", None),
        ("POST", f"/mediators/invited/edit/{ids['cy_invited']}", {"name": "x", "phone": "13911112222"}),
        ("POST", f"/mediators/invited/action/export_excel/{ids['cy_invited']}", {}),
        ("POST", "/mediators/invited/action_post", {"action": "export_excel", "rowid": [str(ids["cy_invited"])]}),
        ("POST", "/mediators/invited/action_post",
         {"action": "export_excel", "rowid": [str(ids["hd_invited"]), str(ids["cy_invited"])]}),
        ("GET", f"/mediators/other/show/{ids['cy_judge_mediator']}", None),
        ("POST", "/mediators/other/action_post", {"action": "export_excel", "rowid": [str(ids["cy_judge_mediator"])]}),
        ("GET", f"/organisations/show/{ids['cy_org']}", None),
        ("GET", f"/organisations/edit/{ids['cy_org']}", None),
        ("POST", "/organisations/action_post", {"action": "export_excel", "rowid": [str(ids["cy_org"])]}),
        ("GET", f"/tribunals/show/{ids['cy_tribunal']}", None),
        ("GET", f"/tribunals/edit/{ids['cy_tribunal']}", None),
        ("POST", f"/tribunals/delete/{ids['cy_tribunal']}", {}),
        ("GET", f"/grassroots-units/show/{ids['cy_unit']}", None),
        ("GET", f"/grassroots-units/edit/{ids['cy_unit']}", None),
        ("POST", f"/grassroots-units/edit/{ids['cy_unit']}", {"name": "x", "new_password": "Hacked123"}),
        ("POST", f"/grassroots-units/delete/{ids['cy_unit']}", {}),
        ("GET", f"/mediator-certifications/show/{ids['cy_cert']}", None),
        ("POST", f"/mediator-certifications/approve/{ids['cy_cert']}", {}),
        ("POST", f"/mediator-certifications/reject/{ids['cy_cert']}", {"reason": "x"}),
        ("GET", "/mediators/invited/download/anything.xlsx", None),
        ("GET", "/court-users/download/../../config.py", None),
    ]


def test_other_courts_rows_answer_403_or_404_and_change_nothing(app, login_as):
    ids = demo_ids(app)
    haidian = login_as("13800000011")
    before = {m: count(app, m) for m in (CourtStaff, Mediator, Organisation, Tribunal, GrassrootsUnit)}
    for method, url, data in _chaoyang_urls(ids):
        resp = haidian.open(url, method=method, data=data)
        assert resp.status_code in (403, 404), (method, url, resp.status_code)
    after = {m: count(app, m) for m in before}
    assert after == before
    # Nothing of 朝阳's changed either: the liaison still logs in with the old password.
    assert login_as("13600000001", "GRASSROOTS")


def test_the_owning_court_reaches_the_same_urls(app, login_as):
    ids = demo_ids(app)
    chaoyang = login_as("13800000001")
    for url in (f"/court-users/show/{ids['cy_judge']}", f"/mediators/invited/show/{ids['cy_invited']}",
                f"/organisations/show/{ids['cy_org']}", f"/tribunals/show/{ids['cy_tribunal']}",
                f"/grassroots-units/show/{ids['cy_unit']}", f"/mediator-certifications/show/{ids['cy_cert']}"):
        assert chaoyang.get(url).status_code == 200, url
    resp = chaoyang.post("/mediators/invited/action_post",
                         data={"action": "export_excel", "rowid": [str(ids["cy_invited"])]})
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")


# Role × endpoint: who may open what (everyone else gets 403, or the login page when anonymous).
COURT_ADMIN_ONLY = ["/court-users/list/", "/court-users/add", "/court-users/import", "/mediators/invited/add",
                    "/mediator-certifications/list/", "/tribunals/add", "/grassroots-units/add"]
PLATFORM_ONLY = ["/sms/list/", "/courts/list/", "/ministries/list/"]
MEDIATOR_ONLY = ["/my/certifications/"]


@pytest.mark.parametrize("user,portal,allowed", [
    ("13800000001", "COURT", COURT_ADMIN_ONLY),
    ("13800000002", "COURT", []),
    ("13900000001", "MEDIATOR", MEDIATOR_ONLY),
    ("13600000001", "GRASSROOTS", []),
    ("13700000001", "MINISTRY", []),
    ("13500000001", "PARTY", []),
    ("13500000003", "AGENT", []),
    ("13300000001", "PLATFORM", ["/sms/list/", "/courts/list/"]),
    ("admin", "PLATFORM", COURT_ADMIN_ONLY + PLATFORM_ONLY),
])
def test_role_endpoint_matrix(login_as, user, portal, allowed):
    client = login_as(user, portal)
    for url in COURT_ADMIN_ONLY + PLATFORM_ONLY + MEDIATOR_ONLY:
        status = client.get(url).status_code
        if url in allowed:
            assert status == 200, (user, url, status)
        else:
            assert status in (403, 302) and status != 200, (user, url, status)


def test_court_user_reads_rosters_but_cannot_change_them(app, login_as):
    ids = demo_ids(app)
    judge = login_as("13800000002")
    assert judge.get("/mediators/invited/list/").status_code == 200
    assert judge.get(f"/mediators/invited/edit/{ids['cy_invited']}").status_code == 403
    assert judge.post(f"/tribunals/delete/{ids['cy_tribunal']}").status_code == 403
    assert count(app, Tribunal) == 1


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/court-users/list/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


def test_platform_admin_sees_every_court(login_as):
    html = text(login_as("admin", "PLATFORM").get("/court-users/list/"))
    assert "王立新" in html and "周海" in html
