"""Conflicts of interest (Rules art 13): the mediator declares none, or discloses one.

A declaration is a fact recorded once per mediator and case, not a process
with states: there is no state column, so it is a plain function that checks
who acts and flushes (STYLE §3). It is made when accepting an internet case
(app/workflows/internet.py `accept`) and, on a case the court assigned, from
the case page (`declare`). A disclosed conflict is shown to the court and the
parties, who may then ask for another mediator (app/workflows/mediator_change.py).
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from ..enums import CaseStatus
from ..extensions import db
from ..models import Case, ConflictDeclaration
from . import DomainError, NotAllowed
from .actor import Actor
from .engine import insert_or_conflict

NONE = "none"
DISCLOSED = "disclosed"


def declaration_problem(conflict: Optional[str], disclosure: Optional[str]) -> Optional[str]:
    """Why the declaration as filled in is not acceptable, or None."""
    if conflict not in (NONE, DISCLOSED):
        return _("Declare whether you have a conflict of interest with the case (Rules art 13).")
    if conflict == DISCLOSED and not (disclosure or "").strip():
        return _("Describe the conflict of interest you disclose.")
    return None


def declaration_of(case: Case, mediator_id: Optional[int]) -> Optional[ConflictDeclaration]:
    if mediator_id is None or case.id is None:
        return None
    return db.session.scalar(sa.select(ConflictDeclaration).where(
        ConflictDeclaration.case_id == case.id, ConflictDeclaration.mediator_id == mediator_id))


def declarations_of(case: Case) -> list[ConflictDeclaration]:
    return db.session.scalars(sa.select(ConflictDeclaration).where(ConflictDeclaration.case_id == case.id)
                              .order_by(ConflictDeclaration.id)).all()


def record_declaration(case: Case, mediator_id: int, conflict: str,
                       disclosure: Optional[str]) -> ConflictDeclaration:
    """Store a declaration already checked (`declaration_problem`)."""
    row = ConflictDeclaration(case=case, case_id=case.id, mediator_id=mediator_id,
                              has_conflict=conflict == DISCLOSED,
                              disclosure=(disclosure or "").strip()[:500] or None if conflict == DISCLOSED else None)
    insert_or_conflict(row, _("You already declared on this case."))
    return row


def needs_declaration(case: Case, actor: Actor) -> bool:
    """The case's mediator has not declared yet on a case being mediated: the case page offers it."""
    return (actor.scope.mediator_id is not None and case.mediator_id == actor.scope.mediator_id
            and case.status is CaseStatus.MEDIATING and declaration_of(case, actor.scope.mediator_id) is None)


def declare(case: Case, actor: Actor, conflict: Optional[str], disclosure: Optional[str]) -> ConflictDeclaration:
    """The case's mediator declares on a case the court assigned to them."""
    if actor.scope.mediator_id is None or case.mediator_id != actor.scope.mediator_id:
        raise NotAllowed(_("Only the case's mediator declares conflicts of interest."))
    if case.status is not CaseStatus.MEDIATING:
        raise DomainError(_("A declaration is made while the case is %(status)s.",
                            status=CaseStatus.MEDIATING.label))
    if declaration_of(case, actor.scope.mediator_id) is not None:
        raise DomainError(_("You already declared on this case."))
    problem = declaration_problem(conflict, disclosure)
    if problem:
        raise DomainError(problem)
    row = record_declaration(case, actor.scope.mediator_id, conflict, disclosure)
    db.session.flush()
    return row
