"""Issue 15 item 5: who hears what by SMS about their case [FAQ 1.1 当事人收到案件短信提示].

The parties (and their agents) hear when their case is assigned [FAQ 3.1], assigned 总对总
[FAQ 6.7], created from 纠纷化解 [FAQ 7.4], accepted as 互联网调解 [FAQ 5.1(3)], terminated
(Rules art 25), and when its mediator changes (Rules art 14; the mediator who leaves hears too).
Results of 司法确认 / 调解书 / 在线立案 name who applied: 李四 is told about 张三's application,
and the court's 转在线立案 is the court's, not "your application" [FAQ 3.5, 3.15].
Every text starts with the one brand 【人民法院调解平台】, exactly once (app/sms.py).
"""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import CaseSource, CaseStatus, TerminationReason
from app.extensions import db
from app.models import Case, Mediator, Organisation, SmsOutbox
from app.workflows import case_lifecycle

from .case_factory import court_actor, get_case, make_case, mediator_actor
from .helpers import app_ctx
from .test_after_mediation import (CY_ADMIN, ENDED_CAUSE, LI, TERMINATED_CAUSE, ZHANG, applications,
                                   apply_in_portal, case_id as case_by_cause)

BRAND = "【人民法院调解平台】"
ZHAO, QIAN = "13511110001", "13511110002"  # the parties of make_case
CHEN, LIU_YANG = "13900000001", "13900000002"


def _mark(app) -> int:
    with app_ctx(app):
        return db.session.scalar(sa.select(sa.func.max(SmsOutbox.id))) or 0


def _texts(app, since: int, phone: str) -> list[str]:
    with app_ctx(app):
        return list(db.session.scalars(sa.select(SmsOutbox.body).where(SmsOutbox.id > since, SmsOutbox.phone == phone)
                                       .order_by(SmsOutbox.id)))


def _mediator_id(app, phone) -> int:
    with app_ctx(app):
        return db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == phone))


def test_faq11_faq31_parties_hear_that_their_case_was_assigned(app, login_as):
    case_id = make_case(app, number="（2026）京0105民诉前调9101号")
    mark = _mark(app)
    admin = login_as(CY_ADMIN)
    resp = admin.post(f"/case/{case_id}/do/assign", data={"mediator_id": _mediator_id(app, CHEN),
                                                          "version": get_case(app, case_id).version})
    assert resp.status_code == 302
    number = get_case(app, case_id).number
    for phone in (ZHAO, QIAN):
        [notice] = [t for t in _texts(app, mark, phone) if "指派" in t]
        assert notice.startswith(BRAND) and number in notice and "北京市朝阳区人民法院" in notice
        assert "陈静" in notice and "当事人端" in notice
    assert any(number in t for t in _texts(app, mark, CHEN))  # the mediator, as before


def test_faq11_a_refused_assignment_tells_nobody(app, login_as):
    case_id = make_case(app, parties=[("APPLICANT", "赵一", ZHAO, "110105198001010013"),
                                      ("RESPONDENT", "钱二", "", "11010519850505002X")])
    mark = _mark(app)
    login_as(CY_ADMIN).post(f"/case/{case_id}/do/assign", data={"mediator_id": _mediator_id(app, CHEN),
                                                               "version": get_case(app, case_id).version})
    assert get_case(app, case_id).status is CaseStatus.TO_ASSIGN
    assert _texts(app, mark, ZHAO) == [] and _texts(app, mark, CHEN) == []


def test_faq67_parties_hear_of_a_zongduizong_assignment(app, login_as):
    case_id = make_case(app, number="（2026）京0105民诉前调9102号")
    with app_ctx(app):
        org = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == "朝阳区商事调解中心"))
    mark = _mark(app)
    login_as(CY_ADMIN).post(f"/case/{case_id}/do/assign_ministry", data={
        "organisation_id": org, "version": get_case(app, case_id).version})
    assert get_case(app, case_id).status is CaseStatus.MEDIATING
    for phone in (ZHAO, QIAN):
        [notice] = _texts(app, mark, phone)[-1:]
        assert notice.startswith(BRAND) and "朝阳区商事调解中心" in notice and "总对总" in notice
        assert "中华全国工商联" in notice or "工商联" in notice


def test_faq74_parties_hear_when_their_dispute_becomes_an_online_case(app, login_as):
    from .test_grassroots import QUICK, dispute, dispute_id, record

    liaison = login_as("13600000001", "GRASSROOTS")
    pk = dispute_id(record(liaison))
    mark = _mark(app)
    liaison.post(f"/grassroots/{pk}/hand_off", data={"version": dispute(app, pk).version})
    with app_ctx(app):
        case = db.session.scalar(sa.select(Case).where(Case.source == CaseSource.GRASSROOTS,
                                                        Case.summary == QUICK["description"]))
        number = case.number
    for phone in (QUICK["phone_0"], QUICK["phone_1"]):
        [notice] = [t for t in _texts(app, mark, phone) if number in t]
        assert notice.startswith(BRAND) and "团结湖" in notice and "北京市朝阳区人民法院" in notice


def test_faq51_parties_hear_that_an_internet_case_was_accepted(app, login_as):
    case_id = make_case(app, status=CaseStatus.TO_ACCEPT)
    mark = _mark(app)
    with app_ctx(app):
        court_id = court_actor().scope.court_id
        case_lifecycle.apply(db.session.get(Case, case_id), "accept", mediator_actor(), court_id=court_id)
        db.session.commit()
    number = get_case(app, case_id).number
    assert number
    for phone in (ZHAO, QIAN):
        [notice] = [t for t in _texts(app, mark, phone) if number in t]
        # both sides read who applied: the applicant 赵一, never "your application"
        assert notice.startswith(BRAND) and "赵一" in notice and "陈静" in notice and "您的" not in notice


def test_rules25_parties_hear_that_the_mediation_was_terminated_and_why(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mark = _mark(app)
    mediator = login_as(CHEN, "MEDIATOR")
    resp = mediator.post(f"/case/{case_id}/do/terminate", data={"termination_reason": "", "version":
                                                               get_case(app, case_id).version})
    assert resp.status_code == 200 and _texts(app, mark, ZHAO) == []  # refused: nobody is told
    mediator.post(f"/case/{case_id}/do/terminate", data={
        "termination_reason": TerminationReason.TOO_FAR_APART.name, "reason": "赔偿金额分歧过大",
        "version": get_case(app, case_id).version})
    assert get_case(app, case_id).status is CaseStatus.TERMINATED
    for phone in (ZHAO, QIAN):
        [notice] = _texts(app, mark, phone)[-1:]
        assert notice.startswith(BRAND) and "终止" in notice and "赔偿金额分歧过大" in notice


def test_rules14_a_change_of_mediator_is_told_to_parties_the_new_and_the_old_mediator(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mark = _mark(app)
    resp = login_as(CY_ADMIN).post(f"/case/{case_id}/do/change_mediator", data={
        "mediator_id": _mediator_id(app, LIU_YANG), "reason": "原调解员回避", "version": get_case(app, case_id).version})
    assert resp.status_code == 302 and get_case(app, case_id).mediator_id == _mediator_id(app, LIU_YANG)
    for phone in (ZHAO, QIAN):
        [notice] = [t for t in _texts(app, mark, phone) if "更换" in t]
        assert notice.startswith(BRAND) and "陈静" in notice and "刘洋" in notice
    [old] = _texts(app, mark, CHEN)
    assert old.startswith(BRAND) and "刘洋" in old and "不再" in old
    assert any("指派" in t for t in _texts(app, mark, LIU_YANG))


def test_rules14_a_change_the_party_asked_for_tells_the_old_mediator_too(app):
    """更换调解员 decided on a party's request runs `replace_mediator` (app/workflows/mediator_change.py)."""
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mark = _mark(app)
    with app_ctx(app):
        case_lifecycle.apply(db.session.get(Case, case_id), "replace_mediator", case_lifecycle.SYSTEM,
                             mediator_id=_mediator_id(app, LIU_YANG), reason="当事人申请更换")
        db.session.commit()
    assert any("刘洋" in t and "不再" in t for t in _texts(app, mark, CHEN))
    assert any("更换" in t for t in _texts(app, mark, ZHAO))


def test_faq315_the_result_names_the_applicant_for_the_other_party(app, login_as):
    ended = case_by_cause(app, ENDED_CAUSE)
    apply_in_portal(login_as, ended, "MEDIATION_DOCUMENT")  # 张三 applies
    [doc] = applications(app, ended)
    mark = _mark(app)
    login_as(CY_ADMIN).post(f"/application/{doc.id}/do/refuse", data={"reason": "协议内容违反法律规定"})
    [to_li] = _texts(app, mark, LI)
    assert to_li.startswith(BRAND) and "张三" in to_li and "协议内容违反法律规定" in to_li
    assert "您就" not in to_li and "您的" not in to_li  # 李四 did not apply
    [to_zhang] = _texts(app, mark, ZHANG)
    assert "张三" in to_zhang


def test_faq35_the_courts_transfer_to_filing_is_worded_as_the_courts(app, login_as):
    cid = case_by_cause(app, TERMINATED_CAUSE)
    court = login_as(CY_ADMIN)
    court.post(f"/application/case/{cid}/new/FILING", data={"claims": "判令被告支付装修款五万元",
                                                           "facts": "双方签订装修合同，被告未付尾款。"})
    [filing] = applications(app, cid)
    assert filing.applied_via == "court"
    mark = _mark(app)
    court.post(f"/application/{filing.id}/do/refuse", data={"reason": "材料不全"})
    [to_zhang] = _texts(app, mark, ZHANG)
    assert to_zhang.startswith(BRAND) and "北京市朝阳区人民法院" in to_zhang and "材料不全" in to_zhang
    assert "您就" not in to_zhang and "提出的" not in to_zhang


def test_every_sms_carries_the_one_brand_exactly_once(app, login_as):
    """Every text of the outbox — the demo's and a 司法确认 result (which had its own 【法院调解平台】)."""
    ended = case_by_cause(app, ENDED_CAUSE)
    apply_in_portal(login_as, ended, "JUDICIAL_CONFIRMATION")  # asks 李四 to consent
    [doc] = applications(app, ended)
    login_as(CY_ADMIN).post(f"/application/{doc.id}/do/refuse", data={"reason": "不符合受理条件"})
    with app_ctx(app):
        bodies = list(db.session.scalars(sa.select(SmsOutbox.body)))
    assert len(bodies) > 20
    wrong = [b for b in bodies if not b.startswith(BRAND) or b.count("【") != 1 or "【法院调解平台】" in b]
    assert wrong == []
