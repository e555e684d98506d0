"""Organisations and mediators of the README, certified the way the FAQ says (SPEC §2, §4; FAQ 2.2, 6.1, 6.7).

- 朝阳区商事调解中心 (中华全国工商联) and 北京金融纠纷调解中心 (中国人民银行): their
  ministry binds them and applies to the court, whose admin approves [FAQ 6.7(1), (2)];
- 朝阳区商会商事调解委员会: registered only, for 绑定调解组织 in the walkthrough [FAQ 6.1];
- mediators: added by a court to its roster, which certifies them [FAQ 2.2].
Each is set up only when it is created, so a second run leaves what users changed since.
"""
from __future__ import annotations

from ..enums import MediatorIdentity, OrganisationType
from ..extensions import db
from ..models import Court, Mediator, Organisation
from ..roles import MEDIATOR, ORGANISATION
from ..workflows import certification, ministry
from ..workflows.accounts import ensure_account
from ..workflows.rosters import add_mediator
from .common import CITY, DEMO_PASSWORD, PROVINCE, court_admin, get, ministry_side

APPLICATION_NOTE = "演示数据"


def _org(name, code, org_type, contact, phone, ministry_code=None, court_code=None, admin_phone=None) -> None:
    if get(Organisation, credit_code=code) is not None:
        return
    org = Organisation(name=name, credit_code=code, org_type=org_type, province=PROVINCE, city=CITY,
                       contact_name=contact, contact_phone=phone)
    db.session.add(org)
    db.session.flush()
    if ministry_code is None:
        return
    side = ministry_side(ministry_code)
    ministry.bind(org, side)
    link = certification.apply_for(org, get(Court, code=court_code), side, APPLICATION_NOTE)
    certification.apply(link, "approve", court_admin(admin_phone))


def seed_organisations() -> None:
    _org("朝阳区商事调解中心", "52110105MJ0000018A", OrganisationType.COMMERCIAL, "孙敏", "13900000101",
         "acfic", "京0105", "13800000001")
    _org("北京金融纠纷调解中心", "52110108MJ0000026G", OrganisationType.INDUSTRY, "钱进", "13900000102",
         "pbc", "京0108", "13800000011")
    # 调解组织端 (issue 14 item 8): 朝阳区商事调解中心 logs in with its credit code
    org = get(Organisation, credit_code="52110105MJ0000018A")
    if org.user_id is None:
        user, _ = ensure_account(org.credit_code, org.name, [ORGANISATION], password=DEMO_PASSWORD, notify=False)
        db.session.flush()
        org.user_id = user.id
    # registered, bound to no ministry and certified by no court: for 绑定调解组织 [FAQ 6.1]
    _org("朝阳区商会商事调解委员会", "52110105MJ00000340", OrganisationType.COMMERCIAL, "冯会长", "13900000103")


def _mediator(phone, name, identity, admin_phone, org_name=None, id_number=None, expertise=None,
              scope_of_work=None, charges=False) -> None:
    if get(Mediator, phone=phone) is not None:
        return
    ensure_account(phone, name, [MEDIATOR], password=DEMO_PASSWORD)
    org = get(Organisation, name=org_name) if org_name else None
    add_mediator(Mediator(name=name, phone=phone, identity=identity, organisation=org, id_number=id_number,
                          expertise=expertise, scope_of_work=scope_of_work, charges=charges),
                 court_admin(admin_phone))
    db.session.flush()


def seed_mediators() -> None:
    """Three on 朝阳's roster, so 互联网调解 recommends three (issue 14 item 3), one on 海淀's; each with the
    public profile of Rules art 5 (受理范围, 擅长领域, 是否收费)."""
    _mediator("13900000001", "陈静", MediatorIdentity.INVITED, "13800000001", "朝阳区商事调解中心",
              "110105198001010013", "合同纠纷、商事纠纷", "民商事纠纷", charges=True)
    _mediator("13900000002", "刘洋", MediatorIdentity.JUDGE, "13800000001", expertise="婚姻家庭",
              scope_of_work="婚姻家庭、继承纠纷")
    _mediator("13900000003", "孙悦", MediatorIdentity.INVITED, "13800000001", expertise="买卖合同纠纷、借贷纠纷",
              scope_of_work="合同、买卖纠纷")
    _mediator("13900000011", "杨帆", MediatorIdentity.INVITED, "13800000011", expertise="金融借款",
              scope_of_work="金融借款、保险纠纷")
