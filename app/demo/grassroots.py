"""纠纷化解 records of 朝阳区团结湖街道: one open, one resolved, one handed to online mediation (SPEC §5; FAQ 7.4)."""
from __future__ import annotations

import sqlalchemy as sa

from ..enums import PartyRole
from ..extensions import db
from ..models import Dispute, GrassrootsUnit
from ..roles import Portal
from ..security import Scope
from ..workflows import grassroots
from ..workflows.actor import Actor
from .common import get


def seed_disputes() -> None:
    unit = get(GrassrootsUnit, liaison_phone="13600000001")
    if db.session.scalar(sa.select(Dispute.id).where(Dispute.unit_id == unit.id).limit(1)) is not None:
        return
    liaison = Actor(unit.liaison_user_id, Scope(portal=Portal.GRASSROOTS))
    people = [grassroots.PartyInput(PartyRole.APPLICANT.name, "陈大爷", "13577770011"),
              grassroots.PartyInput(PartyRole.RESPONDENT.name, "林女士", "13577770012")]
    grassroots.record(unit, liaison, "NEIGHBOUR", "团结湖北里5号楼", "楼道堆放杂物引发争执", "上门沟通", people)
    done = grassroots.record(unit, liaison, "PROPERTY", "团结湖小区", "物业费收取标准争议", "组织双方协商", people)
    grassroots.apply(done, "resolve", liaison, note="双方同意按原标准缴纳")
    handed = grassroots.record(unit, liaison, "CONTRACT", "团结湖路", "装修款尾款纠纷，需视频调解", "电话沟通未果",
                               people)
    grassroots.apply(handed, "hand_off", liaison)
