"""Courts, the tribunal and the grassroots unit of the README (SPEC §2; FAQ 7.1, 7.2)."""
from __future__ import annotations

from ..enums import CourtLevel
from ..extensions import db
from ..models import Court, CourtStaff, GrassrootsUnit, Tribunal
from ..workflows.rosters import add_grassroots_unit
from .common import CITY, DEMO_PASSWORD, PROVINCE, court_admin, get


def _court(name, code, level, parent=None, province=PROVINCE, city=CITY) -> Court:
    court = get(Court, code=code)
    if court is None:
        court = Court(name=name, code=code, level=level, parent=parent, province=province, city=city)
        db.session.add(court)
        db.session.flush()
    return court


def seed_courts() -> None:
    high = _court("北京市高级人民法院", "京", CourtLevel.HIGH)
    third = _court("北京市第三中级人民法院", "京03", CourtLevel.INTERMEDIATE, high)
    first = _court("北京市第一中级人民法院", "京01", CourtLevel.INTERMEDIATE, high)
    _court("北京市朝阳区人民法院", "京0105", CourtLevel.BASIC, third, city="朝阳区")
    _court("北京市海淀区人民法院", "京0108", CourtLevel.BASIC, first, city="海淀区")


def seed_tribunal_and_unit() -> None:
    """团结湖人民法庭 (admin: the judge 李明) and 朝阳区团结湖街道 with its liaison [FAQ 7.1–7.3]."""
    chaoyang = get(Court, code="京0105")
    tribunal = get(Tribunal, court_id=chaoyang.id, name="团结湖人民法庭")
    if tribunal is None:
        tribunal = Tribunal(court=chaoyang, name="团结湖人民法庭", admin=get(CourtStaff, phone="13800000002"),
                            address="北京市朝阳区团结湖路")
        db.session.add(tribunal)
        db.session.flush()
    if get(GrassrootsUnit, liaison_phone="13600000001") is None:
        unit = GrassrootsUnit(court=chaoyang, tribunal=tribunal, name="朝阳区团结湖街道",
                              address="北京市朝阳区团结湖街道办事处", liaison_name="赵联络",
                              liaison_phone="13600000001")
        add_grassroots_unit(unit, DEMO_PASSWORD, court_admin("13800000001").scope)
        db.session.add(unit)
        db.session.flush()
