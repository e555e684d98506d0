"""Reference data (the seven ministries) and the demo data of the README, one module per area.

    reference        the ministries of 总对总 (every installation: `seed_reference`)
    courts           courts, 团结湖人民法庭, 朝阳区团结湖街道 and its liaison
    accounts         court users, ministry accounts, parties and agents, platform staff
    identities       实名认证 of the demo parties and agents (人工审核 by 陈客服)
    rosters          organisations (bound and certified by the FAQ's path) and mediators
    history          a year of concluded 新增历史案件 for the statistics
    cases            the demo cases in every state
    grassroots       纠纷化解 records
    after_mediation  the case for 司法确认 / 在线立案, the demo intranet key

Everything is created through the workflows, as the screens would (intake,
the case machine, certification, binding, agreements and signatures,
grassroots); no state is assigned here. It is get-or-create by natural key
(court code, phone, credit code, cause), so running it again keeps what exists
— including changed passwords and whatever users did since. Demo passwords are
`Demo@2026`; the README says to change them.
"""
from __future__ import annotations

from .accounts import seed_court_staff, seed_ministry_accounts, seed_people
from .after_mediation import seed_after_mediation
from .cases import seed_cases
from .common import DEMO_INTRANET_KEY, DEMO_PASSWORD
from .courts import seed_courts, seed_tribunal_and_unit
from .grassroots import seed_disputes
from .history import seed_history
from .identities import seed_identities
from .reference import seed_reference
from .rosters import seed_mediators, seed_organisations

__all__ = ["DEMO_INTRANET_KEY", "DEMO_PASSWORD", "seed_demo", "seed_reference"]


def seed_demo() -> None:
    seed_reference()
    seed_courts()
    seed_court_staff()
    seed_organisations()
    seed_mediators()
    seed_ministry_accounts()
    seed_tribunal_and_unit()
    seed_people()
    seed_identities()
    seed_history()
    seed_cases()
    seed_disputes()
    seed_after_mediation()
