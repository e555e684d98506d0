"""Issue 15 items 12, 14, 15 on the case screens: agents, declining, transcripts.

- item 12: an agent's phone is never a party's (or agent's) of the other side — one login would act
  for both sides (CPL arts 61, 62); an agent is removed from the case page while editing is allowed [FAQ 3.8].
- item 14: 退回/拒绝受理 ends on a success message, not a 404 (Rules art 12); a 待受理 internet
  case is declined by its chosen mediator [FAQ 5.1(3)].
- item 15: a transcript everyone signed is 已确认 [FAQ 3.10]; a general agent is offered no 签字 and
  its refusal names the 笔录 [FAQ 3.14(3); CPL art 62].
"""
from __future__ import annotations

import io
import re

import sqlalchemy as sa

from app.enums import AgentType, CaseStatus, InternetStatus
from app.extensions import db
from app.models import Case, CaseAgent, CaseParty, InternetApplication, Transcript, User

from .case_factory import add_agent, get_case, make_case
from .helpers import app_ctx, flashes, text
from .test_agreements import DEMO_PARTIES, data_url, mediator_signs, png, signatures_of

RIVAL_PHONE = "13511110002"  # 钱二, the respondent of make_case


def _parties(app, case_id) -> tuple[int, int]:
    with app_ctx(app):
        return tuple(db.session.scalars(sa.select(CaseParty.id).where(CaseParty.case_id == case_id)
                                        .order_by(CaseParty.id)).all())


def _agents(app, party_id) -> list[tuple[str, str]]:
    with app_ctx(app):
        return [(a.name, a.phone) for a in db.session.scalars(
            sa.select(CaseAgent).where(CaseAgent.party_id == party_id).order_by(CaseAgent.id))]


def _user_name(app, phone):
    with app_ctx(app):
        user = db.session.scalar(sa.select(User).where(User.username == phone))
        return user.first_name if user else None


# --- item 12 -------------------------------------------------------------------------------

def test_cpl61_an_agent_cannot_take_the_phone_of_a_party_of_the_other_side(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    applicant, respondent = _parties(app, case_id)
    account_before = _user_name(app, RIVAL_PHONE)
    mediator = login_as("13900000001", "MEDIATOR")
    resp = mediator.post(f"/case-agents/add?_flt_0_party={applicant}",
                         data={"agent_type": "SPECIAL", "name": "冒名律师", "phone": RIVAL_PHONE})
    said = " ".join(flashes(mediator)) + text(resp)
    assert "13511110002" in said and "被申请人钱二" in said and "对方" in said
    assert _agents(app, applicant) == []
    assert _user_name(app, RIVAL_PHONE) == account_before  # the other side's login is untouched

    # an agent of the respondent, then the applicant's agent may not use that agent's phone either
    add_agent(app, respondent, AgentType.GENERAL, "13511119999", "钱二代理")
    mediator.post(f"/case-agents/add?_flt_0_party={applicant}",
                  data={"agent_type": "SPECIAL", "name": "王律师", "phone": "13511119999"})
    assert "钱二代理" in " ".join(flashes(mediator)) and _agents(app, applicant) == []
    # and an existing agent is not edited onto the other side's phone
    add_agent(app, applicant, AgentType.SPECIAL, "13511118888", "王律师")
    with app_ctx(app):
        agent_id = db.session.scalar(sa.select(CaseAgent.id).where(CaseAgent.party_id == applicant))
    mediator.post(f"/case-agents/edit/{agent_id}", data={"agent_type": "SPECIAL", "name": "王律师",
                                                           "phone": RIVAL_PHONE})
    assert "对方" in " ".join(flashes(mediator))
    assert _agents(app, applicant) == [("王律师", "13511118888")]
    # its own side's numbers are fine: a second agent of the applicant
    resp = mediator.post(f"/case-agents/add?_flt_0_party={applicant}",
                         data={"agent_type": "GENERAL", "name": "赵代理", "phone": "13511117777"})
    assert resp.status_code == 302 and len(_agents(app, applicant)) == 2


def test_cpl61_a_party_cannot_take_the_phone_of_an_agent_of_the_other_side(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    applicant, respondent = _parties(app, case_id)
    add_agent(app, applicant, AgentType.SPECIAL, "13511118888", "王律师")
    admin = login_as("13800000001")
    admin.post(f"/case-parties/edit/{respondent}", data={"role": "RESPONDENT", "kind": "PERSON", "name": "钱二",
                                                          "phone": "13511118888"})
    assert "王律师" in " ".join(flashes(admin))
    with app_ctx(app):
        assert db.session.get(CaseParty, respondent).phone == RIVAL_PHONE


def test_faq38_an_agent_is_removed_from_the_case_page_while_editing_is_allowed(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    applicant, _respondent = _parties(app, case_id)
    add_agent(app, applicant, AgentType.GENERAL, "13511118888", "错录代理")
    with app_ctx(app):
        agent_id = db.session.scalar(sa.select(CaseAgent.id).where(CaseAgent.party_id == applicant))
    mediator = login_as("13900000001", "MEDIATOR")
    page = text(mediator.get(f"/case/{case_id}?tab=parties"))
    assert f'data-remove-agent="{agent_id}"' in page and f"/case-agents/delete/{agent_id}" in page
    resp = mediator.post(f"/case-agents/delete/{agent_id}")
    assert resp.status_code == 302 and f"/case/{case_id}" in resp.headers["Location"]
    assert _agents(app, applicant) == []

    # from 申请结案 on the case is locked [FAQ 3.8]: no button, and the delete is refused
    locked = make_case(app, status=CaseStatus.CLOSE_REQUESTED)
    party, _r = _parties(app, locked)
    add_agent(app, party, AgentType.GENERAL, "13511118888", "错录代理")
    with app_ctx(app):
        locked_agent = db.session.scalar(sa.select(CaseAgent.id).where(CaseAgent.party_id == party))
    assert "data-remove-agent" not in text(mediator.get(f"/case/{locked}?tab=parties"))
    mediator.post(f"/case-agents/delete/{locked_agent}")
    assert "不能编辑" in " ".join(flashes(mediator)) or "不能" in " ".join(flashes(mediator))
    assert _agents(app, party) == [("错录代理", "13511118888")]


def test_faq38_removing_an_agent_of_another_courts_case_is_404_and_a_party_gets_no_button(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    applicant, _r = _parties(app, case_id)
    add_agent(app, applicant, AgentType.GENERAL, "13511118888", "错录代理")
    with app_ctx(app):
        agent_id = db.session.scalar(sa.select(CaseAgent.id).where(CaseAgent.party_id == applicant))
    for phone, portal in (("13800000011", "COURT"), ("13900000011", "MEDIATOR")):
        other = login_as(phone, portal)
        assert other.post(f"/case-agents/delete/{agent_id}").status_code in (302, 403, 404)
        assert other.get(f"/case/{case_id}").status_code == 404
    party = login_as("13500000001", "PARTY")
    assert party.post(f"/case-agents/delete/{agent_id}").status_code in (302, 403, 404)
    assert _agents(app, applicant) == [("错录代理", "13511118888")]


# --- item 14 -------------------------------------------------------------------------------

def test_rules12_decline_ends_on_the_mediators_case_list_with_a_success_message(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mediator = login_as("13900000001", "MEDIATOR")
    resp = mediator.post(f"/case/{case_id}/do/decline",
                         data={"reason": "需要回避", "version": get_case(app, case_id).version})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/my/cases/list/")
    assert "退回/拒绝受理成功。" in flashes(mediator)
    page = mediator.get(resp.headers["Location"])
    assert page.status_code == 200
    case = get_case(app, case_id)
    assert case.status is CaseStatus.TO_ASSIGN and case.mediator_id is None


def test_rules12_decline_with_no_reason_is_refused_and_nothing_changes(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mediator = login_as("13900000001", "MEDIATOR")
    resp = mediator.post(f"/case/{case_id}/do/decline", data={"reason": " ", "version": get_case(app, case_id).version})
    assert resp.status_code == 200 and "理由" in text(resp)
    assert get_case(app, case_id).status is CaseStatus.MEDIATING


def test_faq51_the_demo_internet_case_awaiting_chen_is_declined_from_its_case_page(app, login_as):
    with app_ctx(app):
        case_id = db.session.scalar(sa.select(Case.id).join(InternetApplication, InternetApplication.case_id == Case.id)
                                    .where(Case.status == CaseStatus.TO_ACCEPT, Case.mediator_id.is_not(None)))
        app_id = db.session.scalar(sa.select(InternetApplication.id).where(InternetApplication.case_id == case_id))
    assert case_id is not None, "the demo has an internet application 待受理 by 陈静"
    chen = login_as("13900000001", "MEDIATOR")
    page = text(chen.get(f"/case/{case_id}"))
    link = re.search(r'id="decide-application" href="([^"]+)"', page)
    assert link, "the case page links to 受理 / 不予受理"
    decide = text(chen.get(link.group(1)))
    action = f"/internet-inbox/{app_id}/decline"
    assert f'action="{action}"' in decide
    resp = chen.post(action, data={"reason": " "})  # a reason is required (Rules art 12)
    assert resp.status_code == 200 and get_case(app, case_id).mediator_id is not None
    resp = chen.post(action, data={"reason": "与本人专业不符"})
    assert resp.status_code == 302
    assert "已不予受理，申请已退回申请人重新选择调解员。" in flashes(chen)
    assert chen.get(resp.headers["Location"]).status_code == 200
    with app_ctx(app):
        application = db.session.get(InternetApplication, app_id)
        assert application.status is InternetStatus.CHOOSING and application.case.mediator_id is None
    # 海淀's mediator neither sees nor declines it
    other = login_as("13900000011", "MEDIATOR")
    assert other.get(f"/case/{case_id}").status_code == 404


# --- item 15 -------------------------------------------------------------------------------

def _transcript_sent_for_confirmation(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING, parties=DEMO_PARTIES)
    applicant, respondent = _parties(app, case_id)
    add_agent(app, applicant, AgentType.SPECIAL, "13500000003")
    add_agent(app, respondent, AgentType.GENERAL, "13500000004", "刘代理")
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post(f"/case/{case_id}/transcript/upload", data={"file": (io.BytesIO(png()), "第一次笔录.png")},
                  content_type="multipart/form-data")
    with app_ctx(app):
        tid = db.session.scalar(sa.select(Transcript.id).where(Transcript.case_id == case_id))
    mediator_signs(app, mediator, case_id, "TRANSCRIPT", tid)
    mediator.post(f"/case/{case_id}/transcript/{tid}/confirm")
    return case_id, tid, mediator


def _transcript_row(page: str) -> str:
    start = page.index("第一次笔录")
    return page[start:start + 1500]


def test_faq310_a_transcript_everyone_signed_is_confirmed(app, login_as):
    case_id, tid, mediator = _transcript_sent_for_confirmation(app, login_as)
    sign_url = f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign"
    assert "已发起确认" in _transcript_row(text(mediator.get(f"/case/{case_id}?tab=documents")))
    assert "已完成签字" in text(login_as("13500000001", "PARTY").post(sign_url, data={"signature": data_url()}))
    row = _transcript_row(text(mediator.get(f"/case/{case_id}?tab=documents")))
    assert "已发起确认" in row and "已确认" not in row  # 李四 has not signed yet
    assert "已完成签字" in text(login_as("13500000002", "PARTY").post(sign_url, data={"signature": data_url()}))
    assert signatures_of(app, Transcript(id=tid)) == ["MEDIATOR", "PARTY", "PARTY"]
    row = _transcript_row(text(mediator.get(f"/case/{case_id}?tab=documents")))
    assert "已确认" in row and "已发起确认" not in row


def test_faq314_a_general_agent_sees_no_sign_link_and_is_told_the_transcript_needs_its_party(app, login_as):
    case_id, tid, _mediator = _transcript_sent_for_confirmation(app, login_as)
    sign_url = f"/portal/case/{case_id}/TRANSCRIPT/{tid}/sign"
    general = login_as("13500000004", "AGENT")
    portal = text(general.get("/portal/"))
    assert "第一次笔录" in portal and sign_url not in portal and "签字</a>" not in portal.split("第一次笔录", 1)[1][:400]
    for resp in (general.get(sign_url), general.post(sign_url, data={"signature": data_url()})):
        page = text(resp)
        assert "一般代理人无权签署调解笔录" in page and "特别授权代理人" in page
        assert "无权签署调解协议" not in page
    assert signatures_of(app, Transcript(id=tid)) == ["MEDIATOR"]
    # the special agent of 张三 is offered the link and signs
    special = login_as("13500000003", "AGENT")
    assert sign_url in text(special.get("/portal/"))
    assert "已完成签字" in text(special.post(sign_url, data={"signature": data_url()}))
