"""After mediation: 司法确认, 出具调解书, 在线立案, the intranet hand-over and the result API
[SPEC §3.3, §7, §8; FAQ 3.4–3.6, 3.15, 3.16, 5.1, 5.2]."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import User

from app.clock import today
from app.demo import DEMO_INTRANET_KEY
from app.enums import ApplicationKind, ApplicationStatus, CaseStatus, CaseType, HandlingPlatform, OutboxStatus
from app.extensions import db
from app.models import (
    ApplicationConsent,
    AuditLog,
    Case,
    CaseParty,
    CaseSequence,
    CourtApplication,
    IntranetApiKey,
    IntranetResult,
    OutboxMessage,
    Signature,
    SimulatedIntranetInbox,
)
from app.outbox import LocalIntranet, deliver_due
from app.api_keys import hash_key
from app.roles import Portal
from app.security import Scope
from app.workflows import DomainError, NotAllowed, after_mediation
from app.workflows.actor import SYSTEM, Actor

from .case_factory import court_actor, get_case, make_case, mediator_actor
from .helpers import app_ctx, flashes, text
from .helpers import demo_ids, last_sms

ENDED_CAUSE = "房屋租赁合同纠纷"  # demo: 张三 and 李四 signed today
TERMINATED_CAUSE = "装饰装修合同纠纷"  # demo: terminated, 张三 is the applicant
ZHANG, LI, WANG, LIU = "13500000001", "13500000002", "13500000003", "13500000004"
CY_ADMIN, HD_ADMIN = "13800000001", "13800000011"


def case_id(app, cause, court="京0105"):
    with app_ctx(app):
        return db.session.scalar(sa.select(Case.id).where(Case.cause == cause, Case.number.like(f"%{court}%")))


def applications(app, cid) -> list[CourtApplication]:
    with app_ctx(app):
        rows = db.session.scalars(sa.select(CourtApplication).where(CourtApplication.case_id == cid)
                                  .order_by(CourtApplication.id)).all()
        for r in rows:
            _ = r.outbox_message, r.consents
        db.session.expunge_all()
        return rows


def run_worker(app):
    with app.app_context():
        counts = deliver_due()
        db.session.remove()
    return counts


def inbox(app) -> list[SimulatedIntranetInbox]:
    with app_ctx(app):
        rows = db.session.scalars(sa.select(SimulatedIntranetInbox)).all()
        db.session.expunge_all()
        return rows


def api(client, key, **body):
    return client.post("/api/v1/intranet/results", json=body, headers={"X-Api-Key": key} if key else {})


def apply_in_portal(login_as, cid, kind, phone=ZHANG, portal="PARTY", **data):
    c = login_as(phone, portal)
    return c, c.post(f"/portal/after/case/{cid}/apply/{kind}", data=data)


def accept(login_as, app_id, phone=CY_ADMIN, platform="INTRANET"):
    return login_as(phone).post(f"/application/{app_id}/do/accept", data={"handling_platform": platform})


@pytest.fixture()
def ended(app):
    return case_id(app, ENDED_CAUSE)


@pytest.fixture()
def accepted_confirmation(app, login_as, ended):
    """A 司法确认 applied for by 张三, consented by 李四, accepted by 朝阳 into the intranet."""
    apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")
    application = applications(app, ended)[0]
    login_as(LI, "PARTY").post(f"/portal/after/application/{application.id}/consent")
    assert accept(login_as, application.id).status_code == 302
    return applications(app, ended)[0]


# --- the walkthrough ------------------------------------------------------------------

def test_walkthrough_party_applies_respondent_consents_court_accepts_intranet_confirms_party_sees(
        app, login_as, ended):
    """[FAQ 3.6, 3.15] joint application (CPL art 205) → 受理 into 内网办案系统 → the ruling comes back."""
    zhang = login_as(ZHANG, "PARTY")
    assert f'data-more="{ended}"' in text(zhang.get("/portal/"))
    page = text(zhang.get(f"/portal/after/case/{ended}"))
    assert "申请司法确认" in page and "申请出具调解书" in page and "在线立案" not in page
    zhang.post(f"/portal/after/case/{ended}/apply/JUDICIAL_CONFIRMATION", data={})
    [application] = applications(app, ended)
    assert application.status is ApplicationStatus.AWAITING_CONSENT and application.applicant_name == "张三"
    assert "同意" in last_sms(app, LI)

    li = login_as(LI, "PARTY")
    assert f"consent-{application.id}" in text(li.get(f"/portal/after/case/{ended}"))
    li.post(f"/portal/after/application/{application.id}/consent")
    application = applications(app, ended)[0]
    assert application.status is ApplicationStatus.PENDING
    assert application.accept_deadline > today() and len(application.consents) == 2

    court = login_as(CY_ADMIN)
    listing = text(court.get("/judicial-confirmations/list/?_flt_0_status=PENDING"))
    assert "张三" in listing and "待受理" in listing and "已确认" in listing  # the status tabs
    detail = text(court.get(f"/application/{application.id}"))
    assert 'data-step="accept"' in detail and "受理" in detail
    assert "内网办案系统" in text(court.get(f"/application/{application.id}/do/accept"))
    assert accept(login_as, application.id).status_code == 302
    application = applications(app, ended)[0]
    assert application.status is ApplicationStatus.ACCEPTED and application.ruling_deadline is not None
    assert re.fullmatch(r"（\d{4}）京0105民特调确\d+号", application.number), application.number
    assert application.outbox_message.status is OutboxStatus.PENDING

    assert run_worker(app)["sent"] == 1
    [received] = inbox(app)
    assert received.message_id == application.outbox_message.message_id and received.court_code == "京0105"
    message = applications(app, ended)[0].outbox_message
    assert message.status is OutboxStatus.SENT and message.acknowledged_at is not None

    assert application.number in text(court.get("/simulated-intranet/"))
    court.post(f"/simulated-intranet/{received.id}/result", data={"result": "confirmed",
                                                                   "number": application.number})
    application = applications(app, ended)[0]
    assert application.status is ApplicationStatus.CONFIRMED and application.decided_at is not None
    assert application.result_number == application.number
    assert "已确认" in last_sms(app, ZHANG) and "已确认" in last_sms(app, LI)
    page = text(zhang.get(f"/portal/after/case/{ended}"))
    assert "已确认" in page and application.number in page
    assert applications(app, ended)[0].outbox_message.outcome_at is not None


def test_a_terminated_case_becomes_a_filing_reaches_the_intranet_and_keeps_its_min_chu_number(app, login_as):
    """[FAQ 3.5] 转在线立案 → 待立案 → 立案审查 → 内网; the filed 民初 number becomes 案号 [FAQ 5.2]."""
    cid = case_id(app, TERMINATED_CAUSE)
    court = login_as(CY_ADMIN)
    assert "转在线立案" in text(court.get(f"/case/{cid}"))
    resp = court.post(f"/application/case/{cid}/new/FILING", data={"claims": "", "facts": ""})
    assert "诉讼请求" in text(resp) and applications(app, cid) == []
    court.post(f"/application/case/{cid}/new/FILING", data={"claims": "判令被告支付装修款五万元",
                                                           "facts": "双方签订装修合同，被告未付尾款。"})
    [filing] = applications(app, cid)
    assert filing.kind is ApplicationKind.FILING and filing.status is ApplicationStatus.PENDING
    assert filing.applied_via == "court" and filing.applicant_name == "张三" and filing.number is None
    listing = text(court.get("/filings/list/?_flt_0_status=PENDING"))
    assert "待立案" in listing and "张三" in listing
    assert "立案审查" in text(court.get(f"/application/{filing.id}"))
    accept(login_as, filing.id)
    run_worker(app)
    assert [r.topic for r in inbox(app)] == ["intranet.filing"]
    message_id = applications(app, cid)[0].outbox_message.message_id
    resp = api(app.test_client(), DEMO_INTRANET_KEY, message_id=message_id, result="filed",
               number="（2026）京0105民初4321号")
    assert resp.status_code == 200 and resp.json["application_status"] == "filed"
    assert get_case(app, cid).intranet_number == "（2026）京0105民初4321号"
    assert "已立案" in last_sms(app, ZHANG)
    assert "（2026）京0105民初4321号" in text(login_as(ZHANG, "PARTY").get(f"/portal/after/case/{cid}"))
    # 质效指标: the filing now counts in 转立案数 (SPEC §6), listed behind the figure
    filed = text(court.get("/statistics/detail", query_string={"key": "all", "figure": "filed"}))
    assert TERMINATED_CAUSE in filed and "1 件" in filed


def test_the_plaintiff_applies_for_online_filing_under_more(app, login_as):
    """[FAQ 3.16] 更多 › 在线立案, by the plaintiff only; 立案审查 then sends it to the intranet."""
    cid = case_id(app, TERMINATED_CAUSE)
    assert "在线立案" in text(login_as(ZHANG, "PARTY").get(f"/portal/after/case/{cid}"))
    assert "在线立案" not in text(login_as(LI, "PARTY").get(f"/portal/after/case/{cid}"))
    _c, resp = apply_in_portal(login_as, cid, "FILING", LI, claims="x", facts="y")
    assert applications(app, cid) == []
    _c, resp = apply_in_portal(login_as, cid, "FILING", claims="判令被告支付五万元", facts="被告未付尾款")
    [filing] = applications(app, cid)
    assert filing.applied_via == "party" and filing.status is ApplicationStatus.PENDING


# --- application guards -------------------------------------------------------------

def _apply(app, cid, kind, phone, **kw):
    """Apply through the workflow: the case's mediator for the party with `phone`, the court for a filing."""
    with app_ctx(app):
        case = db.session.get(Case, cid)
        party = next((p for p in case.parties if p.phone == phone), None)
        actor = court_actor() if kind is ApplicationKind.FILING else mediator_actor()
        try:
            after_mediation.apply_for(case, kind, actor, party.id if party else None, **kw)
        except DomainError as exc:
            db.session.rollback()
            return exc.message
        db.session.commit()
        return None


def test_in_litigation_cases_cannot_apply_for_confirmation_or_a_mediation_document(app):
    """[FAQ 5.1] 立案调解 is already filed: no 司法确认, no 调解书."""
    cid = make_case(app, status=CaseStatus.ENDED, case_type=CaseType.IN_LITIGATION)
    for kind in (ApplicationKind.JUDICIAL_CONFIRMATION, ApplicationKind.MEDIATION_DOCUMENT):
        assert "立案调解" in _apply(app, cid, kind, "13511110001")
    assert "立案调解" in _apply(app, make_case(app, status=CaseStatus.TERMINATED, case_type=CaseType.IN_LITIGATION),
                                ApplicationKind.FILING, "13511110001", claims="a", facts="b")
    assert applications(app, cid) == []


def test_wrong_state_is_refused_with_the_state(app):
    """[SPEC §3.3] 司法确认/调解书 after 调解结束; 在线立案 after 调解终止 only."""
    mediating = make_case(app, status=CaseStatus.MEDIATING)
    assert "调解中" in _apply(app, mediating, ApplicationKind.JUDICIAL_CONFIRMATION, "13511110001")
    assert "调解中" in _apply(app, mediating, ApplicationKind.FILING, "13511110001", claims="a", facts="b")
    ended = make_case(app, status=CaseStatus.ENDED)
    assert "调解结束" in _apply(app, ended, ApplicationKind.FILING, "13511110001", claims="a", facts="b")
    # ended without an agreement every party signed: the agreement is not in effect (Rules art 19)
    assert "生效" in _apply(app, ended, ApplicationKind.MEDIATION_DOCUMENT, "13511110001")


def test_confirmation_is_refused_after_30_days_with_the_reason(app, login_as, ended):
    """CPL art 205: within 30 days of the agreement taking effect; refused after, saying why."""
    with app_ctx(app):
        for s in db.session.scalars(sa.select(Signature)):
            if s.agreement is not None and s.agreement.case_id == ended:
                s.signed_at = s.signed_at - dt.timedelta(days=31)
        db.session.commit()
    zhang, resp = apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")
    message = " ".join(flashes(zhang)) or text(resp)
    assert "30" in message and "驳回" not in message and applications(app, ended) == []
    assert "日内" in message
    # 调解书 has no such window
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")
    assert [a.kind for a in applications(app, ended)] == [ApplicationKind.MEDIATION_DOCUMENT]


def test_confirmation_waits_for_every_party_and_agents_need_special_authority(app, login_as, ended):
    """A joint application (CPL art 205): not 待受理 until both sides consented; a general agent
    can neither apply nor consent, a special agent can (CPL art 62) [FAQ 3.14(3)]."""
    _c, resp = apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION", LIU, "AGENT")
    assert applications(app, ended) == []
    apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION", WANG, "AGENT")
    [application] = applications(app, ended)
    assert application.applied_via == "agent" and application.status is ApplicationStatus.AWAITING_CONSENT
    # the court cannot accept before both sides consented
    court = login_as(CY_ADMIN)
    assert 'data-step="accept"' not in text(court.get(f"/application/{application.id}"))
    court.post(f"/application/{application.id}/do/accept", data={"handling_platform": "INTRANET"})
    assert applications(app, ended)[0].status is ApplicationStatus.AWAITING_CONSENT
    liu = login_as(LIU, "AGENT")
    liu.post(f"/portal/after/application/{application.id}/consent")
    assert "特别授权" in " ".join(flashes(liu))
    assert applications(app, ended)[0].status is ApplicationStatus.AWAITING_CONSENT
    # a second application while one is open is refused
    _zhang, resp = apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")
    assert "已有" in text(resp) and len(applications(app, ended)) == 1


def test_the_mediator_applies_on_a_partys_behalf_but_not_for_filings(app, login_as, ended):
    """[FAQ 3.15] 调解员直接帮助当事人发起申请."""
    mediator = login_as("13900000001", "MEDIATOR")
    assert "代当事人申请司法确认" in text(mediator.get(f"/case/{ended}"))
    with app_ctx(app):
        zhang_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == ended,
                                                                   CaseParty.phone == ZHANG))
    mediator.post(f"/application/case/{ended}/new/JUDICIAL_CONFIRMATION", data={"party_id": zhang_id})
    [application] = applications(app, ended)
    assert application.applied_via == "mediator" and application.consents[0].given_via == "mediator"
    cid = case_id(app, TERMINATED_CAUSE)
    assert mediator.get(f"/application/case/{cid}/new/FILING").status_code == 403
    assert login_as("13900000011", "MEDIATOR").get(f"/application/case/{ended}/new/JUDICIAL_CONFIRMATION") \
        .status_code == 404


# --- the court ---------------------------------------------------------------------

def test_court_acceptance_needs_the_handling_platform_and_refusal_a_reason(app, login_as, ended):
    """[FAQ 3.4, 3.6] 受理/编写调解书 asks for 内网办案系统; 不予受理 needs the reason (SPEC §3.1 style)."""
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")
    [doc] = applications(app, ended)
    court = login_as(CY_ADMIN)
    assert "申请出具调解书" in text(court.get("/mediation-documents/list/"))
    assert "编写调解书" in text(court.get(f"/application/{doc.id}"))
    accept(login_as, doc.id, platform="")
    assert applications(app, ended)[0].status is ApplicationStatus.PENDING
    court.post(f"/application/{doc.id}/do/refuse", data={"reason": ""})
    assert applications(app, ended)[0].status is ApplicationStatus.PENDING
    court.post(f"/application/{doc.id}/do/refuse", data={"reason": "协议内容违反法律规定"})
    doc = applications(app, ended)[0]
    assert doc.status is ApplicationStatus.REJECTED and "协议内容违反法律规定" in last_sms(app, ZHANG)
    with app_ctx(app):
        rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "court_application",
                                                            AuditLog.entity_id == doc.id,
                                                            AuditLog.action == "TRANSITION")
                                   .order_by(AuditLog.id)).all()
        assert [r.after["event"] for r in rows] == ["apply_document", "refuse"]
        assert [r.summary for r in rows] == ["application.apply_document", "application.refuse"]  # codes
        assert rows[0].before["status"] is None and rows[0].after["status"] == "PENDING"


def test_another_court_neither_sees_nor_accepts(app, login_as, ended, accepted_confirmation):
    hd = login_as(HD_ADMIN)
    assert "张三" not in text(hd.get("/judicial-confirmations/list/"))
    assert hd.get(f"/application/{accepted_confirmation.id}").status_code == 404
    assert hd.post(f"/application/{accepted_confirmation.id}/do/accept",
                   data={"handling_platform": "INTRANET"}).status_code == 404
    run_worker(app)
    assert "民特调确" not in text(hd.get("/simulated-intranet/"))
    assert hd.post(f"/simulated-intranet/{inbox(app)[0].id}/result", data={"result": "confirmed"}).status_code == 404


def test_deadlines_are_shown_and_due_applications_listed(app, login_as, ended):
    """SPEC §8: 3 working days to accept, 15 to rule; close or overdue ones are listed."""
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")
    [doc] = applications(app, ended)
    court = login_as(CY_ADMIN)
    assert "天" in text(court.get(f"/application/{doc.id}"))
    with app_ctx(app):
        db.session.get(CourtApplication, doc.id).accept_deadline = today() - dt.timedelta(days=1)
        db.session.commit()
    assert "张三" in text(court.get("/applications/deadlines/list/"))
    assert "超期" in text(court.get(f"/application/{doc.id}"))
    assert "张三" not in text(login_as(HD_ADMIN).get("/applications/deadlines/list/"))


def test_confirmation_numbers_use_tiao_que_and_their_own_sequence(app, accepted_confirmation):
    """[FAQ 5.2; SPEC §8] a 司法确认 gets its own 调确 number on acceptance, from its own yearly
    sequence per court; the case keeps its 民诉前调 number."""
    year = today().year
    assert accepted_confirmation.number == f"（{year}）京0105民特调确1号"
    with app_ctx(app):
        case = db.session.get(Case, accepted_confirmation.case_id)
        assert "民诉前调" in case.number
        seq = db.session.scalar(sa.select(CaseSequence).where(CaseSequence.type_code == "民特调确"))
        assert seq.last == 1 and seq.year == year


def test_deleting_a_case_takes_its_applications_with_it(app, login_as, accepted_confirmation):
    """SPEC §3.1 删除: the case goes with everything of it; the hand-over stays in 推送记录."""
    cid = accepted_confirmation.case_id
    court = login_as(CY_ADMIN)
    court.post(f"/case/{cid}/do/delete", data={"confirm": "y", "version": get_case(app, cid).version})
    assert get_case(app, cid) is None and applications(app, cid) == []
    with app_ctx(app):
        assert db.session.get(OutboxMessage, accepted_confirmation.outbox_message_id).case_id is None


# --- the outbox and the intranet ------------------------------------------------------

class CrashAfterSend:
    """The intranet received the message, then the worker died before recording it."""

    def deliver(self, envelope):
        LocalIntranet().deliver(envelope)
        raise RuntimeError("worker killed")


def test_a_worker_crash_between_send_and_acknowledge_loses_nothing_and_duplicates_nothing(
        app, login_as, accepted_confirmation):
    """SPEC §7: the message stays pending, is delivered again, and the intranet dedupes by message id."""
    app.config["COURT_INTRANET"] = CrashAfterSend()
    with app.app_context():
        with pytest.raises(RuntimeError):
            deliver_due()
        db.session.remove()
    with app_ctx(app):
        message = db.session.get(OutboxMessage, accepted_confirmation.outbox_message_id)
        assert message.status is OutboxStatus.PENDING and message.sent_at is None
    assert len(inbox(app)) == 1
    app.config["COURT_INTRANET"] = "local"
    assert run_worker(app)["sent"] == 1
    [row] = inbox(app)
    assert row.deliveries == 2
    with app_ctx(app):
        message = db.session.get(OutboxMessage, accepted_confirmation.outbox_message_id)
        # two attempts: the one that crashed after sending counted when it began
        assert message.status is OutboxStatus.SENT and message.acknowledged_at is not None and message.attempts == 2
    # 重新推送 from the platform: delivered a third time, still one arrival
    staff = login_as("13300000001", "PLATFORM")
    listing = text(staff.get("/pushes/list/"))
    assert "推送至内网：司法确认" in listing and "北京市朝阳区人民法院" in listing
    assert "重新推送" in text(staff.get(f"/pushes/show/{accepted_confirmation.outbox_message_id}"))
    staff.post(f"/pushes/resend/{accepted_confirmation.outbox_message_id}")
    run_worker(app)
    [row] = inbox(app)
    assert row.deliveries == 3 and len(inbox(app)) == 1
    assert login_as(CY_ADMIN).get("/pushes/list/").status_code == 403


class Unreachable:
    def deliver(self, envelope):
        from app.outbox import DeliveryError

        raise DeliveryError("intranet gateway timeout")


def test_an_unreachable_intranet_is_retried_and_shown_on_the_application(app, login_as, accepted_confirmation):
    """[FAQ 3.4, 3.6] 'shows transferred but the intranet never got it': the state is visible."""
    app.config["COURT_INTRANET"] = Unreachable()
    assert run_worker(app)["retry"] == 1
    page = text(login_as(CY_ADMIN).get(f"/application/{accepted_confirmation.id}"))
    assert "intranet gateway timeout" in page and "推送失败" in page  # after the first failed attempt (issue 15)
    assert inbox(app) == []


# --- the result API -----------------------------------------------------------------

def test_result_api_rejects_bad_keys_bad_bodies_unknown_ids_and_illegal_results(
        app, client, accepted_confirmation):
    message_id = accepted_confirmation.outbox_message.message_id
    good = {"message_id": message_id, "result": "confirmed"}
    assert api(client, None, **good).status_code == 401
    assert api(client, "ik_wrong", **good).status_code == 401
    resp = api(client, DEMO_INTRANET_KEY, message_id=message_id, result="maybe")
    assert resp.status_code == 400 and "result" in resp.json["reason"]
    resp = api(client, DEMO_INTRANET_KEY, message_id=message_id, result="rejected")
    assert resp.status_code == 400 and "理由" in resp.json["reason"]
    assert api(client, DEMO_INTRANET_KEY, message_id="no-such-message", result="confirmed").status_code == 404
    resp = api(client, DEMO_INTRANET_KEY, message_id=message_id, result="filed", number="（2026）京0105民初1号")
    assert resp.status_code == 409
    with app_ctx(app):
        hd = demo_ids(app)["haidian"]
    with app_ctx(app):
        db.session.add(IntranetApiKey(court_id=hd, key_hash=hash_key("ik_haidian")))
        db.session.commit()
    assert api(client, "ik_haidian", **good).status_code == 404  # another court's hand-over
    assert applications(app, accepted_confirmation.case_id)[0].status is ApplicationStatus.ACCEPTED
    spec = client.get("/api/v1/intranet/openapi.json").json
    assert "/api/v1/intranet/results" in spec["paths"] and spec["components"]["securitySchemes"]["ApiKey"]



def test_result_api_reasons_are_chinese_sentences_naming_the_field_in_chinese(app, client, accepted_confirmation):
    """Every 400 reason of the intranet API opens in Chinese and names the field in Chinese, its JSON key
    after it in brackets (as the ministry API does): 缺少消息编号（message_id）, not "message_id ..."."""
    message_id = accepted_confirmation.outbox_message.message_id
    cases = [
        ({"result": "confirmed"}, "缺少消息编号（message_id）。"),
        ({"message_id": "  ", "result": "confirmed"}, "缺少消息编号（message_id）。"),
        ({"message_id": "m" * 37, "result": "confirmed"}, "消息编号（message_id）最多 36 个字符。"),
        ({"message_id": message_id, "result": "maybe"},
         "结果（result）须为received、confirmed、rejected、issued或filed之一。"),
        ({"message_id": message_id}, "结果（result）须为received、confirmed、rejected、issued或filed之一。"),
        ({"message_id": message_id, "result": "confirmed", "number": 5}, "案号（number）须为不超过64个字符的文本。"),
        ({"message_id": message_id, "result": "confirmed", "number": "号" * 65},
         "案号（number）须为不超过64个字符的文本。"),
        ({"message_id": message_id, "result": "rejected", "reason": ["x"]}, "理由（reason）须为不超过500个字符的文本。"),
        ({"message_id": message_id, "result": "filed", "number": "（2026）京0105民诉前调1号"},
         "立案结果须附内网民初案号（number），例如（2026）京0105民初123号。"),
        ({"message_id": message_id, "result": "confirmed", "number": "（2026）京0105民初1号"},
         "司法确认裁定的案号（number）应使用“调确”。"),
        ({"message_id": message_id, "result": "rejected", "reason": " "}, "驳回须说明理由（reason）。"),
    ]
    for body, reason in cases:
        resp = api(client, DEMO_INTRANET_KEY, **body)
        assert resp.status_code == 400, body
        assert resp.json["reason"] == reason, body
    resp = client.post("/api/v1/intranet/results", data="[1]", content_type="application/json",
                       headers={"X-Api-Key": DEMO_INTRANET_KEY})
    assert resp.status_code == 400 and resp.json["reason"] == "请求体必须是JSON对象。"
    assert applications(app, accepted_confirmation.case_id)[0].status is ApplicationStatus.ACCEPTED

def test_the_simulated_intranet_page_gives_its_reasons_in_chinese_without_the_json_key(
        app, login_as, accepted_confirmation):
    """The simulated intranet is a page a person reads: 驳回须说明理由。, not 理由（reason）; the API keeps the key."""
    run_worker(app)
    [received] = inbox(app)
    court = login_as(CY_ADMIN)
    court.post(f"/simulated-intranet/{received.id}/result", data={"result": "rejected", "reason": " "})
    assert "驳回须说明理由。" in flashes(court)
    court.post(f"/simulated-intranet/{received.id}/result", data={"result": "confirmed", "number": "（2026）京0105民初1号"})
    assert "司法确认裁定的案号应使用“调确”。" in flashes(court)
    with app_ctx(app):
        assert after_mediation.validate_result({"result": "confirmed"}, keys=False) == "缺少消息编号。"
        assert after_mediation.validate_result({"message_id": "m", "result": "maybe"}, keys=False) == (
            "结果须为received、confirmed、rejected、issued或filed之一。")
    assert applications(app, accepted_confirmation.case_id)[0].status is ApplicationStatus.ACCEPTED


def test_result_api_is_idempotent_and_audited(app, client, accepted_confirmation):
    message_id = accepted_confirmation.outbox_message.message_id
    body = {"message_id": message_id, "result": "rejected", "reason": "协议违反公序良俗"}
    first = api(client, DEMO_INTRANET_KEY, **body)
    assert first.status_code == 200 and first.json["status"] == "ok"
    version = applications(app, accepted_confirmation.case_id)[0].version
    replay = api(client, DEMO_INTRANET_KEY, **body)
    assert replay.status_code == 200 and replay.json["status"] == "duplicate"
    other = api(client, DEMO_INTRANET_KEY, message_id=message_id, result="confirmed")
    assert other.json["status"] == "duplicate" and other.json["result"] == first.json["result"]
    application = applications(app, accepted_confirmation.case_id)[0]
    assert application.status is ApplicationStatus.REJECTED and application.version == version
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IntranetResult)) == 1
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.entity == "court_application",
                                                          AuditLog.action == "TRANSITION")
                                .order_by(AuditLog.id.desc()))
        assert row.after["event"] == "result_rejected" and row.actor_name.startswith("intranet-api")


def test_a_receipt_acknowledges_an_http_hand_over(app, client, accepted_confirmation):
    class Accepting:
        def deliver(self, envelope):
            return False  # an http intranet answers 2xx; the receipt comes later

    app.config["COURT_INTRANET"] = Accepting()
    run_worker(app)
    assert applications(app, accepted_confirmation.case_id)[0].outbox_message.acknowledged_at is None
    message_id = accepted_confirmation.outbox_message.message_id
    assert api(client, DEMO_INTRANET_KEY, message_id=message_id, result="received").json["status"] == "ok"
    assert applications(app, accepted_confirmation.case_id)[0].outbox_message.acknowledged_at is not None
    assert api(client, DEMO_INTRANET_KEY, message_id=message_id, result="received").json["status"] == "duplicate"


# --- who may do what ----------------------------------------------------------------

def test_a_party_of_another_case_can_neither_apply_nor_see_results(app, login_as, accepted_confirmation):
    stranger_case = make_case(app, status=CaseStatus.ENDED)  # 赵一 / 钱二
    zhang = login_as(ZHANG, "PARTY")
    assert zhang.get(f"/portal/after/case/{stranger_case}").status_code == 404
    assert zhang.post(f"/portal/after/case/{stranger_case}/apply/MEDIATION_DOCUMENT").status_code == 404
    assert applications(app, stranger_case) == []
    # parties read results in their portal, never the court's application page
    assert zhang.get(f"/application/{accepted_confirmation.id}").status_code in (302, 403)
    assert zhang.get("/judicial-confirmations/list/").status_code in (302, 403)
    # consenting again to an application that is past consent changes nothing
    li = login_as(LI, "PARTY")
    li.post(f"/portal/after/application/{accepted_confirmation.id}/consent")
    assert "已受理" in " ".join(flashes(li)) and "不能同意" in " ".join(flashes(li))
    assert applications(app, accepted_confirmation.case_id)[0].status is ApplicationStatus.ACCEPTED
    # a party of another case can neither consent to nor read an application of 赵一 / 钱二's case
    with app_ctx(app):
        case = db.session.get(Case, stranger_case)
        other = CourtApplication(case=case, court_id=case.court_id, kind=ApplicationKind.JUDICIAL_CONFIRMATION,
                                 status=ApplicationStatus.AWAITING_CONSENT, applicant_name="赵一", applied_via="party")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    assert zhang.post(f"/portal/after/application/{other_id}/consent").status_code == 404
    assert zhang.post(f"/portal/after/application/{other_id + 999}/consent").status_code == 404
    with app_ctx(app):
        assert db.session.get(CourtApplication, other_id).consents == []


def test_role_matrix_for_the_new_screens(app, login_as, accepted_confirmation):
    app_id = accepted_confirmation.id
    for phone, portal, url, allowed in [
        (CY_ADMIN, "COURT", "/judicial-confirmations/list/", True),
        ("13800000002", "COURT", "/filings/list/", True),
        ("13800000002", "COURT", "/simulated-intranet/", True),
        ("13900000001", "MEDIATOR", "/judicial-confirmations/list/", False),
        ("13900000001", "MEDIATOR", f"/application/{app_id}", True),
        (ZHANG, "PARTY", "/simulated-intranet/", False),
        ("13700000001", "MINISTRY", f"/application/{app_id}", False),
        ("13300000001", "PLATFORM", "/pushes/list/", True),
    ]:
        resp = login_as(phone, portal).get(url)
        assert (resp.status_code == 200) is allowed, (phone, url, resp.status_code)


def test_court_sidebar_offers_the_faq_menus(login_as):
    html = text(login_as(CY_ADMIN).get("/judicial-confirmations/list/"))
    for label in ("在线司法确认", "司法确认管理", "在线立案", "普通民事案件", "待立案", "申请出具调解书"):
        assert label in html, label


def test_court_actor_may_not_accept_for_another_court_in_the_workflow(app, ended, login_as):
    """The workflow re-checks the court, whatever the view did (STYLE §7)."""
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")
    [doc] = applications(app, ended)
    with app_ctx(app):
        application = db.session.get(CourtApplication, doc.id)
        with pytest.raises(NotAllowed):
            after_mediation.apply(application, "accept", court_actor(HD_ADMIN),
                                  handling_platform=HandlingPlatform.INTRANET)
        assert application.status is ApplicationStatus.PENDING
        after_mediation.apply(application, "accept", court_actor(CY_ADMIN), handling_platform=HandlingPlatform.INTRANET)
        assert application.status is ApplicationStatus.ACCEPTED


def test_case_management_links_to_the_mediation_document_applications(login_as):
    """[FAQ 3.4] 案件管理 › 案件状态【调解结束】 › 【申请出具调解书】."""
    html = text(login_as(CY_ADMIN).get("/cases/pre-litigation/list/"))
    assert "_flt_0_status=ENDED" in html and "/mediation-documents/list/?_flt_0_status=PENDING" not in html
    html = text(login_as(CY_ADMIN).get("/cases/pre-litigation/list/?_flt_0_status=ENDED"))
    assert "/mediation-documents/list/?_flt_0_status=PENDING" in html


def _intranet_result(app, client, application, result):
    with app_ctx(app):
        message_id = db.session.get(CourtApplication, application.id).outbox_message.message_id
    body = {"message_id": message_id, "result": result}
    if result == "issued":
        body["number"] = "（2026）京0105民诉前调书1号"
    assert api(client, DEMO_INTRANET_KEY, **body).json["status"] == "ok"


def test_a_mediation_document_is_refused_once_the_agreement_is_judicially_confirmed(
        app, client, login_as, accepted_confirmation):
    """Issue 15 item 13 (CPL arts 201, 205): 司法确认 or 调解书 — once confirmed, a 调解书 is refused with why."""
    _intranet_result(app, client, accepted_confirmation, "confirmed")
    cid = accepted_confirmation.case_id
    zhang, resp = apply_in_portal(login_as, cid, "MEDIATION_DOCUMENT")
    said = text(resp) + " ".join(flashes(zhang))
    assert "已有司法确认" in said and "不能再申请出具调解书" in said, said
    assert [a.kind for a in applications(app, cid)] == [ApplicationKind.JUDICIAL_CONFIRMATION]
    page = text(zhang.get(f"/portal/after/case/{cid}"))
    assert 'data-kind="MEDIATION_DOCUMENT"' not in page and 'data-unavailable="MEDIATION_DOCUMENT"' in page


def test_judicial_confirmation_is_refused_once_a_mediation_document_was_issued(app, client, login_as, ended):
    """Issue 15 item 13, the other way: a 调解书 issued → 司法确认 refused, naming the 调解书."""
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")
    document = applications(app, ended)[0]
    assert accept(login_as, document.id).status_code == 302
    _intranet_result(app, client, document, "issued")
    zhang, resp = apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")
    said = text(resp) + " ".join(flashes(zhang))
    assert "已有出具调解书" in said and "民诉前调书1号" in said and "不能再申请司法确认" in said, said
    assert [a.kind for a in applications(app, ended)] == [ApplicationKind.MEDIATION_DOCUMENT]
    with app_ctx(app):
        case = db.session.get(Case, ended)
        with pytest.raises(DomainError):
            after_mediation.apply_for(case, ApplicationKind.JUDICIAL_CONFIRMATION, mediator_actor("13900000001"),
                                      party_id=case.parties[0].id)


def test_the_http_intranet_adapter_posts_the_hand_over_as_json(app, accepted_confirmation):
    """COURT_INTRANET=http: the worker posts JSON with the message id; a failing URL is retried."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    app.config.update(COURT_INTRANET="http", COURT_INTRANET_URL=f"http://127.0.0.1:{server.server_port}/in")
    try:
        assert run_worker(app)["sent"] == 1
    finally:
        server.server_close()
    [body] = received
    assert body["message_id"] == accepted_confirmation.outbox_message.message_id
    assert body["topic"] == "intranet.confirmation" and body["number"] == accepted_confirmation.number
    message = applications(app, accepted_confirmation.case_id)[0].outbox_message
    assert message.status is OutboxStatus.SENT and message.acknowledged_at is None  # the receipt comes by API


def test_the_portal_offers_only_what_can_be_applied_for_and_says_why_not(app, login_as, accepted_confirmation):
    """No button that leads to a refusal: a kind already applied for is shown with the reason instead."""
    zhang = login_as(ZHANG, "PARTY")
    page = text(zhang.get(f"/portal/after/case/{accepted_confirmation.case_id}"))
    assert 'data-kind="JUDICIAL_CONFIRMATION"' not in page
    assert 'data-unavailable="JUDICIAL_CONFIRMATION"' in page and "本案已有司法确认申请" in page
    assert 'data-kind="MEDIATION_DOCUMENT"' in page


# --- the application machine: every state × event, from SPEC --------------------------------

A = ApplicationStatus
K = ApplicationKind
NEW = None  # an application that does not exist yet
# Written from SPEC §3.3 and §8 and FAQ 3.4–3.6, 3.15, 3.16 — not read from the code's table:
# event: (the states it leaves, the state it reaches, who takes it, the kind it is tried on)
SPEC_TABLE = {
    # 司法确认: a joint application (CPL art 205), by a party or the mediator for a party [FAQ 3.6, 3.15]
    "apply_confirmation": ({NEW}, A.AWAITING_CONSENT, "party", K.JUDICIAL_CONFIRMATION),
    "consent": ({A.AWAITING_CONSENT}, A.AWAITING_CONSENT, "other party", K.JUDICIAL_CONFIRMATION),
    "all_consented": ({A.AWAITING_CONSENT}, A.PENDING, "system", K.JUDICIAL_CONFIRMATION),
    # 申请出具调解书 [FAQ 3.4, 3.15]
    "apply_document": ({NEW}, A.PENDING, "party", K.MEDIATION_DOCUMENT),
    # 更多 › 在线立案 by the plaintiff [FAQ 3.16]; 转在线立案 by the court [FAQ 3.5]: 待立案
    "apply_filing": ({NEW}, A.PENDING, "plaintiff", K.FILING),
    "transfer_filing": ({NEW}, A.PENDING, "court", K.FILING),
    # 待受理 › 受理 / 编写调解书 / 立案审查 → 内网办案系统, or 不予受理 [FAQ 3.4–3.6]
    "accept": ({A.PENDING}, A.ACCEPTED, "court", K.MEDIATION_DOCUMENT),
    "refuse": ({A.PENDING}, A.REJECTED, "court", K.FILING),
    # the intranet's result comes back automatically [SPEC §3.3, §7]
    "result_confirmed": ({A.ACCEPTED}, A.CONFIRMED, "system", K.JUDICIAL_CONFIRMATION),
    "result_issued": ({A.ACCEPTED}, A.ISSUED, "system", K.MEDIATION_DOCUMENT),
    "result_filed": ({A.ACCEPTED}, A.FILED, "system", K.FILING),
    "result_rejected": ({A.ACCEPTED}, A.REJECTED, "system", K.JUDICIAL_CONFIRMATION),
}
VALID_DATA = {
    "accept": {"handling_platform": HandlingPlatform.INTRANET},
    "refuse": {"reason": "材料不全"},
    "result_filed": {"number": "（2026）京0105民初77号"},
    "result_confirmed": {"number": "（2026）京0105民特调确9号"},
    "result_rejected": {"reason": "协议违反法律规定"},
}
MATRIX = [(status, event) for event, (sources, *_rest) in SPEC_TABLE.items()
          for status in [NEW, *ApplicationStatus] if status is not NEW or NEW in sources]


def test_the_application_table_has_exactly_the_spec_events():
    assert set(SPEC_TABLE) == set(after_mediation.MACHINE.transitions)
    assert after_mediation.MACHINE.states is ApplicationStatus  # the audit trail reads its labels


def portal_actor(phone):
    """A party-portal login of the demo account `phone`."""
    return Actor(db.session.scalar(sa.select(User.id).where(User.username == phone)), Scope(portal=Portal.PARTY))


def matrix_actor(who):
    return {"party": lambda: portal_actor(ZHANG), "plaintiff": lambda: portal_actor(ZHANG),
            "other party": lambda: portal_actor(LI), "court": court_actor,
            "system": lambda: SYSTEM}[who]()


def application_audit(application_id):
    return db.session.scalars(sa.select(AuditLog).where(
        AuditLog.entity == "court_application", AuditLog.entity_id == application_id,
        AuditLog.action == "TRANSITION").order_by(AuditLog.id)).all()


@pytest.mark.parametrize("status,event", MATRIX, ids=lambda v: getattr(v, "name", v) or "NEW")
def test_every_application_state_and_event(app, status, event):
    sources, target, who, kind = SPEC_TABLE[event]
    cid = case_id(app, TERMINATED_CAUSE if kind is K.FILING else ENDED_CAUSE)
    with app_ctx(app):
        case = db.session.get(Case, cid)
        zhang, li = (next(p for p in case.parties if p.phone == phone) for phone in (ZHANG, LI))
        actor = matrix_actor(who)
        if status is NEW:  # creating: the row is built and its apply event run
            application = after_mediation.apply_for(case, kind, actor, zhang.id, claims="判令被告付款",
                                                    facts="被告未付款")
            db.session.commit()
            assert application.status is target and application.kind is kind
            [row] = application_audit(application.id)
            assert row.summary == f"application.{event}" and row.before["status"] is None
            return
        application = CourtApplication(case=case, court_id=case.court_id, kind=kind, status=status,
                                       applicant_party=zhang, applicant_name=zhang.name, applied_via="party")
        db.session.add(application)
        consented = [zhang, li] if event == "all_consented" else [zhang]
        for party in consented:
            application.consents.append(ApplicationConsent(party_id=party.id, given_via="party"))
        db.session.commit()
        before = (application.status, application.version, len(application_audit(application.id)))
        data = {**VALID_DATA.get(event, {}), "applicant": after_mediation.Applicant(li if who == "other party"
                                                                                   else zhang)}
        if status in sources:
            after_mediation.apply(application, event, actor, **data)
            db.session.commit()
            assert application.status is target
            row = application_audit(application.id)[-1]
            assert row.summary == f"application.{event}" and row.before["status"] == status.name
            assert row.after["status"] == target.name
        else:
            with pytest.raises(DomainError) as refused:
                after_mediation.apply(application, event, actor, **data)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message), refused.value.message
            db.session.rollback()
            application = db.session.get(CourtApplication, application.id)
            assert (application.status, application.version, len(application_audit(application.id))) == before


def test_only_the_intranet_takes_results_and_only_the_court_accepts(app, accepted_confirmation, login_as):
    """SPEC §3.3: the result comes back from the intranet (the system), not from a clerk or a party."""
    with app_ctx(app):
        application = db.session.get(CourtApplication, accepted_confirmation.id)
        for actor in (court_actor(), mediator_actor(), portal_actor(ZHANG)):
            with pytest.raises(NotAllowed):
                after_mediation.apply(application, "result_confirmed", actor)
        assert application.status is ApplicationStatus.ACCEPTED


def test_a_result_of_the_wrong_kind_is_refused_by_its_guard(app, accepted_confirmation):
    with app_ctx(app):
        application = db.session.get(CourtApplication, accepted_confirmation.id)
        with pytest.raises(DomainError, match="已立案"):
            after_mediation.apply(application, "result_filed", SYSTEM,
                                  number="（2026）京0105民初1号")


def test_the_30_days_are_counted_in_beijing_days(app, login_as, ended):
    """CPL art 205 + one clock: an agreement signed at 01:00 Beijing time (17:00 UTC the day before)
    took effect that Beijing day, so its 30th day is still open."""
    effective_utc = dt.datetime.combine(today() - dt.timedelta(days=31), dt.time(17, 0))
    with app_ctx(app):
        for s in db.session.scalars(sa.select(Signature)):
            if s.agreement is not None and s.agreement.case_id == ended:
                s.signed_at = effective_utc
        db.session.commit()
        assert after_mediation.confirmation_window_ends(db.session.get(Case, ended)) == today()
    apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")
    assert [a.status for a in applications(app, ended)] == [ApplicationStatus.AWAITING_CONSENT]


def test_a_result_arriving_twice_at_once_is_applied_once(app, client, accepted_confirmation, monkeypatch):
    """SPEC §7 idempotent, under a race: the second copy passed the replay check before the first was
    recorded; it meets the first's claim on the message id (the unique key) in its SAVEPOINT and is
    answered as a duplicate, changing nothing."""
    body = {"message_id": accepted_confirmation.outbox_message.message_id, "result": "confirmed"}
    first = api(client, DEMO_INTRANET_KEY, **body)
    assert first.json["status"] == "ok"
    version = applications(app, accepted_confirmation.case_id)[0].version
    seen, looks = after_mediation._seen, []

    def blind_the_first_look(message_id, kind):
        looks.append(kind)
        return None if len(looks) == 1 else seen(message_id, kind)

    monkeypatch.setattr(after_mediation, "_seen", blind_the_first_look)
    second = api(client, DEMO_INTRANET_KEY, **body)
    assert second.status_code == 200 and second.json == {"status": "duplicate", "result": first.json["result"]}
    assert len(looks) == 2  # the claim failed, then the first request's row was read
    application = applications(app, accepted_confirmation.case_id)[0]
    assert application.status is ApplicationStatus.CONFIRMED and application.version == version
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IntranetResult)) == 1


def test_what_may_be_applied_for_is_decided_by_the_workflow(app, ended):
    """The case page's buttons: the mediator applies for a party (司法确认, 调解书), the court only turns
    failed cases into filings; each offer says why not when it is not open."""
    with app_ctx(app):
        case = db.session.get(Case, ended)
        mediator = after_mediation.available_applications(case, mediator_actor())
        assert [(o.kind, o.available) for o in mediator] == [(K.JUDICIAL_CONFIRMATION, True),
                                                             (K.MEDIATION_DOCUMENT, True)]
        assert mediator[0].label == "代当事人申请司法确认"
        assert after_mediation.available_applications(case, court_actor()) == []
        terminated = db.session.get(Case, case_id(app, TERMINATED_CAUSE))
        [filing] = after_mediation.available_applications(terminated, court_actor())
        assert (filing.kind, filing.label, filing.available) == (K.FILING, "转在线立案", True)
        assert after_mediation.available_applications(terminated, mediator_actor()) == []
        zhang = portal_actor(ZHANG)
        after_mediation.apply_for(case, K.MEDIATION_DOCUMENT, zhang)
        offers = {o.kind: o for o in after_mediation.available_applications(case, zhang)}
        assert offers[K.JUDICIAL_CONFIRMATION].available
        assert "已有" in offers[K.MEDIATION_DOCUMENT].reason


def test_each_step_writes_one_transition_row_and_no_second_generic_one(app, accepted_confirmation):
    """STYLE §6: the engine's row describes the change; the generic audit does not repeat it."""
    with app_ctx(app):
        rows = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.entity == "court_application", AuditLog.entity_id == accepted_confirmation.id)
            .order_by(AuditLog.id)).all()
        assert [(r.action.name, (r.after or {}).get("event")) for r in rows] == [
            ("CREATE", None), ("TRANSITION", "apply_confirmation"), ("TRANSITION", "consent"),
            ("TRANSITION", "all_consented"), ("TRANSITION", "accept")]


def test_a_stale_page_cannot_accept_or_refuse(app, login_as, ended):
    """Two clerks on one application: the second, whose page shows an older version, gets a conflict."""
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")
    [doc] = applications(app, ended)
    court = login_as(CY_ADMIN)
    court.post(f"/application/{doc.id}/do/refuse", data={"reason": "材料不全", "version": doc.version - 1})
    assert "已被他人修改" in " ".join(flashes(court))
    assert applications(app, ended)[0].status is ApplicationStatus.PENDING
    court.post(f"/application/{doc.id}/do/accept", data={"handling_platform": "INTRANET", "version": doc.version})
    assert applications(app, ended)[0].status is ApplicationStatus.ACCEPTED
