"""Reference data (the seven ministries) and the demo data of the README.

Everything is get-or-create by its natural key (court code, phone, credit
code), so running it again keeps what exists — including changed passwords.
Demo passwords are `Demo@2026`; the README says to change them.
"""
from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from flask import current_app

from .enums import CertificationPath, CertificationStatus, CourtLevel, MediatorIdentity, OrganisationType
from .extensions import db
from .models import (
    Court,
    CourtStaff,
    GrassrootsUnit,
    Mediator,
    MediatorCourt,
    Ministry,
    MinistryAccount,
    Organisation,
    OrganisationCourt,
    Tribunal,
)
from .roles import AGENT, LIAISON, MEDIATOR, MINISTRY_USER, PARTY, PLATFORM_ADMIN, PLATFORM_SUPPORT, Portal
from .workflows.accounts import ensure_account, find_user
from .clock import utcnow
from .workflows.rosters import court_roles
from .security import Scope
from .workflows import identity
from .workflows.actor import Actor

DEMO_PASSWORD = "Demo@2026"

# SPEC §2 / [FAQ 6.7]: 工商联 and 人民银行 organisations apply to courts from the
# ministry side; for the others the court adds the organisation first.
MINISTRIES = [
    ("acfic", "中华全国工商联", CertificationPath.MINISTRY_APPLIES),
    ("pbc", "中国人民银行", CertificationPath.MINISTRY_APPLIES),
    ("cbirc", "银保监会", CertificationPath.COURT_ADDS),
    ("acftu", "全国总工会", CertificationPath.COURT_ADDS),
    ("ndrc", "国家发改委", CertificationPath.COURT_ADDS),
    ("cnipa", "国家知识产权局", CertificationPath.COURT_ADDS),
    ("acfroc", "中国侨联", CertificationPath.COURT_ADDS),
]


# [FAQ 6.2(1)]: 工商联 organisation passwords are reset by platform staff.
PASSWORD_RESET_BY_PLATFORM = {"acfic"}


def _get(model, **key):
    return db.session.scalar(sa.select(model).filter_by(**key))


def seed_reference() -> None:
    for order, (code, name, path) in enumerate(MINISTRIES):
        if _get(Ministry, code=code) is None:
            db.session.add(Ministry(code=code, name=name, certification_path=path, sort_order=order,
                                    password_reset_by_platform=code in PASSWORD_RESET_BY_PLATFORM))
    db.session.flush()


def _court(name, code, level, parent=None, province="北京市", city="北京市"):
    court = _get(Court, code=code)
    if court is None:
        court = Court(name=name, code=code, level=level, parent=parent, province=province, city=city)
        db.session.add(court)
        db.session.flush()
    return court


def _staff(court, phone, name, is_admin, position):
    staff = _get(CourtStaff, phone=phone)
    if staff is None:
        user, _ = ensure_account(phone, name, court_roles(is_admin), password=DEMO_PASSWORD)
        staff = CourtStaff(court=court, user=user, name=name, phone=phone, is_admin=is_admin, position=position)
        db.session.add(staff)
        db.session.flush()
    return staff


def _org(name, code, org_type, ministry, court, contact, phone):
    org = _get(Organisation, credit_code=code)
    if org is None:
        org = Organisation(name=name, credit_code=code, org_type=org_type, province="北京市", city="北京市",
                           contact_name=contact, contact_phone=phone, ministry=ministry)
        db.session.add(org)
        if court is not None:
            db.session.add(OrganisationCourt(organisation=org, court=court, status=CertificationStatus.CERTIFIED,
                                             note="演示数据"))
        db.session.flush()
    return org


def _mediator(phone, name, identity, court, org=None, id_number=None, expertise=None):
    mediator = _get(Mediator, phone=phone)
    if mediator is None:
        user, _ = ensure_account(phone, name, [MEDIATOR], password=DEMO_PASSWORD)
        mediator = Mediator(user=user, name=name, phone=phone, identity=identity, organisation=org,
                            id_number=id_number, expertise=expertise)
        db.session.add(mediator)
        db.session.add(MediatorCourt(mediator=mediator, court=court, status=CertificationStatus.CERTIFIED,
                                     note="演示数据"))
        db.session.flush()
    return mediator


def _ministry_account(phone, name, ministry_code):
    ministry = _get(Ministry, code=ministry_code)
    if _get(MinistryAccount, phone=phone) is None:
        user, _ = ensure_account(phone, name, [MINISTRY_USER], password=DEMO_PASSWORD)
        db.session.add(MinistryAccount(user=user, ministry=ministry, name=name, phone=phone, province="北京市",
                                       city="北京市"))
        db.session.flush()


def _admin():
    sm = current_app.appbuilder.sm
    if sm.find_user(username="admin") is None:
        user = sm.add_user("admin", "平台管理员", "", "admin@platform.invalid", sm.find_role(PLATFORM_ADMIN),
                           password=DEMO_PASSWORD, commit=False)
        db.session.add(user)


def seed_demo() -> None:
    seed_reference()
    high = _court("北京市高级人民法院", "京", CourtLevel.HIGH)
    third = _court("北京市第三中级人民法院", "京03", CourtLevel.INTERMEDIATE, high)
    first = _court("北京市第一中级人民法院", "京01", CourtLevel.INTERMEDIATE, high)
    chaoyang = _court("北京市朝阳区人民法院", "京0105", CourtLevel.BASIC, third, city="朝阳区")
    haidian = _court("北京市海淀区人民法院", "京0108", CourtLevel.BASIC, first, city="海淀区")

    _staff(chaoyang, "13800000001", "王立新", True, "立案庭庭长")
    judge = _staff(chaoyang, "13800000002", "李明", False, "法官")
    _staff(haidian, "13800000011", "周海", True, "立案庭副庭长")

    acfic = _get(Ministry, code="acfic")
    pbc = _get(Ministry, code="pbc")
    commercial = _org("朝阳区商事调解中心", "52110105MJ0000018A", OrganisationType.COMMERCIAL, acfic, chaoyang,
                      "孙敏", "13900000101")
    _org("北京金融纠纷调解中心", "52110108MJ0000026G", OrganisationType.INDUSTRY, pbc, haidian,
         "钱进", "13900000102")
    # registered, bound to no ministry and certified by no court: for 绑定调解组织 [FAQ 6.1]
    _org("朝阳区商会商事调解委员会", "52110105MJ00000340", OrganisationType.COMMERCIAL, None, None,
         "冯会长", "13900000103")

    _mediator("13900000001", "陈静", MediatorIdentity.INVITED, chaoyang, commercial, "110105198001010013",
              "合同纠纷、商事纠纷")
    _mediator("13900000002", "刘洋", MediatorIdentity.JUDGE, chaoyang, None, None, "婚姻家庭")
    _mediator("13900000011", "杨帆", MediatorIdentity.INVITED, haidian, None, None, "金融借款")

    _ministry_account("13700000001", "吴工商", "acfic")
    _ministry_account("13700000002", "郑银保", "cbirc")

    tribunal = _get(Tribunal, court_id=chaoyang.id, name="团结湖人民法庭")
    if tribunal is None:
        tribunal = Tribunal(court=chaoyang, name="团结湖人民法庭", admin=judge, address="北京市朝阳区团结湖路")
        db.session.add(tribunal)
        db.session.flush()
    if _get(GrassrootsUnit, liaison_phone="13600000001") is None:
        user, _ = ensure_account("13600000001", "赵联络", [LIAISON], password=DEMO_PASSWORD)
        db.session.add(GrassrootsUnit(court=chaoyang, tribunal=tribunal, name="朝阳区团结湖街道",
                                      address="北京市朝阳区团结湖街道办事处", liaison_name="赵联络",
                                      liaison_phone="13600000001", liaison_user=user))

    # Parties and agents: accounts only; their cases (and an agent's authority,
    # 特别授权 for 13500000003, 一般 for 13500000004) come with the cases issue.
    for phone, name, role in [
        ("13500000001", "张三", PARTY),
        ("13500000002", "李四", PARTY),
        ("13500000003", "王律师", AGENT),
        ("13500000004", "刘代理", AGENT),
        ("13300000001", "陈客服", PLATFORM_SUPPORT),
    ]:
        ensure_account(phone, name, [role], password=DEMO_PASSWORD)
    _admin()
    db.session.flush()
    seed_demo_history()
    seed_demo_cases()
    seed_demo_disputes()
    seed_demo_identities()
    seed_demo_after_mediation()


def _demo_case(court, cause, parties, case_type=None, days_ago=0, source=None, intranet_number=None,
               summary=None, plan=None, ministry=None):
    from .enums import CaseSource, CaseType, PartyKind, PartyRole
    from .models import Case, CaseAgent, CaseParty
    from .security import Scope
    from .workflows import case_intake

    case_type = case_type or CaseType.PRE_LITIGATION
    case = Case(court=court, cause=cause, claim_amount=None, intranet_number=intranet_number, summary=summary,
                plan=plan, has_ministry=ministry is not None, ministry=ministry,
                received_on=dt.date.today() - dt.timedelta(days=days_ago))
    case_intake.prepare_new_case(case, Scope(portal=None, is_platform=True), case_type,
                                 source or CaseSource.COURT)
    db.session.add(case)
    for role, name, phone, id_number, agents in parties:
        party = CaseParty(case=case, role=PartyRole[role], kind=PartyKind.PERSON, name=name, phone=phone,
                          id_number=id_number, address="北京市朝阳区")
        for agent_type, agent_name, agent_phone in agents:
            party.agents.append(CaseAgent(agent_type=agent_type, name=agent_name, phone=agent_phone))
        db.session.add(party)
    case_intake.refresh_party_names(case)
    db.session.flush()
    return case


def _act(case, event, actor, days_ago=None, **data):
    from .workflows import case_lifecycle

    case_lifecycle.apply(case, event, actor, **data)
    if days_ago is not None and case.clock_started_on:
        # Backdate the clock so the demo has cases near and past their deadline.
        case.clock_started_on = dt.date.today() - dt.timedelta(days=days_ago)
        case_lifecycle.refresh_deadline(case)
    db.session.flush()


def seed_demo_cases() -> None:
    """A dozen 朝阳 cases in every state and a few for 海淀 (issue 3 item 8).

    States after 申请结案 need a signed agreement (agreements issue); the demo
    sets those few directly, the way the agreements workflow will.
    """
    from .enums import AgentType, CaseSource, CaseStatus, CaseType, TerminationReason
    from .models import Case
    from .security import Scope
    from .workflows.case_lifecycle import Actor

    chaoyang = _get(Court, code="京0105")
    haidian = _get(Court, code="京0108")
    if db.session.scalar(sa.select(Case.id).where(Case.court_id == chaoyang.id,
                                                  Case.source != CaseSource.HISTORICAL).limit(1)) is not None:
        return
    cy_admin = _get(CourtStaff, phone="13800000001")
    hd_admin = _get(CourtStaff, phone="13800000011")
    chen = _get(Mediator, phone="13900000001")
    liu = _get(Mediator, phone="13900000002")
    yang = _get(Mediator, phone="13900000011")
    commercial = _get(Organisation, name="朝阳区商事调解中心")
    acfic = _get(Ministry, code="acfic")

    def court_actor(staff):
        return Actor(staff.user_id, Scope(portal=None, court_id=staff.court_id, is_court_admin=True,
                                          staff_id=staff.id))

    def mediator_actor(m):
        return Actor(m.user_id, Scope(portal=None, mediator_id=m.id), m.organisation_id)

    cy, hd = court_actor(cy_admin), court_actor(hd_admin)
    a, b = "APPLICANT", "RESPONDENT"
    zhang = (a, "张三", "13500000001", "110105198001010016", [
        (AgentType.SPECIAL, "王律师", "13500000003")])
    li = (b, "李四", "13500000002", "11010519850505002X", [(AgentType.GENERAL, "刘代理", "13500000004")])
    summary, plan = "双方因货款支付发生争议。", "分期付款，三个月内付清。"

    _demo_case(chaoyang, "买卖合同纠纷", [(a, "张三", "13500000001", None, []), (b, "李四", None, None, [])])
    _demo_case(chaoyang, "民间借贷纠纷", [zhang, li], days_ago=5)
    c = _demo_case(chaoyang, "物业服务合同纠纷", [zhang, li], summary=summary, plan=plan)
    _act(c, "assign", cy, mediator_id=chen.id)
    c = _demo_case(chaoyang, "服务合同纠纷", [zhang, li])
    _act(c, "assign", cy, organisation_id=commercial.id)
    c = _demo_case(chaoyang, "离婚后财产纠纷", [zhang, li])
    _act(c, "assign", cy, days_ago=29, mediator_id=liu.id)
    c = _demo_case(chaoyang, "租赁合同纠纷", [zhang, li])
    _act(c, "assign", cy, days_ago=40, mediator_id=chen.id)
    for status in (CaseStatus.CLOSE_REQUESTED, CaseStatus.ENDED):
        c = _demo_case(chaoyang, "劳务合同纠纷", [zhang, li], summary=summary, plan=plan)
        _act(c, "assign", cy, mediator_id=chen.id)
        c.status = status
        c.deadline = None
        c.closed_at = utcnow() if status is CaseStatus.ENDED else None
    c = _demo_case(chaoyang, "装饰装修合同纠纷", [zhang, li])
    _act(c, "assign", cy, mediator_id=chen.id)
    _act(c, "terminate", mediator_actor(chen), termination_reason=TerminationReason.TOO_FAR_APART,
         reason="双方对赔偿金额分歧过大")
    c = _demo_case(chaoyang, "机动车交通事故责任纠纷", [zhang, li], case_type=CaseType.IN_LITIGATION,
                   intranet_number="（2026）京0105民初1234号")
    _act(c, "assign", cy, mediator_id=chen.id)
    _demo_case(chaoyang, "信用卡纠纷", [zhang, li], case_type=CaseType.IN_LITIGATION,
               intranet_number="（2026）京0105民初1288号")
    internet = _demo_case(chaoyang, "网络购物合同纠纷", [zhang, li], case_type=CaseType.INTERNET,
                          source=CaseSource.INTERNET)
    _act(internet, "assign", cy, mediator_id=chen.id)
    _act(internet, "decline", mediator_actor(chen), reason="演示：退回后由当事人在线申请")
    # An internet application names the mediator and no court until accepted [FAQ 5.1].
    pending = Case(case_type=CaseType.INTERNET, source=CaseSource.INTERNET, cause="网络服务合同纠纷",
                   status=CaseStatus.TO_ACCEPT, mediator=chen, party_names="张三、李四",
                   received_on=dt.date.today(), clock_started_on=dt.date.today())
    from .workflows.case_lifecycle import refresh_deadline
    from .models import CaseParty
    from .enums import PartyKind, PartyRole

    refresh_deadline(pending)
    db.session.add(pending)
    for role, name, phone, id_number, _agents in (zhang, li):
        db.session.add(CaseParty(case=pending, role=PartyRole[role], kind=PartyKind.PERSON, name=name,
                                 phone=phone, id_number=id_number))
    _demo_case(chaoyang, "股权转让纠纷", [zhang, li], source=CaseSource.HISTORICAL, ministry=acfic, days_ago=200)

    _demo_case(haidian, "金融借款合同纠纷", [zhang, li])
    c = _demo_case(haidian, "保险合同纠纷", [zhang, li])
    _act(c, "assign", hd, mediator_id=yang.id)
    db.session.flush()


def seed_demo_disputes() -> None:
    """纠纷化解 records of 朝阳区团结湖街道: one open, one resolved, one handed over (issue 6)."""
    from .enums import PartyRole
    from .models import Dispute
    from .security import Scope
    from .workflows import grassroots
    from .workflows.actor import Actor

    unit = _get(GrassrootsUnit, liaison_phone="13600000001")
    if db.session.scalar(sa.select(Dispute.id).where(Dispute.unit_id == unit.id).limit(1)) is not None:
        return
    liaison = Actor(unit.liaison_user_id, Scope(portal=None))
    people = [grassroots.PartyInput(PartyRole.APPLICANT.name, "陈大爷", "13577770011"),
              grassroots.PartyInput(PartyRole.RESPONDENT.name, "林女士", "13577770012")]
    grassroots.record(unit, liaison, "NEIGHBOUR", "团结湖北里5号楼", "楼道堆放杂物引发争执", "上门沟通", people)
    done = grassroots.record(unit, liaison, "PROPERTY", "团结湖小区", "物业费收取标准争议", "组织双方协商", people)
    grassroots.apply(done, "resolve", liaison, note="双方同意按原标准缴纳")
    handed = grassroots.record(unit, liaison, "CONTRACT", "团结湖路", "装修款尾款纠纷，需视频调解", "电话沟通未果",
                               people)
    grassroots.apply(handed, "hand_off", liaison)


def seed_demo_history() -> None:
    """A year of concluded 朝阳 cases (新增历史案件), so the report and the dashboard have a past (issue 7).

    Deterministic; parties are invented people, not the demo accounts. Seeded
    before the other demo cases, so lists (newest first) open on those.
    """
    import random

    from .enums import CaseSource, CaseStatus, TerminationReason
    from .models import Case
    from .workflows.case_lifecycle import refresh_deadline

    chaoyang = _get(Court, code="京0105")
    if db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.court_id == chaoyang.id, Case.source == CaseSource.HISTORICAL)) > 1:
        return  # seeded before (the one other historical case comes with seed_demo_cases)
    rng = random.Random(2026)
    chen = _get(Mediator, phone="13900000001")
    liu = _get(Mediator, phone="13900000002")
    commercial = _get(Organisation, name="朝阳区商事调解中心")
    # causes the other demo cases do not use, so tests that look cases up by cause stay exact
    causes = ["追索劳动报酬纠纷", "相邻关系纠纷", "赡养纠纷", "物权保护纠纷", "储蓄存款合同纠纷", "提供劳务者受害责任纠纷"]
    surnames, given = "王李张刘陈杨赵黄周吴", ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇"]
    today = dt.date.today()
    serial = 0
    for months_ago in range(11, 0, -1):
        for _n in range(rng.randint(3, 6)):
            serial += 1
            days_ago = months_ago * 30 + rng.randint(0, 25)
            names = [rng.choice(surnames) + rng.choice(given) for _i in range(2)]
            parties = [("APPLICANT", names[0], f"151{serial:08d}", None, []),
                       ("RESPONDENT", names[1], f"152{serial:08d}", None, [])]
            case = _demo_case(chaoyang, rng.choice(causes), parties, days_ago=days_ago,
                              source=CaseSource.HISTORICAL, summary="历史案件补录。", plan="按调解协议履行。")
            who = rng.random()
            if who < 0.5:
                case.mediator = chen
            elif who < 0.8:
                case.mediator = liu
            else:
                case.organisation = commercial
            ended = rng.random() < 0.7
            case.status = CaseStatus.ENDED if ended else CaseStatus.TERMINATED
            if not ended:
                case.termination_reason = rng.choice([TerminationReason.TOO_FAR_APART,
                                                      TerminationReason.REFUSES_MEDIATION])
            closed_on = min(case.received_on + dt.timedelta(days=rng.randint(3, 40)), today)
            case.closed_at = dt.datetime.combine(closed_on, dt.time(16, 30))
            refresh_deadline(case)
    db.session.flush()


# A 1×1 PNG: the demo's hand-drawn signatures.
_DEMO_SIGNATURE = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082")
DEMO_INTRANET_KEY = "ik_demo_intranet_2026"

#: 实名认证 (issue 14): who is verified through 人工审核 by 陈客服 (13300000001), and who waits in
#: 平台后台 › 实名审核 (None: left 待审核)
DEMO_IDENTITIES = [
    ("13500000001", "张三", "110105198001010016", Portal.PARTY, "approve"),
    ("13500000002", "李四", "11010519850505002X", Portal.PARTY, "approve"),
    ("13500000003", "王律师", "110101197505050011", Portal.AGENT, "approve"),
    ("13500000004", "刘代理", "110102198203030024", Portal.AGENT, None),
]


def seed_demo_identities() -> None:
    """The demo parties and the special agent are verified (they sign in the demo cases); 刘代理's
    submission waits for review. Each goes through the workflow: submitted with images, reviewed."""
    support = find_user("13300000001")
    reviewer = Actor(support.id, Scope(portal=Portal.PLATFORM, is_platform=True))
    for phone, name, id_number, portal, event in DEMO_IDENTITIES:
        user = find_user(phone)
        if user is None or identity.verification_of(user.id) is not None:
            continue
        person = Actor(user.id, Scope(portal=portal))
        ident = identity.submit(person, name, id_number,
                                {side: io.BytesIO(_DEMO_SIGNATURE) for side in identity.SIDES})
        if event:
            identity.review(ident, event, reviewer)


def seed_demo_after_mediation() -> None:
    """For the after-mediation walkthrough (issue 8): an ended 朝阳 case whose agreement 张三 and
    李四 signed today (司法确认 is open for 30 days), and the demo intranet API key (README).
    The terminated case for 在线立案 is 装饰装修合同纠纷 above."""
    from .enums import CaseStatus, SignerRole
    from .models import Case, IntranetApiKey, Signature
    from .security import Scope
    from .api_keys import hash_key
    from .workflows import agreements, case_lifecycle
    from .workflows.case_lifecycle import Actor

    if _get(IntranetApiKey, key_hash=hash_key(DEMO_INTRANET_KEY)) is None:
        db.session.add(IntranetApiKey(court_id=None, key_hash=hash_key(DEMO_INTRANET_KEY)))
    chaoyang = _get(Court, code="京0105")
    cause = "房屋租赁合同纠纷"
    if db.session.scalar(sa.select(Case.id).where(Case.court_id == chaoyang.id, Case.cause == cause)) is not None:
        return
    from .enums import AgentType

    cy_admin = _get(CourtStaff, phone="13800000001")
    chen = _get(Mediator, phone="13900000001")
    court = Actor(cy_admin.user_id, Scope(portal=None, court_id=chaoyang.id, is_court_admin=True,
                                          staff_id=cy_admin.id))
    mediator = Actor(chen.user_id, Scope(portal=None, mediator_id=chen.id), chen.organisation_id)
    case = _demo_case(chaoyang, cause, [
        ("APPLICANT", "张三", "13500000001", "110105198001010016", [(AgentType.SPECIAL, "王律师", "13500000003")]),
        ("RESPONDENT", "李四", "13500000002", "11010519850505002X", [(AgentType.GENERAL, "刘代理", "13500000004")]),
    ], summary="双方因房屋租金及押金退还发生争议。", plan="被申请人退还押金，申请人放弃违约金。")
    _act(case, "assign", court, mediator_id=chen.id)
    agreement = agreements.generate(case, mediator, {"terms": "一、李四于2026年12月31日前退还张三押金人民币一万元。\n"
                                                               "二、张三放弃其他请求。"})
    db.session.add(Signature(agreement=agreement, role=SignerRole.MEDIATOR, mediator_id=chen.id,
                             signer_name=chen.name, image=_DEMO_SIGNATURE, document_sha256=agreement.sha256))
    db.session.flush()
    _act(case, "apply_close", mediator)
    for phone in ("13500000001", "13500000002"):
        party = Actor(find_user(phone).id, Scope(portal=Portal.PARTY))
        case_lifecycle.party_signs(case, party, agreement, _DEMO_SIGNATURE, None, "demo")
    assert case.status is CaseStatus.ENDED
    db.session.flush()
