"""What every demo area uses: get-or-create look-ups, the demo password, and the actors the
demo acts as — each a court admin, mediator, ministry side or party, as in the screens."""
from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import CourtStaff, Mediator, Ministry
from ..roles import Portal
from ..security import Scope
from ..workflows import agreements
from ..workflows.accounts import find_user
from ..workflows.actor import Actor
from .signatures import signature_png

DEMO_PASSWORD = "Demo@2026"
DEMO_INTRANET_KEY = "ik_demo_intranet_2026"
#: the region of every demo organisation and ministry account
PROVINCE = CITY = "北京市"


def get(model, **key):
    """The row with this natural key (court code, phone, credit code …), or None."""
    return db.session.scalar(sa.select(model).filter_by(**key))


def court_admin(phone: str) -> Actor:
    staff = get(CourtStaff, phone=phone)
    return Actor(staff.user_id, Scope(portal=Portal.COURT, court_id=staff.court_id, is_court_admin=staff.is_admin,
                                      staff_id=staff.id))


def mediator(phone: str) -> Actor:
    m = get(Mediator, phone=phone)
    return Actor(m.user_id, Scope(portal=Portal.MEDIATOR, mediator_id=m.id), m.organisation_id)


def ministry_side(code: str) -> Actor:
    """The ministry's provincial side (its platform, as in 总对总), for the demo region."""
    return Actor(None, Scope(portal=Portal.MINISTRY, ministry_id=get(Ministry, code=code).id, province=PROVINCE,
                             city=CITY))


def party(phone: str) -> Actor:
    return Actor(find_user(phone).id, Scope(portal=Portal.PARTY))


def mediator_signs(case, actor: Actor, document) -> None:
    """扫码签字 and the phone's signing page, as the mediator does it [FAQ 3.9(3)]."""
    raw = agreements.issue_mediator_token(case, actor, document)
    name = db.session.get(Mediator, actor.scope.mediator_id).name
    agreements.sign_with_token(raw, signature_png(name), None, "demo")
