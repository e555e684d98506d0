"""总对总, ministry side: binding, certification per ministry path, region scoping, 调解资源 [FAQ 6.1, 6.4, 6.7]."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.enums import CertificationStatus, OrganisationType
from app.extensions import db
from app.models import AuditLog, Ministry, Organisation, OrganisationCourt
from app.security import Scope
from app.workflows import Conflict, DomainError, ministry
from app.workflows.actor import Actor

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
        rows = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.entity == "organisation", AuditLog.entity_id == pk, AuditLog.action == "TRANSITION")
            .order_by(AuditLog.id)).all()
        cbirc_id = _ministry_id("cbirc")
        assert [(r.summary, r.before["status"], r.after["status"]) for r in rows] == [
            ("binding.bind", "UNBOUND", "BOUND"), ("binding.unbind", "BOUND", "UNBOUND")]
        assert [(r.before["ministry_id"], r.after["ministry_id"]) for r in rows] == [(None, cbirc_id),
                                                                                   (cbirc_id, None)]


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
    assert "当前认证申请状态为“待认证”，不能申请认证。" in text(resp)
    assert login_as("13800000001").get(f"/organisation-certifications/show/{link_id}").status_code == 404
    haidian = login_as("13800000011")
    listing = text(haidian.get("/organisation-certifications/list/"))
    assert "朝阳区商事调解中心" in listing and "中华全国工商联" in listing and "待认证" in listing
    haidian.post(f"/organisation-certifications/approve/{link_id}")
    assert "朝阳区商事调解中心" in text(haidian.get("/organisations/list/"))
    haidian.post(f"/organisation-certifications/approve/{link_id}")
    assert flashes(haidian)[-1] == "当前认证申请状态为“已认证”，不能通过。"


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


# Binding [FAQ 6.1, 6.7(3); SPEC §4], written out by hand: (whom the organisation is bound to,
# event) → whom it is bound to afterwards (None: refused, nothing changes). An organisation is
# bound to one ministry at most, and only the ministry it is bound to unbinds it. The machine's
# state is derived from the column (未绑定 / 已绑定), so the table speaks of the column.
BINDING_TABLE = {
    ("nobody", "bind"): "mine",
    ("mine", "bind"): None,
    ("another", "bind"): None,
    ("nobody", "unbind"): None,
    ("mine", "unbind"): "nobody",
    ("another", "unbind"): None,
}


def _ministry_id(code):
    return db.session.scalar(sa.select(Ministry.id).where(Ministry.code == code))


@pytest.mark.parametrize("bound,event", list(BINDING_TABLE))
def test_every_binding_state_and_event(app, bound, event):
    reached = BINDING_TABLE[(bound, event)]
    with app_ctx(app):
        mine, another = _ministry_id("cbirc"), _ministry_id("acfic")
        ministry_of = {"nobody": None, "mine": mine, "another": another}
        org = Organisation(**{**NEW_ORG, "org_type": OrganisationType.PEOPLES}, ministry_id=ministry_of[bound])
        db.session.add(org)
        db.session.flush()
        actor = Actor(None, Scope(portal=None, ministry_id=mine, province="北京市", city="北京市"))
        step = ministry.bind if event == "bind" else ministry.unbind
        if reached is None:
            version = org.version
            with pytest.raises(DomainError) as refused:
                step(org, actor)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
            db.session.expire_all()
            assert (org.ministry_id, org.version) == (ministry_of[bound], version)
        else:
            step(org, actor)
            db.session.expire_all()
            assert org.ministry_id == ministry_of[reached]


def test_binding_names_the_ministry_an_organisation_is_already_bound_to(app, login_as):
    page = text(login_as("13700000002", "MINISTRY").get("/ministry/bind/"))
    assert "该调解组织已绑定中华全国工商联" in page  # said beside it, no 绑定 button for it
    assert f'action="/ministry/bind/{org_id(app, "朝阳区商事调解中心")}"' not in page
    assert f'action="/ministry/bind/{org_id(app, "朝阳区商会商事调解委员会")}"' in page


def test_binding_an_organisation_changed_meanwhile_is_a_conflict(app):
    with app_ctx(app):
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == "朝阳区商会商事调解委员会"))
        # another request binds it and commits after this one read the row
        db.session.execute(sa.update(Organisation).where(Organisation.id == org.id)
                           .values(version=Organisation.version + 1)
                           .execution_options(synchronize_session=False))
        actor = Actor(None, Scope(portal=None, ministry_id=_ministry_id("cbirc"), province="北京市", city="北京市"))
        with pytest.raises(Conflict):
            ministry.bind(org, actor)


def test_the_organisation_page_offers_what_its_ministry_may_do(app, login_as):
    pk = org_id(app, "朝阳区商事调解中心")  # 工商联: the ministry side applies; the platform resets passwords
    page = text(login_as("13700000001", "MINISTRY").get(f"/ministry/organisations/show/{pk}"))
    assert f"/ministry/organisations/apply/{pk}" in page and f"/ministry/organisations/unbind/{pk}" in page
    assert f"/ministry/organisations/password/{pk}" not in page
    add_court_org(login_as)
    cbirc = login_as("13700000002", "MINISTRY")
    pk = org_id(app, NEW_ORG["name"])
    cbirc.post(f"/ministry/bind/{pk}")  # 银保监会: the court adds; the ministry account resets passwords
    page = text(cbirc.get(f"/ministry/organisations/show/{pk}"))
    assert f"/ministry/organisations/apply/{pk}" not in page and f"/ministry/organisations/password/{pk}" in page


@pytest.mark.parametrize("phone,shown,hidden", [
    ("13700000001", "/ministry/organisations/list/", "组织管理 › 调解组织管理 › 调解组织管理"),  # 工商联 applies
    ("13700000002", "/ministry/organisations/list/", "名册管理 › 调解组织名册管理 › 调解组织名册"),  # 银保监会 binds
])
def test_the_ministry_sidebar_names_its_organisation_screen_once(login_as, phone, shown, hidden):
    """One screen, one sidebar entry: the FAQ reaches a ministry's organisations under 名册管理 for
    工商联 [FAQ 6.7(1)] and under 组织管理 for the ministries that bind [FAQ 6.1, 6.2(2)]."""
    import re

    from lxml import html as lxml_html

    page = lxml_html.fromstring(text(login_as(phone, "MINISTRY").get("/ministry/organisations/list/")))
    [nav] = page.xpath('//nav[contains(@class, "court-sidebar")]')
    links = nav.xpath(".//a[@href]")
    assert [a.get("href").split("?")[0] for a in links].count(shown) == 1

    def path_of(a):
        labels = [re.sub(r"\s+", "", el.xpath("string(./*[self::div or self::span or self::a][1])")) for el in a.iterancestors("li")]
        return " › ".join(reversed([x for x in labels if x]))

    paths = [path_of(a) for a in links]
    assert hidden not in paths, paths
    assert "/ministry/bind/" in [a.get("href") for a in links] and "总对总案件" in nav.text_content()


def test_the_ministry_sidebar_asks_for_the_ministrys_kind_once_per_page(app, login_as):
    """The sidebar's cache key and its two ministry entries all depend on whether the ministry applies or
    binds (app/views/__init__.py); that is one query per page, not one per question."""
    from sqlalchemy import event

    from app.extensions import db

    client = login_as("13700000001", "MINISTRY")
    client.get("/ministry/organisations/list/")  # the sidebar is cached for this role set now
    with app.app_context():
        engine = db.engine
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.startswith("SELECT ministry.certification_path"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/ministry/organisations/list/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1, seen
