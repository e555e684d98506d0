"""调解组织端 (issue 14 item 8; SPEC §1, FAQ 6.2): its cases, 分派 to its own mediators, its roster,
its figures, its password rule — and nobody else reaches any of it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus
from app.extensions import db
from app.models import AuditLog, Case, Mediator, Organisation, SmsOutbox
from app.outbox import enqueue
from app.roles import ORGANISATION
from app.security import Scope
from app.workflows import DomainError, NotAllowed
from app.workflows import organisation_portal as org_portal
from app.workflows.accounts import ensure_account
from app.workflows.actor import Actor

from .case_factory import make_case
from .helpers import PASSWORD, app_ctx, login, text

OURS = "朝阳区商事调解中心"  # 陈静 13900000001 is its mediator
THEIRS = "北京金融纠纷调解中心"


def org_account(app, name):
    """The organisation's login (its credit code) with the demo password, as platform staff would set it."""
    with app_ctx(app):
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        user, _ = ensure_account(org.credit_code, org.name, [ORGANISATION], password=PASSWORD, notify=False)
        db.session.flush()
        org.user_id = user.id
        db.session.commit()
        return org.credit_code


def org_client(app, name=OURS):
    c = app.test_client()
    resp = login(c, org_account(app, name), "ORGANISATION")
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"], text(resp)[:300]
    return c


def org_actor(name):
    org_id = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))
    return Actor(None, Scope(portal=None, organisation_id=org_id))


def mediator_id(phone):
    return db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == phone))


def their_mediator(app):
    """A mediator of the other organisation, entered by it."""
    with app_ctx(app):
        m = org_portal.add_mediator(org_actor(THEIRS), "13512340009", "韩他组", "11010519491231002X", "金融借款")
        db.session.commit()
        return m.id


@pytest.fixture()
def cases(app):
    """One case of ours (调解中, not dispatched), one of theirs."""
    return (make_case(app, status=CaseStatus.MEDIATING, organisation=OURS),
            make_case(app, status=CaseStatus.MEDIATING, organisation=THEIRS))


def test_the_organisation_logs_in_and_sees_only_its_cases(app, cases):
    ours, theirs = cases
    c = org_client(app)
    home = c.get("/", follow_redirects=True)
    html = text(home)
    assert home.status_code == 200 and "本组织案件" in html
    assert f'data-case="{ours}"' in html and f'data-case="{theirs}"' not in html
    assert "未分派" in html and "分派" in html
    assert c.get(f"/organisation/case/{theirs}/dispatch").status_code == 404
    assert c.post(f"/organisation/case/{theirs}/dispatch", data={"mediator_id": 1}).status_code == 404


def test_dispatch_to_an_own_mediator_keeps_the_case_the_organisations(app, cases, login_as):
    ours, _theirs = cases
    c = org_client(app)
    form = c.get(f"/organisation/case/{ours}/dispatch")
    assert form.status_code == 200 and "陈静" in text(form) and "韩他组" not in text(form)
    with app_ctx(app):
        chen = mediator_id("13900000001")
    resp = c.post(f"/organisation/case/{ours}/dispatch", data={"mediator_id": chen})
    assert resp.status_code == 302
    with app_ctx(app):
        case = db.session.get(Case, ours)
        assert (case.mediator_id, case.organisation.name, case.status) == (chen, OURS, CaseStatus.MEDIATING)
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.case_id == ours, AuditLog.action == "TRANSITION")
                                .order_by(AuditLog.id.desc()))
        assert row.summary == "case.dispatch"
        assert "分派给您" in db.session.scalar(sa.select(SmsOutbox.body).where(SmsOutbox.phone == "13900000001")
                                            .order_by(SmsOutbox.id.desc()).limit(1))
    # the mediator then works it
    assert login_as("13900000001", "MEDIATOR").get(f"/case/{ours}").status_code == 200
    page = text(c.get("/organisation/"))
    assert "陈静" in page


def test_a_mediator_of_another_organisation_cannot_be_chosen(app, cases):
    ours, _theirs = cases
    other = their_mediator(app)
    c = org_client(app)
    assert f'value="{other}"' not in text(c.get(f"/organisation/case/{ours}/dispatch"))
    resp = c.post(f"/organisation/case/{ours}/dispatch", data={"mediator_id": other})
    assert resp.status_code == 200 and "韩他组不是本组织的调解员" in text(resp)
    with app_ctx(app):
        liu = mediator_id("13900000002")  # a mediator of no organisation
    resp = c.post(f"/organisation/case/{ours}/dispatch", data={"mediator_id": liu})
    assert "刘洋不是本组织的调解员" in text(resp)
    resp = c.post(f"/organisation/case/{ours}/dispatch", data={"mediator_id": ""})
    assert "请选择本组织的一名调解员" in text(resp)
    with app_ctx(app):
        case = db.session.get(Case, ours)
        assert case.mediator_id is None and case.version == 1


def test_dispatch_guards_in_the_workflow(app, cases):
    ours, theirs = cases
    other = their_mediator(app)
    with app_ctx(app):
        case = db.session.get(Case, ours)
        chen = mediator_id("13900000001")
        with pytest.raises(NotAllowed):  # another organisation's account
            org_portal.dispatch(case, org_actor(THEIRS), other)
        org_portal.dispatch(case, org_actor(OURS), chen)
        with pytest.raises(DomainError, match="已分派给陈静"):
            org_portal.dispatch(case, org_actor(OURS), chen)
        db.session.rollback()


def test_a_ministry_case_is_not_dispatched_here(app, cases):
    ours, _ = cases
    with app_ctx(app):
        case = db.session.get(Case, ours)
        enqueue("ministry.assign", case.organisation.ministry_id, ours, {})  # as 总对总调解 does
        db.session.commit()
    with app_ctx(app):
        with pytest.raises(DomainError, match="总对总"):
            org_portal.dispatch(db.session.get(Case, ours), org_actor(OURS), mediator_id("13900000001"))


def test_the_roster_adds_a_mediator_of_the_organisation_who_then_applies_to_courts(app):
    c = org_client(app)
    page = c.get("/organisation/mediators")
    assert page.status_code == 200 and "陈静" in text(page)
    resp = c.post("/organisation/mediators", data={"phone": "13512340010", "name": "周组员",
                                                   "id_number": "11010519491231002X", "expertise": "物业纠纷"})
    assert resp.status_code == 302
    with app_ctx(app):
        m = db.session.scalar(sa.select(Mediator).where(Mediator.phone == "13512340010"))
        assert m.organisation.name == OURS and m.expertise == "物业纠纷"
    assert "周组员" in text(c.get("/organisation/mediators"))
    # the new mediator logs in (initial password by SMS) and applies to a court
    with app_ctx(app):
        assert db.session.scalar(sa.select(SmsOutbox.kind).where(SmsOutbox.phone == "13512340010")
                                 .order_by(SmsOutbox.id)).name == "INITIAL_PASSWORD"


def test_the_roster_refuses_bad_input_and_existing_mediators(app):
    c = org_client(app)
    resp = c.post("/organisation/mediators", data={"phone": "123", "name": "", "id_number": "1", "expertise": ""})
    html = text(resp)
    assert "请输入以1开头的11位手机号" in html and "请填写姓名" in html and "请填写擅长领域" in html
    assert 'value="123"' in html
    resp = c.post("/organisation/mediators", data={"phone": "13900000011", "name": "杨帆",
                                                   "id_number": "11010519491231002X", "expertise": "金融"})
    assert "已在调解平台注册过调解员身份" in text(resp)
    resp = c.post("/organisation/mediators", data={"phone": "13900000001", "name": "陈静",
                                                   "id_number": "11010519491231002X", "expertise": "合同"})
    assert "已是本组织的调解员" in text(resp)
    with app_ctx(app):
        assert db.session.scalar(sa.select(Mediator.organisation_id).where(Mediator.phone == "13900000011")) is None
        with pytest.raises(NotAllowed):  # only an organisation's account adds to an organisation
            org_portal.add_mediator(Actor(None, Scope(portal=None)), "13512340011", "某", "11010519491231002X", "x")


def test_the_organisations_figures_count_only_its_cases(app, cases):
    c = org_client(app)
    resp = c.get("/statistics/report?by=organisation")
    html = text(resp)
    assert resp.status_code == 200
    assert OURS in html and THEIRS not in html


def test_the_password_rule_follows_faq_6_2(app):
    c = org_client(app)
    assert "在线客服" in text(c.get("/organisation/")) and "工作证件" in text(c.get("/organisation/"))
    with app_ctx(app):
        theirs = db.session.scalar(sa.select(Organisation).where(Organisation.name == THEIRS))
        assert "上级" in org_portal.password_rule(theirs)
    resp = app.test_client().post("/password/forgot", data={"portal": "ORGANISATION", "phone": "13900000101"})
    assert "不通过短信验证码重置" in text(resp)


OTHERS = [("13800000001", "COURT"), ("13800000002", "COURT"), ("13900000001", "MEDIATOR"),
          ("13700000001", "MINISTRY"), ("13600000001", "GRASSROOTS"), ("13500000001", "PARTY"),
          ("13500000003", "AGENT"), ("13300000001", "PLATFORM")]


@pytest.mark.parametrize("user,portal", OTHERS)
def test_no_other_role_reaches_the_organisation_screens(app, login_as, cases, user, portal):
    ours, _ = cases
    c = login_as(user, portal)
    for method, url in [("get", "/organisation/"), ("get", "/organisation/mediators"),
                        ("get", f"/organisation/case/{ours}/dispatch"),
                        ("post", f"/organisation/case/{ours}/dispatch"), ("post", "/organisation/mediators")]:
        resp = getattr(c, method)(url, data={"mediator_id": 1, "phone": "13512340012", "name": "x",
                                             "id_number": "11010519491231002X", "expertise": "x"})
        assert resp.status_code in (302, 403), (url, resp.status_code)
        if resp.status_code == 302:
            assert "/organisation" not in resp.headers["Location"]
    with app_ctx(app):
        assert db.session.get(Case, ours).mediator_id is None
        assert db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13512340012")) is None


def test_an_anonymous_visitor_is_sent_to_login(app, cases):
    c = app.test_client()
    for url in ("/organisation/", "/organisation/mediators"):
        resp = c.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_dispatch_only_to_a_mediator_the_cases_court_certified(app, cases):
    """Issue 14 item 8: a mediator the organisation adds "then applies to courts"; until the case's court
    certified them they cannot be 分派 its case (as a court cannot assign them, SPEC §4)."""
    ours, _theirs = cases
    with app_ctx(app):
        fresh = org_portal.add_mediator(org_actor(OURS), "13512340019", "新成员", "11010519491231002X", "合同纠纷")
        db.session.commit()
        fresh_id = fresh.id
    c = org_client(app)
    form = text(c.get(f"/organisation/case/{ours}/dispatch"))
    assert f'value="{fresh_id}" disabled' in form and "新成员" in form and "尚未获得本院认证" in form
    resp = c.post(f"/organisation/case/{ours}/dispatch", data={"mediator_id": fresh_id})
    assert resp.status_code == 200 and "该调解员未经本院认证。" in text(resp)
    with app_ctx(app):
        case = db.session.get(Case, ours)
        assert case.mediator_id is None and case.version == 1
