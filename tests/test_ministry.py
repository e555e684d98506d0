"""总对总, ministry side: binding, certification per ministry path, region scoping, 调解资源 [FAQ 6.1, 6.4, 6.7]."""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import CertificationStatus
from app.extensions import db
from app.models import AuditLog, Organisation, OrganisationCourt

from .helpers import app_ctx, flashes, text
from .helpers import demo_ids

NEW_ORG = {"name": "朝阳区劳动争议调解中心", "credit_code": "91110000600037341L", "org_type": "PEOPLES",
           "province": "北京市", "city": "北京市", "contact_name": "郑主任", "contact_phone": "13933335555"}


def org_id(app, name):
    with app_ctx(app):
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))


def org(app, name) -> Organisation:
    with app_ctx(app):
        o = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        db.session.expunge(o)
        return o


def add_court_org(login_as, **overrides):
    resp = login_as("13800000001").post("/organisations/add", data={**NEW_ORG, **overrides})
    assert resp.status_code == 302


def test_ministry_staff_see_only_their_ministrys_organisations_in_their_region(app, login_as):
    acfic = login_as("13700000001", "MINISTRY")
    html = text(acfic.get("/ministry/organisations/list/"))
    assert "朝阳区商事调解中心" in html and "北京金融纠纷调解中心" not in html
    assert acfic.get(f"/ministry/organisations/show/{org_id(app, '北京金融纠纷调解中心')}").status_code == 404
    assert "朝阳区商事调解中心" not in text(login_as("13700000002", "MINISTRY").get("/ministry/organisations/list/"))


def test_binding_an_organisation_bound_elsewhere_is_refused(app, login_as):
    cbirc = login_as("13700000002", "MINISTRY")
    cbirc.post(f"/ministry/bind/{org_id(app, '朝阳区商事调解中心')}")
    message = " ".join(flashes(cbirc))
    assert "中华全国工商联" in message and "只能绑定一个部委" in message
    assert org(app, "朝阳区商事调解中心").ministry.code == "acfic"


def test_bind_and_unbind_are_audited(app, login_as):
    add_court_org(login_as)
    cbirc = login_as("13700000002", "MINISTRY")
    assert NEW_ORG["name"] in text(cbirc.get("/ministry/bind/"))
    pk = org_id(app, NEW_ORG["name"])
    cbirc.post(f"/ministry/bind/{pk}")
    assert org(app, NEW_ORG["name"]).ministry.code == "cbirc"
    assert NEW_ORG["name"] in text(cbirc.get("/ministry/organisations/list/"))
    acfic = login_as("13700000001", "MINISTRY")
    acfic.post(f"/ministry/bind/{pk}")
    assert "银保监会" in " ".join(flashes(acfic))
    cbirc.post(f"/ministry/organisations/unbind/{pk}")
    assert org(app, NEW_ORG["name"]).ministry_id is None
    with app_ctx(app):
        changes = db.session.scalars(sa.select(AuditLog.after).where(
            AuditLog.entity == "organisation", AuditLog.entity_id == pk, AuditLog.action == "UPDATE")).all()
    assert [c["ministry_id"] is not None for c in changes] == [True, False]


def test_organisations_of_other_regions_are_out_of_reach(app, login_as):
    add_court_org(login_as, province="上海市", city="上海市")
    cbirc = login_as("13700000002", "MINISTRY")
    assert NEW_ORG["name"] not in text(cbirc.get("/ministry/bind/"))
    cbirc.post(f"/ministry/bind/{org_id(app, NEW_ORG['name'])}")
    assert "区域" in " ".join(flashes(cbirc))
    assert org(app, NEW_ORG["name"]).ministry_id is None


def test_acfic_applies_for_certification_and_the_court_approves(app, login_as):
    ids = demo_ids(app)
    acfic = login_as("13700000001", "MINISTRY")
    pk = org_id(app, "朝阳区商事调解中心")
    acfic.post(f"/ministry/organisations/apply/{pk}", data={"court_id": ids["haidian"], "note": "申请海淀认证"})
    with app_ctx(app):
        link = db.session.scalar(sa.select(OrganisationCourt).where(
            OrganisationCourt.organisation_id == pk, OrganisationCourt.court_id == ids["haidian"]))
        link_id = link.id
        assert link.status is CertificationStatus.PENDING
    resp = acfic.post(f"/ministry/organisations/apply/{pk}", data={"court_id": ids["haidian"]})
    assert "等待" in text(resp)
    assert login_as("13800000001").get(f"/organisation-certifications/show/{link_id}").status_code == 404
    haidian = login_as("13800000011")
    listing = text(haidian.get("/organisation-certifications/list/"))
    assert "朝阳区商事调解中心" in listing and "中华全国工商联" in listing and "待认证" in listing
    haidian.post(f"/organisation-certifications/approve/{link_id}")
    assert "朝阳区商事调解中心" in text(haidian.get("/organisations/list/"))
    haidian.post(f"/organisation-certifications/approve/{link_id}")
    assert "已处理" in " ".join(flashes(haidian))


def test_court_rejects_with_a_reason(app, login_as):
    ids = demo_ids(app)
    pk = org_id(app, "朝阳区商事调解中心")
    login_as("13700000001", "MINISTRY").post(f"/ministry/organisations/apply/{pk}",
                                             data={"court_id": ids["haidian"]})
    with app_ctx(app):
        link_id = db.session.scalar(sa.select(OrganisationCourt.id).where(
            OrganisationCourt.organisation_id == pk, OrganisationCourt.court_id == ids["haidian"]))
    haidian = login_as("13800000011")
    resp = haidian.post(f"/organisation-certifications/reject/{link_id}", data={"reason": ""})
    assert "驳回理由" in text(resp)
    haidian.post(f"/organisation-certifications/reject/{link_id}", data={"reason": "材料不全"})
    with app_ctx(app):
        link = db.session.get(OrganisationCourt, link_id)
        assert link.status is CertificationStatus.REJECTED and link.reject_reason == "材料不全"


def test_court_adds_path_ministries_cannot_apply(app, login_as):
    ids = demo_ids(app)
    add_court_org(login_as)
    cbirc = login_as("13700000002", "MINISTRY")
    pk = org_id(app, NEW_ORG["name"])
    cbirc.post(f"/ministry/bind/{pk}")
    resp = cbirc.post(f"/ministry/organisations/apply/{pk}", data={"court_id": ids["haidian"]})
    assert "银保监会" in text(resp) and "名册" in text(resp)
    with app_ctx(app):
        assert db.session.scalar(sa.select(OrganisationCourt.id).where(
            OrganisationCourt.organisation_id == pk, OrganisationCourt.court_id == ids["haidian"])) is None


def test_only_ministry_staff_use_the_ministry_screens(login_as):
    assert login_as("13800000001").get("/ministry/organisations/list/").status_code == 403
    assert login_as("13800000001").get("/ministry/bind/").status_code == 403
    assert login_as("13700000001", "MINISTRY").get("/organisation-certifications/list/").status_code == 403


def test_mediation_resources_page_is_public_and_searchable(client):
    html = text(client.get("/resources/"))
    assert "朝阳区商事调解中心" in html and "中华全国工商联" in html and "中国人民银行" in html
    html = text(client.get("/resources/?q=金融"))
    assert "北京金融纠纷调解中心" in html and "朝阳区商事调解中心" not in html
