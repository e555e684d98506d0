"""`make_case(app, status=...)`: a case of 朝阳 in any state, built directly for tests."""
from __future__ import annotations

import sqlalchemy as sa

from app.clock import today
from app.enums import AgentType, CaseSource, CaseStatus, CaseType, PartyKind, PartyRole, TerminationReason
from app.extensions import db
from app.models import Case, CaseAgent, CaseParty, Court, CourtStaff, Mediator, Organisation
from app.security import Scope
from app.workflows.actor import Actor
from app.workflows.deadlines import refresh_deadline

from .helpers import app_ctx

COMPLETE_PARTIES = [
    ("APPLICANT", "赵一", "13511110001", "110105198001010013"),
    ("RESPONDENT", "钱二", "13511110002", "11010519850505002X"),
]


def make_case(app, status=CaseStatus.TO_ASSIGN, court_code="京0105", mediator_phone="13900000001",
              case_type=CaseType.PRE_LITIGATION, parties=COMPLETE_PARTIES, organisation=None, **fields) -> int:
    with app_ctx(app):
        court = db.session.scalar(sa.select(Court).where(Court.code == court_code))
        values = {"summary": "纠纷概况", "plan": "调解方案", **fields}
        case = Case(case_type=case_type, source=CaseSource.COURT, cause="合同纠纷", court=court, status=status,
                    received_on=today(), clock_started_on=today(), **values)
        if status is CaseStatus.TO_ACCEPT:
            case.court = None
            case.case_type = CaseType.INTERNET
        if status not in (CaseStatus.TO_ASSIGN,):
            case.mediator = db.session.scalar(sa.select(Mediator).where(Mediator.phone == mediator_phone))
        if organisation:
            case.organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == organisation))
            case.mediator = None
        if status is CaseStatus.TERMINATED:
            case.termination_reason = TerminationReason.WITHDRAWN
        refresh_deadline(case)
        db.session.add(case)
        for role, name, phone, id_number in parties:
            party = CaseParty(case=case, role=PartyRole[role], kind=PartyKind.PERSON, name=name, phone=phone,
                              id_number=id_number)
            db.session.add(party)
        case.party_names = "、".join(p[1] for p in parties)
        db.session.commit()
        return case.id


def add_agent(app, party_id, agent_type=AgentType.SPECIAL, phone="13500000003", name="王律师"):
    with app_ctx(app):
        db.session.add(CaseAgent(party_id=party_id, agent_type=agent_type, name=name, phone=phone))
        db.session.commit()


def court_actor(phone="13800000001") -> Actor:
    staff = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == phone))
    return Actor(staff.user_id, Scope(portal=None, court_id=staff.court_id, is_court_admin=staff.is_admin,
                                      staff_id=staff.id))


def mediator_actor(phone="13900000001") -> Actor:
    m = db.session.scalar(sa.select(Mediator).where(Mediator.phone == phone))
    return Actor(m.user_id, Scope(portal=None, mediator_id=m.id), m.organisation_id)


def get_case(app, case_id) -> Case | None:
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        if case is not None:
            db.session.expunge(case)
        return case


def update_case(app, case_id, **fields):
    """Set columns of a case in one UPDATE, past the ORM's flush hooks (dates and states a test needs)."""
    with app_ctx(app):
        db.session.execute(sa.update(Case).where(Case.id == case_id).values(**fields))
        db.session.commit()
