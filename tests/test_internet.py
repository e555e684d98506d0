"""互联网调解 end to end [FAQ 5.1(3); Rules arts 4, 5, 8, 12, 13, 25]: a party applies, gets three
recommendations with reasons, chooses; the mediator declines (back to the applicant), another accepts
and picks the court (the number is issued then and the court sees the case only then); the other side
confirms — or refuses, which ends the case 调解终止."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus, EvidenceStatus, InternetStatus
from app.enums import TerminationReason
from app.extensions import db
from app.models import (
    Case,
    ConflictDeclaration,
    Court,
    Evidence,
    InternetApplication,
    Mediator,
    SmsOutbox,
)
from app.roles import PARTY
from app.storage import file_store
from app.workflows import DomainError, NotAllowed, internet
from app.workflows.accounts import ensure_account, find_user, set_password
from app.workflows.actor import SYSTEM
from app.workflows.engine import NEW
from app.workflows.internet import MACHINE

from .helpers import PASSWORD, app_ctx, flashes, logged_in, text

APPLICANT_PHONE = "13512340001"
RESPONDENT_PHONE = "13512340002"
PDF = b"%PDF-1.4\n" + b"0" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100

GOOD = {
    "cause": "买卖合同纠纷", "claim_amount": "12000.50", "summary": "货款未付。", "claims": "支付货款12000.50元。",
    "region": "北京市/朝阳区", "consent": "y",
    "applicant_kind": "PERSON", "applicant_name": "赵一", "applicant_id_number": "110105198001010016",
    "respondent_kind": "PERSON", "respondent_name": "钱二", "respondent_id_number": "11010519850505002X",
    "respondent_phone": RESPONDENT_PHONE,
}

# Rules arts 8, 12, 25; FAQ 5.1(3): the application's steps, written from the rules
SPEC_TABLE = {
    "submit": ({NEW}, InternetStatus.CHOOSING, "applicant"),
    "choose": ({InternetStatus.CHOOSING}, InternetStatus.WAITING, "applicant"),
    "accept": ({InternetStatus.WAITING}, InternetStatus.ACCEPTED, "chosen_mediator"),
    "decline": ({InternetStatus.WAITING}, InternetStatus.CHOOSING, "chosen_mediator"),
    "expire": ({InternetStatus.WAITING}, InternetStatus.CHOOSING, "system"),
    "confirm": ({InternetStatus.ACCEPTED}, InternetStatus.CONFIRMED, "respondent"),
    "refuse": ({InternetStatus.ACCEPTED}, InternetStatus.REFUSED, "respondent"),
}


def test_the_application_table_is_the_rules_table():
    assert {e: (set(t.sources), t.target, set(t.who)) for e, t in MACHINE.transitions.items()} == {
        e: (s, target, {who}) for e, (s, target, who) in SPEC_TABLE.items()}


@pytest.fixture()
def world(app):
    return make_world(app)


def make_world(app):
    """A registered party (i14a's SMS registration makes the same account) and the demo's mediators."""
    with app_ctx(app):
        ensure_account(APPLICANT_PHONE, "赵一", [PARTY], password=PASSWORD)
        db.session.commit()
        # the demo's third 朝阳 mediator (README): 孙悦, 买卖合同纠纷、借贷纠纷, 受理范围 合同、买卖纠纷
        return {"third": db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000003")),
                "chen": db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000001")),
                "liu": db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000002")),
                "yang": db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000011"))}


def apply(client, files=(("证据一.pdf", PDF),), **changes):
    data = {**GOOD, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    data["evidence"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/internet/apply", data=data, content_type="multipart/form-data")


def the_application(app) -> InternetApplication:
    with app_ctx(app):
        row = db.session.scalar(sa.select(InternetApplication).order_by(InternetApplication.id.desc()))
        db.session.expunge(row)
        return row


def state(app, app_id):
    with app_ctx(app):
        a = db.session.get(InternetApplication, app_id)
        c = a.case
        return {"status": a.status, "case": c.status, "mediator": c.mediator_id, "court": c.court_id,
                "number": c.number, "declined": list(a.declined_ids or []), "reason": c.termination_reason,
                "note": c.termination_note, "case_id": c.id}


def sms_to(app, phone) -> list[str]:
    with app_ctx(app):
        return db.session.scalars(sa.select(SmsOutbox.body).where(SmsOutbox.phone == phone)
                                  .order_by(SmsOutbox.id)).all()


def respondent_client(app):
    """The other side logs in with the account the acceptance gave it (a code login is i14a's)."""
    with app_ctx(app):
        set_password(find_user(RESPONDENT_PHONE), PASSWORD)
        db.session.commit()
    return logged_in(app, RESPONDENT_PHONE, "PARTY")


def accepted_application(app, world):
    """Apply, choose 孙悦, 孙悦 accepts for 朝阳: the start of the other side's part."""
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    assert apply(party).status_code == 302
    a = the_application(app)
    party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["third"]})
    mediator = logged_in(app, "13900000003", "MEDIATOR")
    with app_ctx(app):
        chaoyang = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    resp = mediator.post(f"/internet-inbox/{a.id}/accept", data={"court_id": chaoyang, "conflict": "none"})
    assert resp.status_code == 302, flashes(mediator)
    return a, party, mediator


def test_the_whole_internet_path_decline_then_accept_then_the_other_side_confirms(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    page = party.get("/internet/apply")
    assert page.status_code == 200 and "申请互联网调解" in text(page) and "在线调解" in text(page)

    resp = apply(party)
    assert resp.status_code == 302
    a = the_application(app)
    s = state(app, a.id)
    # 待受理 with no court and no number: the court does not see it yet
    assert s["status"] is InternetStatus.CHOOSING and s["case"] is CaseStatus.TO_ACCEPT
    assert s["court"] is None and s["number"] is None and s["mediator"] is None
    with app_ctx(app):
        ev = db.session.scalar(sa.select(Evidence).where(Evidence.case_id == s["case_id"]))
        assert ev.file_name == "证据一.pdf" and ev.content_type == "application/pdf" and ev.size == len(PDF)
        assert b"".join(file_store().iter_range(ev.file_key)) == PDF
    court = logged_in(app, "13800000001", "COURT")
    assert court.get(f"/case/{s['case_id']}").status_code == 404
    assert "买卖合同纠纷" not in text(court.get("/cases/internet/list/"))

    # three recommendations, each with its reasons
    page = text(party.get(f"/internet/{a.id}"))
    assert page.count('class="panel panel-default recommendation"') == 3
    assert "擅长领域与案由相符：买卖合同纠纷" in page and "受北京市朝阳区人民法院特邀" in page
    assert "在办案件" in page and "更多调解员" in page
    recommended = [r.mediator.id for r in _recommend(app, a.id)]
    # 朝阳's roster: 孙悦 (买卖合同纠纷, an exact match) and 陈静 (合同纠纷) before 刘洋 (婚姻家庭); 杨帆 is 海淀's
    assert set(recommended) == {world["third"], world["chen"], world["liu"]} and recommended[-1] == world["liu"]

    # 陈静 is chosen and declines with a reason: back to the applicant, not recommended again
    party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["chen"]})
    assert state(app, a.id)["status"] is InternetStatus.WAITING
    assert any("3个工作日" in b for b in sms_to(app, "13900000001"))
    chen = logged_in(app, "13900000001", "MEDIATOR")
    assert str(a.id) in text(chen.get("/internet-inbox/"))
    refused = chen.post(f"/internet-inbox/{a.id}/decline", data={"reason": " "})
    assert refused.status_code == 200 and "请填写理由" in text(refused)
    assert state(app, a.id)["status"] is InternetStatus.WAITING
    chen.post(f"/internet-inbox/{a.id}/decline", data={"reason": "与被申请人相识，不宜调解"})
    s = state(app, a.id)
    assert s["status"] is InternetStatus.CHOOSING and s["mediator"] is None and s["declined"] == [world["chen"]]
    assert any("重新选择" in b or "选择其他调解员" in b for b in sms_to(app, APPLICANT_PHONE))
    assert world["chen"] not in [r.mediator.id for r in _recommend(app, a.id)]
    again = party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["chen"]})
    assert again.status_code == 302 and state(app, a.id)["status"] is InternetStatus.CHOOSING

    # 更多调解员 finds 孙悦 by expertise; the applicant chooses her
    found = text(party.get(f"/internet/{a.id}/mediators?expertise=借贷"))
    assert "孙悦" in found and "刘洋" not in found
    party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["third"]})
    assert state(app, a.id)["status"] is InternetStatus.WAITING

    # 孙悦 accepts: the court she picks, no conflict declared; the number is issued now
    sun = logged_in(app, "13900000003", "MEDIATOR")
    with app_ctx(app):
        chaoyang = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    refused = sun.post(f"/internet-inbox/{a.id}/accept", data={"court_id": chaoyang})
    assert refused.status_code == 200 and "利益冲突" in text(refused)
    assert state(app, a.id)["number"] is None
    resp = sun.post(f"/internet-inbox/{a.id}/accept", data={"court_id": chaoyang, "conflict": "none"})
    assert resp.status_code == 302
    s = state(app, a.id)
    assert s["status"] is InternetStatus.ACCEPTED and s["case"] is CaseStatus.MEDIATING and s["court"] == chaoyang
    assert s["number"].startswith("（") and "京0105民诉前调" in s["number"]
    with app_ctx(app):
        d = db.session.scalar(sa.select(ConflictDeclaration).where(ConflictDeclaration.case_id == s["case_id"]))
        assert d.mediator_id == world["third"] and d.has_conflict is False
    assert court.get(f"/case/{s['case_id']}").status_code == 200
    assert s["number"] in text(court.get("/cases/internet/list/"))

    # the other side is told by SMS and confirms
    assert any("确认是否参与" in b for b in sms_to(app, RESPONDENT_PHONE))
    other = respondent_client(app)
    index = text(other.get("/internet/"))
    assert s["number"] in index
    show = text(other.get(f"/internet/{a.id}"))
    assert "同意调解" in show and "拒绝调解" in show
    other.post(f"/internet/{a.id}/do/confirm")
    assert state(app, a.id)["status"] is InternetStatus.CONFIRMED
    assert state(app, a.id)["case"] is CaseStatus.MEDIATING


def _recommend(app, app_id):
    with app_ctx(app):
        return internet.recommend(db.session.get(InternetApplication, app_id))


def test_the_other_side_refuses_and_the_case_ends_terminated_with_the_reason(app, world):
    a, party, _mediator = accepted_application(app, world)
    other = respondent_client(app)
    refused = other.post(f"/internet/{a.id}/do/refuse", data={"reason": ""})
    assert refused.status_code == 302 and state(app, a.id)["status"] is InternetStatus.ACCEPTED
    assert "请填写理由" in " ".join(flashes(other)) or state(app, a.id)["case"] is CaseStatus.MEDIATING
    other.post(f"/internet/{a.id}/do/refuse", data={"reason": "已自行和解，不需要调解"})
    s = state(app, a.id)
    assert s["status"] is InternetStatus.REFUSED and s["case"] is CaseStatus.TERMINATED
    assert s["reason"] is TerminationReason.REFUSES_MEDIATION and s["note"] == "已自行和解，不需要调解"
    assert any("调解终止" in b or "终止" in b for b in sms_to(app, APPLICANT_PHONE))


def test_bad_input_is_listed_field_by_field_and_nothing_is_saved(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    with app_ctx(app):
        before = (db.session.scalar(sa.select(sa.func.count(Case.id))),
                  db.session.scalar(sa.select(sa.func.count(Evidence.id))))
    resp = apply(party, cause="不存在的案由", claim_amount="-3", summary="", claims="", region="火星/x",
                 consent=None, respondent_id_number="123", respondent_phone="12345")
    page = text(resp)
    assert resp.status_code == 200
    for expected in ("案由", "争议金额", "纠纷概况", "请求事项", "被申请人", "身份证号", "手机号", "地区", "在线调解"):
        assert expected in page, expected
    assert 'value="钱二"' in page  # what was typed is kept
    with app_ctx(app):
        after = (db.session.scalar(sa.select(sa.func.count(Case.id))),
                 db.session.scalar(sa.select(sa.func.count(Evidence.id))))
    assert after == before


def test_evidence_is_checked_by_content_and_a_refused_file_saves_nothing(fresh_app, tmp_path):
    # real transactions: a rolled-back request removes the files it wrote (app/storage.py)
    app = fresh_app
    make_world(app)
    app.config["FILE_STORE_DIR"] = str(tmp_path)
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    with app_ctx(app):
        before = db.session.scalar(sa.select(sa.func.count(InternetApplication.id)))  # the demo's one
    resp = apply(party, files=(("合同.pdf", b"MZ\x90\x00 not a pdf"), ("照片.png", PNG)))
    assert resp.status_code == 200 and "合同.pdf" in text(resp) and "PDF" in text(resp)
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count(InternetApplication.id))) == before
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_the_mediator_who_let_three_working_days_pass_returns_it_to_the_applicant(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    apply(party)
    a = the_application(app)
    party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["third"]})
    with app_ctx(app):
        deadline = db.session.get(InternetApplication, a.id).case.deadline
        internet.expire_overdue(deadline)  # still in time on the last day (Rules art 12)
        assert db.session.get(InternetApplication, a.id).status is InternetStatus.WAITING
        # the day after: this one and the demo's (chosen the same day) go back to their applicants
        assert internet.expire_overdue(deadline + dt.timedelta(days=1)) >= 1
        db.session.commit()
    s = state(app, a.id)
    assert s["status"] is InternetStatus.CHOOSING and s["mediator"] is None and s["declined"] == [world["third"]]


def test_only_the_chosen_mediator_accepts_and_only_a_court_that_certified_them(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    apply(party)
    a = the_application(app)
    party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["third"]})
    with app_ctx(app):
        haidian = db.session.scalar(sa.select(Court.id).where(Court.code == "京0108"))
    chen = logged_in(app, "13900000001", "MEDIATOR")
    assert chen.get(f"/internet-inbox/{a.id}").status_code == 404
    assert chen.post(f"/internet-inbox/{a.id}/accept", data={"court_id": 1, "conflict": "none"}).status_code == 404
    sun = logged_in(app, "13900000003", "MEDIATOR")
    resp = sun.post(f"/internet-inbox/{a.id}/accept", data={"court_id": haidian, "conflict": "none"})
    assert "只能选择已认证您的法院" in text(resp)
    assert state(app, a.id)["status"] is InternetStatus.WAITING
    # the workflow refuses an outsider whatever the screen shows
    with app_ctx(app):
        row = db.session.get(InternetApplication, a.id)
        with pytest.raises(NotAllowed):
            internet.decline(row, SYSTEM, "不受理")
        with pytest.raises(DomainError, match="待调解员受理"):
            internet.choose(row, SYSTEM, world["chen"])


def test_a_disclosed_conflict_is_recorded_and_shown_to_the_court(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    apply(party)
    a = the_application(app)
    party.post(f"/internet/{a.id}/choose", data={"mediator_id": world["third"]})
    sun = logged_in(app, "13900000003", "MEDIATOR")
    with app_ctx(app):
        chaoyang = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    resp = sun.post(f"/internet-inbox/{a.id}/accept", data={"court_id": chaoyang, "conflict": "disclosed"})
    assert "请说明" in text(resp)
    sun.post(f"/internet-inbox/{a.id}/accept",
             data={"court_id": chaoyang, "conflict": "disclosed", "disclosure": "曾为申请人提供过法律咨询"})
    s = state(app, a.id)
    court = logged_in(app, "13800000001", "COURT")
    page = text(court.get(f"/case/{s['case_id']}"))
    assert "曾为申请人提供过法律咨询" in page and "已披露" in page


def test_the_public_profile_shows_scope_expertise_fee_and_inviting_court_but_no_phone(app, world, client):
    page = client.get(f"/mediator-profile/{world['third']}")
    body = text(page)
    assert page.status_code == 200
    for expected in ("孙悦", "受理范围", "合同、买卖纠纷", "擅长领域", "买卖合同纠纷", "是否收费", "北京市朝阳区人民法院"):
        assert expected in body, expected
    assert "13900000003" not in body
    assert client.get("/mediator-profile/999999").status_code == 404


def test_the_other_side_does_not_see_the_application_before_a_mediator_accepts(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    apply(party, respondent_phone="13500000002")  # 李四 already has a portal account
    a = the_application(app)
    li = logged_in(app, "13500000002", "PARTY")
    assert li.get(f"/internet/{a.id}").status_code == 404
    portal = text(li.get("/portal/"))
    case_id = state(app, a.id)["case_id"]
    links = re.findall(r'href="([^"]*)"', portal)
    assert not [h for h in links if re.search(rf"/({case_id}|internet/{a.id})(/|$|\?)", h)], links


# Role × endpoint: every new screen, each other role gets 403/302 (or 404 for another's data)
ROLE_USERS = [("13800000001", "COURT"), ("13800000002", "COURT"), ("13900000001", "MEDIATOR"),
              ("13600000001", "GRASSROOTS"), ("13700000001", "MINISTRY"), ("13500000001", "PARTY"),
              ("13500000003", "AGENT"), ("13300000001", "PLATFORM")]
PARTY_PAGES = ["/internet/", "/internet/apply"]
MEDIATOR_PAGES = ["/internet-inbox/"]


@pytest.mark.parametrize("user,portal", ROLE_USERS)
def test_role_endpoint_matrix_of_the_internet_screens(login_as, user, portal):
    client = login_as(user, portal)
    for url in PARTY_PAGES + MEDIATOR_PAGES:
        status = client.get(url).status_code
        allowed = (portal == "PARTY" and url in PARTY_PAGES) or (portal == "MEDIATOR" and url in MEDIATOR_PAGES)
        if allowed:
            assert status == 200, (user, url, status)
        else:
            assert status in (403, 302), (user, url, status)


def test_another_party_court_or_mediator_gets_404_for_an_application_and_its_evidence(app, world):
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    apply(party)
    a = the_application(app)
    with app_ctx(app):
        ev_id = db.session.scalar(sa.select(Evidence.id).where(Evidence.case_id == a.case_id))
    assert party.get(f"/evidence/{ev_id}").status_code == 200
    outsiders = [logged_in(app, "13500000001", "PARTY"), logged_in(app, "13900000002", "MEDIATOR"),
                 logged_in(app, "13800000001", "COURT"), logged_in(app, "13500000003", "AGENT")]
    for c in outsiders:
        assert c.get(f"/internet/{a.id}").status_code in (403, 404)
        assert c.get(f"/internet/{a.id}/mediators").status_code in (403, 404)
        assert c.post(f"/internet/{a.id}/choose", data={"mediator_id": world["chen"]}).status_code in (403, 404)
        assert c.get(f"/evidence/{ev_id}").status_code in (403, 404)
    assert state(app, a.id)["status"] is InternetStatus.CHOOSING
    anonymous = app.test_client()
    assert anonymous.get("/internet/apply").status_code == 302
    assert anonymous.get(f"/evidence/{ev_id}").status_code == 302


def test_on_an_internet_case_the_applicants_new_choice_decides_a_change_of_mediator(app, world):
    from app.models import MediatorChange
    from app.enums import MediatorChangeStatus

    a, party, _mediator = accepted_application(app, world)
    case_id = state(app, a.id)["case_id"]
    other = respondent_client(app)
    other.post(f"/mediator-change/case/{case_id}/ask", data={"reason": "调解员披露的情况让我担心"})
    with app_ctx(app):
        change = db.session.scalar(sa.select(MediatorChange).where(MediatorChange.case_id == case_id))
        assert change.status is MediatorChangeStatus.PENDING
        change_id = change.id
    # the court does not decide on an internet case; the other side does not choose either
    court = logged_in(app, "13800000001", "COURT")
    assert court.post(f"/mediator-change/{change_id}/approve", data={"mediator_id": world["chen"]}).status_code == 302
    other.post(f"/mediator-change/{change_id}/approve", data={"mediator_id": world["chen"]})
    # 杨帆 is not on the region's roster
    party.post(f"/mediator-change/{change_id}/approve", data={"mediator_id": world["yang"]})
    assert any("地区" in f for f in flashes(party))
    assert state(app, a.id)["mediator"] == world["third"]
    page = text(party.get(f"/portal/after/case/{case_id}"))
    assert "调解员披露的情况让我担心" in page and 'data-event="approve"' in page
    party.post(f"/mediator-change/{change_id}/approve", data={"mediator_id": world["chen"]})
    assert state(app, a.id)["mediator"] == world["chen"]
    with app_ctx(app):
        assert db.session.get(MediatorChange, change_id).status is MediatorChangeStatus.APPROVED


def test_a_recommendation_says_invited_only_for_an_invited_mediator(app, world):
    """Rules art 5: 特邀 is the standing of an invited mediator (陈静, 孙悦); 刘洋 is a judge on 朝阳's
    roster, and his card says so instead of 受北京市朝阳区人民法院特邀."""
    party = logged_in(app, APPLICANT_PHONE, "PARTY")
    apply(party)
    a = the_application(app)
    with app_ctx(app):
        reasons = {r.mediator.name: r.reasons for r in internet.recommend(db.session.get(InternetApplication, a.id))}
    assert "受北京市朝阳区人民法院特邀" in reasons["孙悦"] and "受北京市朝阳区人民法院特邀" in reasons["陈静"]
    assert "列入北京市朝阳区人民法院调解员名册" in reasons["刘洋"]
    assert not any("特邀" in r for r in reasons["刘洋"])


def test_my_applications_name_the_cause_once_and_say_why_there_is_no_number(login_as):
    """张三's demo application (房屋租赁合同纠纷, 待受理 by 陈静) has no case number yet [FAQ 5.1(3)]: the list says
    so instead of printing the 案由 twice."""
    page = text(login_as("13500000001", "PARTY").get("/internet/"))
    assert "<strong>房屋租赁合同纠纷</strong> · 调解员受理后生成案号" in page
    assert "房屋租赁合同纠纷</strong> · 房屋租赁合同纠纷" not in page
