"""名册管理: mediators and organisations [FAQ 2.2, 2.3, 3.2]; validation with Chinese messages."""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import CertificationStatus, MediatorIdentity
from app.extensions import db
from app.models import Mediator, MediatorCourt, Organisation, OrganisationCourt

from .helpers import app_ctx, flashes, login, text
from .helpers import count, demo_ids, last_sms

VALID_ID = "11010519491231002X"  # GB 11643-1999 annex example
VALID_USCC = "91110000600037341L"


def add_mediator(client, url="/mediators/invited/add", **overrides):
    data = {"name": "孙调解", "phone": "13922223333", "id_number": VALID_ID, "identity": "INVITED",
            "expertise": "物业纠纷"}
    data.update(overrides)
    return client.post(url, data=data)


def test_add_invited_mediator_certifies_them_for_this_court(app, login_as):
    resp = add_mediator(login_as("13800000001"))
    assert resp.status_code == 302
    ids = demo_ids(app)
    with app_ctx(app):
        m = db.session.scalar(sa.select(Mediator).where(Mediator.phone == "13922223333"))
        assert m.identity is MediatorIdentity.INVITED
        link = db.session.scalar(sa.select(MediatorCourt).where(MediatorCourt.mediator_id == m.id))
        assert link.court_id == ids["chaoyang"] and link.status is CertificationStatus.CERTIFIED
    assert "初始密码" in last_sms(app, "13922223333")
    assert "孙调解" in text(login_as("13800000001").get("/mediators/invited/list/"))
    assert "孙调解" not in text(login_as("13800000011").get("/mediators/invited/list/"))


def test_other_roster_adds_judges(app, login_as):
    resp = add_mediator(login_as("13800000001"), url="/mediators/other/add", identity="JUDGE", phone="13922224444")
    assert resp.status_code == 302
    html = text(login_as("13800000001").get("/mediators/other/list/"))
    assert "孙调解" in html and "法官" in html


def test_invited_roster_offers_only_the_invited_identity(app, login_as):
    resp = add_mediator(login_as("13800000001"), identity="JUDGE")
    assert resp.status_code == 200
    assert count(app, Mediator, Mediator.phone == "13922223333") == 0


def test_existing_mediator_phone_is_refused_with_the_faq_explanation(app, login_as):
    before = count(app, Mediator)
    resp = add_mediator(login_as("13800000011"), phone="13900000001")  # 朝阳's mediator
    html = text(resp)
    assert resp.status_code == 200
    assert "已在调解平台注册" in html and "申请认证" in html
    assert count(app, Mediator) == before


def test_mediator_id_number_with_wrong_check_digit_is_refused(app, login_as):
    resp = add_mediator(login_as("13800000001"), id_number="110105194912310021")
    assert resp.status_code == 200
    assert "身份证" in text(resp)
    assert count(app, Mediator, Mediator.phone == "13922223333") == 0


def test_mediator_bad_phone_is_refused(app, login_as):
    resp = add_mediator(login_as("13800000001"), phone="139222233")
    assert resp.status_code == 200
    assert "11位手机号" in text(resp)


def test_court_edits_mediator_phone_and_the_login_follows(app, login_as):
    ids = demo_ids(app)
    resp = login_as("13800000001").post(
        f"/mediators/invited/edit/{ids['cy_invited']}",
        data={"name": "陈静", "phone": "13955556666", "id_number": "", "identity": "INVITED", "expertise": ""})
    assert resp.status_code == 302
    assert login(app.test_client(), "13955556666", "MEDIATOR").headers["Location"].endswith("/")
    assert login(app.test_client(), "13900000001", "MEDIATOR").status_code == 200  # old login refused


def test_mediator_organisation_choices_are_this_courts_only(app, login_as):
    ids = demo_ids(app)
    html = text(login_as("13800000001").get("/mediators/invited/add"))
    assert "朝阳区商事调解中心" in html and "北京金融纠纷调解中心" not in html
    resp = add_mediator(login_as("13800000001"), organisation=str(ids["hd_org"]))
    assert resp.status_code == 200
    assert count(app, Mediator, Mediator.phone == "13922223333") == 0


def add_org(client, **overrides):
    data = {"name": "朝阳区物业纠纷调解委员会", "credit_code": VALID_USCC, "org_type": "PEOPLES",
            "province": "北京市", "city": "北京市", "contact_name": "钱主任", "contact_phone": "13933334444"}
    data.update(overrides)
    return client.post("/organisations/add", data=data)


def test_add_organisation_certifies_it_for_this_court(app, login_as):
    assert add_org(login_as("13800000001")).status_code == 302
    with app_ctx(app):
        org = db.session.scalar(sa.select(Organisation).where(Organisation.credit_code == VALID_USCC))
        link = db.session.scalar(sa.select(OrganisationCourt).where(OrganisationCourt.organisation_id == org.id))
        assert link.status is CertificationStatus.CERTIFIED


def test_organisation_with_wrong_credit_code_check_is_refused(app, login_as):
    before = count(app, Organisation)
    resp = add_org(login_as("13800000001"), credit_code="91110000600037341A")
    assert resp.status_code == 200
    assert "统一社会信用代码" in text(resp)
    assert count(app, Organisation) == before


def test_organisation_lowercase_credit_code_is_normalised(app, login_as):
    assert add_org(login_as("13800000001"), credit_code=VALID_USCC.lower()).status_code == 302
    assert count(app, Organisation, Organisation.credit_code == VALID_USCC) == 1


def test_organisation_already_registered_is_refused(app, login_as):
    resp = add_org(login_as("13800000001"), credit_code="52110108MJ0000026G")  # 海淀's organisation
    assert resp.status_code == 200
    assert "已在平台登记" in text(resp)


def test_roster_export_is_excel_with_strings_never_formulas(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    admin.post(f"/mediators/invited/edit/{ids['cy_invited']}",
               data={"name": "=HYPERLINK(\"http://x\")", "phone": "13900000001", "identity": "INVITED"})
    resp = admin.post("/mediators/invited/action_post",
                      data={"action": "export_excel", "rowid": [str(ids["cy_invited"])]})
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws["A2"].value == '=HYPERLINK("http://x")'
    assert ws["A2"].data_type == "s"
    assert ws["B2"].value == "13900000001"


def test_unknown_action_is_404_not_500(login_as, app):
    ids = demo_ids(app)
    resp = login_as("13800000001").post("/mediators/invited/action_post",
                                        data={"action": "nope", "rowid": [str(ids["cy_invited"])]})
    assert resp.status_code == 404


def test_mediator_phone_cannot_move_onto_another_account(app, login_as):
    ids = demo_ids(app)
    admin = login_as("13800000001")
    admin.post(f"/mediators/invited/edit/{ids['cy_invited']}",
               data={"name": "陈静", "phone": "13800000002", "identity": "INVITED"})
    assert "其他平台账号" in " ".join(flashes(admin))
    assert count(app, Mediator, Mediator.phone == "13900000001") == 1
    assert login(app.test_client(), "13900000001", "MEDIATOR").status_code == 302


def _sheet_names(resp):
    import io

    from openpyxl import load_workbook

    assert resp.status_code == 200, resp.status_code
    ws = load_workbook(io.BytesIO(resp.data)).active
    return [row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0]]


def test_roster_export_exports_the_filtered_list_without_ticking_rows(app, login_as):
    """[FAQ 2.4] issue 15 item 6: 名册 › 导出 (top right) writes the list as filtered, every row of it,
    within the court's scope; nothing needs ticking."""
    admin = login_as("13800000001")
    page = text(admin.get("/mediators/invited/list/?_flt_2_name=陈"))
    assert "/mediators/invited/export?_flt_2_name=" in page and ">导出<" in page
    everyone = _sheet_names(admin.get("/mediators/invited/export"))
    with app_ctx(app):
        roster = set(db.session.scalars(sa.select(Mediator.name).join(MediatorCourt).where(
            MediatorCourt.court_id == demo_ids(app)["chaoyang"], MediatorCourt.status == CertificationStatus.CERTIFIED,
            Mediator.identity == MediatorIdentity.INVITED)))
    assert set(everyone) == roster and "陈静" in everyone
    assert _sheet_names(admin.get("/mediators/invited/export?_flt_2_name=陈")) == [n for n in everyone if "陈" in n]
    orgs = _sheet_names(admin.get("/organisations/export"))
    assert "朝阳区商事调解中心" in orgs and "北京金融纠纷调解中心" not in orgs  # 海淀's, not 朝阳's
    # another court's export is its own roster; a mediator may not export
    assert "陈静" not in _sheet_names(login_as("13800000011").get("/mediators/invited/export"))
    assert login_as("13900000001", "MEDIATOR").get("/mediators/invited/export").status_code in (302, 403)
