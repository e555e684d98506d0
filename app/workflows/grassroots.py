"""三进: 纠纷化解 by a grassroots unit's liaison, and the handoff to online mediation [FAQ 7.4; SPEC §5].

    处理中 ──化解成功──▶ 化解成功
       │ ──化解不成功─▶ 化解不成功        (closed directly, no detailed process)
       └──转在线调解──▶ 已转在线调解 ──▶ a 诉前委派调解 case at the unit's court (and tribunal),
                                          待指派, source 基层治理, carrying the parties and the description

Only the unit's own liaison acts on its disputes. A handoff happens once: the
status changes with a conditional UPDATE (WHERE status = 处理中), so a double
submit — even two at the same moment — creates exactly one case.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import validation
from ..audit import transition_row
from ..enums import CaseSource, CaseStatus, CaseType, DisputeStatus, DisputeType, PartyKind, PartyRole
from ..extensions import db
from ..models import Case, CaseParty, Dispute, DisputeParty, GrassrootsUnit, utcnow
from ..security import Scope
from . import DomainError, ValidationFailed

CLOSED_BY = {"resolve": DisputeStatus.RESOLVED, "fail": DisputeStatus.UNRESOLVED}


@dataclass
class PartyInput:
    role: str
    name: str
    phone: str = ""
    id_number: str = ""


def check_liaison(unit: GrassrootsUnit | None, user_id: int) -> GrassrootsUnit:
    if unit is None or unit.liaison_user_id != user_id:
        raise DomainError(_("Only the unit's judicial liaison can do this."))
    return unit


def record(unit: GrassrootsUnit, user_id: int, dispute_type: str, place: str, description: str,
           action_taken: str, parties: list[PartyInput]) -> Dispute:
    """A new dispute from the quick entry form; every problem is reported at once."""
    check_liaison(unit, user_id)
    errors = []
    if dispute_type not in DisputeType.__members__:
        errors.append(_("Choose the dispute type."))
    if not (description or "").strip():
        errors.append(_("Describe the dispute."))
    named = [p for p in parties if p.name.strip()]
    if not named:
        errors.append(_("Enter at least one party."))
    for i, p in enumerate(named, start=1):
        phone = validation.normalize_phone(p.phone) if p.phone else ""
        if phone and not validation.is_mobile(phone):
            errors.append(_("Party %(n)d: the mobile number must be 11 digits starting with 1.", n=i))
        if p.id_number and not validation.is_id_number(p.id_number):
            errors.append(_("Party %(n)d: the ID number is invalid.", n=i))
        if p.role not in PartyRole.__members__:
            errors.append(_("Party %(n)d: choose applicant or respondent.", n=i))
    if errors:
        raise ValidationFailed(_("The dispute was not saved."), errors)
    dispute = Dispute(unit=unit, court_id=unit.court_id, tribunal_id=unit.tribunal_id,
                      dispute_type=DisputeType[dispute_type], place=(place or "").strip()[:200] or None,
                      description=description.strip(), action_taken=(action_taken or "").strip() or None,
                      status=DisputeStatus.PROCESSING)
    for p in named:
        dispute.parties.append(DisputeParty(
            role=PartyRole[p.role], name=p.name.strip()[:100],
            phone=validation.normalize_phone(p.phone) if p.phone else None,
            id_number=validation.normalize_id_number(p.id_number) if p.id_number else None))
    db.session.add(dispute)
    db.session.flush()
    return dispute


def _claim(dispute: Dispute, target: DisputeStatus) -> None:
    """Move 处理中 → target with a conditional update: a second click finds nothing to move."""
    result = db.session.execute(
        sa.update(Dispute)
        .where(Dispute.id == dispute.id, Dispute.status == DisputeStatus.PROCESSING)
        .values(status=target, closed_at=utcnow(), version=Dispute.version + 1),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        db.session.refresh(dispute)
        raise DomainError(_("This dispute is already %(status)s.", status=dispute.status.label))
    db.session.refresh(dispute)


def close(dispute: Dispute, event: str, user_id: int, note: str | None) -> Dispute:
    """化解成功 / 化解不成功: closed directly [FAQ 7.4]."""
    if event not in CLOSED_BY:
        raise DomainError(_("Unknown operation."))
    check_liaison(dispute.unit, user_id)
    _claim(dispute, CLOSED_BY[event])
    dispute.result_note = (note or "").strip()[:500] or None
    transition_row(dispute, event, DisputeStatus.PROCESSING, dispute.status, note)
    db.session.flush()
    return dispute


def hand_off(dispute: Dispute, user_id: int) -> Case:
    """转在线调解: exactly one pre-litigation case at the unit's court, linked both ways."""
    from .case_intake import prepare_new_case, refresh_party_names

    unit = check_liaison(dispute.unit, user_id)
    _claim(dispute, DisputeStatus.HANDED_OFF)
    case = Case(court=unit.court, tribunal=unit.tribunal, cause=dispute.dispute_type.label,
                summary=dispute.description, grassroots_unit=unit)
    prepare_new_case(case, Scope(portal=None, is_platform=True), CaseType.PRE_LITIGATION, CaseSource.GRASSROOTS)
    db.session.add(case)
    for p in dispute.parties:
        case.parties.append(CaseParty(role=p.role, kind=PartyKind.PERSON, name=p.name, phone=p.phone,
                                      id_number=p.id_number))
    refresh_party_names(case)
    db.session.flush()
    dispute.case_id = case.id
    transition_row(dispute, "hand_off", DisputeStatus.PROCESSING, DisputeStatus.HANDED_OFF,
                   None, None, {"case_id": case.id, "case_number": case.number})
    db.session.flush()
    return case


def figures(disputes_query: sa.Select) -> dict:
    """Counts for a unit or a court: received, resolved locally, not resolved, handed off,
    and what became of the handed-off cases (SPEC §5, for the statistics issue)."""
    sub = disputes_query.subquery()
    by_status = dict(db.session.execute(
        sa.select(sub.c.status, sa.func.count()).group_by(sub.c.status)).all())
    handed = dict(db.session.execute(
        sa.select(Case.status, sa.func.count()).where(Case.id.in_(sa.select(sub.c.case_id)))
        .group_by(Case.status)).all())
    count = lambda s: by_status.get(s, 0) + by_status.get(s.name, 0)  # noqa: E731 - enum or raw name
    return {
        "received": sum(by_status.values()),
        "processing": count(DisputeStatus.PROCESSING),
        "resolved": count(DisputeStatus.RESOLVED),
        "unresolved": count(DisputeStatus.UNRESOLVED),
        "handed_off": count(DisputeStatus.HANDED_OFF),
        "cases": {s: handed.get(s, 0) + handed.get(s.name, 0) for s in CaseStatus},
        "ended": handed.get(CaseStatus.ENDED, 0) + handed.get(CaseStatus.ENDED.name, 0),
        "terminated": handed.get(CaseStatus.TERMINATED, 0) + handed.get(CaseStatus.TERMINATED.name, 0),
    }
