"""A dozen 朝阳 cases in every state and two for 海淀 (SPEC §3, §3.1; README "Demo accounts").

Every case is entered through case intake and moved by the case machine, as the
screens do it: 申请结案 needs an agreement the mediator signed (generated and
signed through the agreements workflow); 调解结束 here is the mediator closing on
their own [FAQ 3.11]. Only dates are moved afterwards (a clock started weeks ago),
so the demo has cases near and past their deadline.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..clock import today
from ..enums import AgentType, CaseSource, CaseType, PartyKind, PartyRole, TerminationReason
from ..extensions import db
from ..models import Case, CaseAgent, CaseParty, Court, Mediator, Ministry, Organisation
from ..roles import Portal
from ..security import Scope
from ..workflows import agreements, case_intake, case_lifecycle
from ..workflows import internet as internet_mediation
from ..workflows.deadlines import refresh_deadline
from .common import court_admin, get, mediator, mediator_signs, party

A, B = "APPLICANT", "RESPONDENT"
ZHANG = (A, "张三", "13500000001", "110105198001010016", [(AgentType.SPECIAL, "王律师", "13500000003")])
LI = (B, "李四", "13500000002", "11010519850505002X", [(AgentType.GENERAL, "刘代理", "13500000004")])
SUMMARY, PLAN = "双方因货款支付发生争议。", "分期付款，三个月内付清。"
#: how the platform enters a case for the demo (a court screen would use the court's own scope)
PLATFORM = Scope(portal=Portal.PLATFORM, is_platform=True)


def _add_parties(case: Case, parties) -> None:
    for role, name, phone, id_number, agents in parties:
        party = CaseParty(case=case, role=PartyRole[role], kind=PartyKind.PERSON, name=name, phone=phone,
                          id_number=id_number, address="北京市朝阳区")
        for agent_type, agent_name, agent_phone in agents:
            party.agents.append(CaseAgent(agent_type=agent_type, name=agent_name, phone=agent_phone))
        db.session.add(party)
    case_intake.refresh_party_names(case)


def new_case(court: Court, cause: str, parties, case_type=CaseType.PRE_LITIGATION, days_ago=0,
             source=CaseSource.COURT, intranet_number=None, summary=None, plan=None,
             ministry: Ministry | None = None) -> Case:
    """新增案件 at `court`: intake gives it its number and 待指派 [FAQ 3.1, 5.2]."""
    case = Case(court=court, cause=cause, intranet_number=intranet_number, summary=summary, plan=plan,
                has_ministry=ministry is not None, ministry=ministry,
                received_on=today() - dt.timedelta(days=days_ago))
    case_intake.prepare_new_case(case, PLATFORM, case_type, source)
    db.session.add(case)
    _add_parties(case, parties)
    db.session.flush()
    return case


def act(case: Case, event: str, actor, started_days_ago: int | None = None, **data) -> None:
    """One transition of the case machine; `started_days_ago` backdates the clock it started."""
    case_lifecycle.apply(case, event, actor, **data)
    if started_days_ago is not None and case.clock_started_on:
        case.clock_started_on = today() - dt.timedelta(days=started_days_ago)
        refresh_deadline(case)
    db.session.flush()


def signed_agreement(case: Case, by, terms: str):
    """生成调解协议 and the mediator's signature on it: what 申请结案 needs [FAQ 3.9, 3.11]."""
    agreement = agreements.generate(case, by, {"terms": terms})
    mediator_signs(case, by, agreement)
    return agreement


def seed_cases() -> None:
    chaoyang, haidian = get(Court, code="京0105"), get(Court, code="京0108")
    if db.session.scalar(sa.select(Case.id).where(Case.court_id == chaoyang.id,
                                                  Case.source != CaseSource.HISTORICAL).limit(1)) is not None:
        return
    cy, hd = court_admin("13800000001"), court_admin("13800000011")
    chen = mediator("13900000001")
    chen_id = chen.scope.mediator_id
    liu_id = get(Mediator, phone="13900000002").id
    commercial = get(Organisation, name="朝阳区商事调解中心")

    new_case(chaoyang, "买卖合同纠纷", [(A, "张三", "13500000001", None, []), (B, "李四", None, None, [])])
    new_case(chaoyang, "民间借贷纠纷", [ZHANG, LI], days_ago=5)
    c = new_case(chaoyang, "物业服务合同纠纷", [ZHANG, LI], summary=SUMMARY, plan=PLAN)
    act(c, "assign", cy, mediator_id=chen_id)
    c = new_case(chaoyang, "服务合同纠纷", [ZHANG, LI])
    act(c, "assign", cy, organisation_id=commercial.id)
    c = new_case(chaoyang, "离婚后财产纠纷", [ZHANG, LI])
    act(c, "assign", cy, started_days_ago=29, mediator_id=liu_id)  # due tomorrow
    c = new_case(chaoyang, "租赁合同纠纷", [ZHANG, LI])
    act(c, "assign", cy, started_days_ago=40, mediator_id=chen_id)  # overdue
    for ends in (False, True):  # 申请结案, then 调解结束
        c = new_case(chaoyang, "劳务合同纠纷", [ZHANG, LI], summary=SUMMARY, plan=PLAN)
        act(c, "assign", cy, mediator_id=chen_id)
        signed_agreement(c, chen, "一、李四于三个月内分期支付张三劳务费。\n二、张三放弃其他请求。")
        act(c, "apply_close", chen)
        if ends:
            act(c, "close", chen)
    c = new_case(chaoyang, "装饰装修合同纠纷", [ZHANG, LI])
    act(c, "assign", cy, mediator_id=chen_id)
    act(c, "terminate", chen, termination_reason=TerminationReason.TOO_FAR_APART, reason="双方对赔偿金额分歧过大")
    c = new_case(chaoyang, "机动车交通事故责任纠纷", [ZHANG, LI], case_type=CaseType.IN_LITIGATION,
                 intranet_number="（2026）京0105民初1234号")
    act(c, "assign", cy, mediator_id=chen_id)
    new_case(chaoyang, "信用卡纠纷", [ZHANG, LI], case_type=CaseType.IN_LITIGATION,
             intranet_number="（2026）京0105民初1288号")
    internet = new_case(chaoyang, "网络购物合同纠纷", [ZHANG, LI], case_type=CaseType.INTERNET,
                        source=CaseSource.INTERNET)
    act(internet, "assign", cy, mediator_id=chen_id)
    act(internet, "decline", chen, reason="演示：退回后由当事人在线申请")
    # 互联网调解: 张三 applied online naming 陈静; no court until she accepts or declines it [FAQ 5.1]
    zhang = party(ZHANG[2])
    application = internet_mediation.submit(zhang, {
        "cause": "其他合同纠纷", "claim_amount": "3000", "summary": "网络服务费争议。", "claims": "退还服务费3000元。",
        "region": "北京市/朝阳区", "consent": "y", "applicant_kind": "PERSON", "applicant_name": ZHANG[1],
        "applicant_id_number": ZHANG[3], "respondent_kind": "PERSON", "respondent_name": LI[1],
        "respondent_id_number": LI[3], "respondent_phone": LI[2]}, [])
    internet_mediation.choose(application, zhang, chen_id)
    new_case(chaoyang, "股权转让纠纷", [ZHANG, LI], source=CaseSource.HISTORICAL,
             ministry=get(Ministry, code="acfic"), days_ago=200)

    new_case(haidian, "金融借款合同纠纷", [ZHANG, LI])
    c = new_case(haidian, "保险合同纠纷", [ZHANG, LI])
    act(c, "assign", hd, mediator_id=get(Mediator, phone="13900000011").id)
    db.session.flush()
