"""The README's demo accounts: court users, ministry accounts, parties and agents, platform staff
(SPEC §1; FAQ 2.1). An identity row points at its login, the phone; every password is the demo one."""
from __future__ import annotations

from flask import current_app

from ..extensions import db
from ..models import Court, CourtStaff, Ministry, MinistryAccount
from ..roles import AGENT, MINISTRY_USER, PARTY, PLATFORM_ADMIN, PLATFORM_SUPPORT
from ..workflows.accounts import ensure_account
from ..workflows.rosters import court_roles
from .common import CITY, DEMO_PASSWORD, PROVINCE, get


def _staff(court_code, phone, name, is_admin, position) -> None:
    if get(CourtStaff, phone=phone) is None:
        user, _created = ensure_account(phone, name, court_roles(is_admin), password=DEMO_PASSWORD)
        db.session.add(CourtStaff(court=get(Court, code=court_code), user=user, name=name, phone=phone,
                                  is_admin=is_admin, position=position))
        db.session.flush()


def seed_court_staff() -> None:
    _staff("京0105", "13800000001", "王立新", True, "立案庭庭长")
    _staff("京0105", "13800000002", "李明", False, "法官")
    _staff("京0108", "13800000011", "周海", True, "立案庭副庭长")


def _ministry_account(phone, name, ministry_code) -> None:
    if get(MinistryAccount, phone=phone) is None:
        user, _created = ensure_account(phone, name, [MINISTRY_USER], password=DEMO_PASSWORD)
        db.session.add(MinistryAccount(user=user, ministry=get(Ministry, code=ministry_code), name=name, phone=phone,
                                       province=PROVINCE, city=CITY))
        db.session.flush()


def seed_ministry_accounts() -> None:
    _ministry_account("13700000001", "吴工商", "acfic")
    _ministry_account("13700000002", "郑银保", "cbirc")


def seed_people() -> None:
    """Parties and agents log in with the phone recorded on their cases; platform staff and the admin."""
    for phone, name, role in [
        ("13500000001", "张三", PARTY),
        ("13500000002", "李四", PARTY),
        ("13500000003", "王律师", AGENT),
        ("13500000004", "刘代理", AGENT),
        ("13300000001", "陈客服", PLATFORM_SUPPORT),
    ]:
        ensure_account(phone, name, [role], password=DEMO_PASSWORD)
    sm = current_app.appbuilder.sm
    if sm.find_user(username="admin") is None:
        db.session.add(sm.add_user("admin", "平台管理员", "", "admin@platform.invalid", sm.find_role(PLATFORM_ADMIN),
                                   password=DEMO_PASSWORD, commit=False))
    db.session.flush()
