"""For the after-mediation walkthrough (README "After mediation"; SPEC §3.3, §7): an ended 朝阳 case
whose agreement 张三 and 李四 signed today (so 司法确认 is open for 30 days, CPL art 205), and the
demo intranet API key. The terminated case for 在线立案 is 装饰装修合同纠纷 (app/demo/cases.py).
"""
from __future__ import annotations

import sqlalchemy as sa

from ..api_keys import hash_key
from ..enums import AgentType, CaseStatus
from ..extensions import db
from ..models import Case, Court, IntranetApiKey, Mediator
from ..workflows import case_lifecycle
from .cases import act, new_case, signed_agreement
from .common import DEMO_INTRANET_KEY, court_admin, get, mediator, party
from .signatures import signature_png

CAUSE = "房屋租赁合同纠纷"


def seed_after_mediation() -> None:
    if get(IntranetApiKey, key_hash=hash_key(DEMO_INTRANET_KEY)) is None:
        db.session.add(IntranetApiKey(court_id=None, key_hash=hash_key(DEMO_INTRANET_KEY)))
    chaoyang = get(Court, code="京0105")
    if db.session.scalar(sa.select(Case.id).where(Case.court_id == chaoyang.id, Case.cause == CAUSE)) is not None:
        return
    chen = mediator("13900000001")
    case = new_case(chaoyang, CAUSE, [
        ("APPLICANT", "张三", "13500000001", "110105198001010016", [(AgentType.SPECIAL, "王律师", "13500000003")]),
        ("RESPONDENT", "李四", "13500000002", "11010519850505002X", [(AgentType.GENERAL, "刘代理", "13500000004")]),
    ], summary="双方因房屋租金及押金退还发生争议。", plan="被申请人退还押金，申请人放弃违约金。")
    act(case, "assign", court_admin("13800000001"), mediator_id=get(Mediator, phone="13900000001").id)
    agreement = signed_agreement(case, chen, "一、李四于2026年12月31日前退还张三押金人民币一万元。\n二、张三放弃其他请求。")
    act(case, "apply_close", chen)
    for phone, name in (("13500000001", "张三"), ("13500000002", "李四")):
        case_lifecycle.party_signs(case, party(phone), agreement, signature_png(name), None, "demo")
    if case.status is not CaseStatus.ENDED:
        raise RuntimeError("the demo agreement did not end its case")
    db.session.flush()
