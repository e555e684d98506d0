"""Who acts in a workflow: the acting identity's scope, resolved once per request.

Every process's `who` predicates read an `Actor`; a workflow never looks at
the request itself. `SYSTEM` is the platform acting on its own (the
automatic 调解结束 when everyone signed, the worker, an outside system's
result through an authenticated API).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa

from ..extensions import db
from ..models import Mediator
from ..security import Scope


@dataclass(frozen=True)
class Actor:
    """Who acts: their account, their scope, and the organisation of the acting mediator."""

    user_id: Optional[int]
    scope: Scope
    mediator_organisation_id: Optional[int] = None
    system: bool = False

    def is_court_staff_of(self, subject) -> bool:
        """Staff of the court `subject` (a case, an application, a certification) belongs to."""
        return self.scope.court_id is not None and self.scope.court_id == subject.court_id

    def is_court_admin_of(self, subject) -> bool:
        return self.scope.is_court_admin and self.is_court_staff_of(subject)

    def is_ministry_of(self, case) -> bool:
        """Staff of the ministry whose organisation has the case (总对总)."""
        org = case.organisation
        return (self.scope.ministry_id is not None and org is not None
                and org.ministry_id == self.scope.ministry_id)

    def is_organisation_of(self, case) -> bool:
        """The account of the organisation the case went to (调解组织端)."""
        org_id = self.scope.organisation_id
        return org_id is not None and case.organisation_id == org_id

    def is_mediator_of(self, case) -> bool:
        """The case's mediator, or a mediator of the organisation the case went to."""
        mid = self.scope.mediator_id
        if mid is None:
            return False
        if case.mediator_id is not None:
            return case.mediator_id == mid
        return case.organisation_id is not None and case.organisation_id == self.mediator_organisation_id


def actor_for(user_id: Optional[int], scope: Scope) -> Actor:
    org_id = None
    if scope.mediator_id is not None:
        org_id = db.session.scalar(sa.select(Mediator.organisation_id).where(Mediator.id == scope.mediator_id))
    return Actor(user_id, scope, org_id)


SYSTEM = Actor(None, Scope(portal=None), system=True)
