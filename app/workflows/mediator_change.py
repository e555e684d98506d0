"""Changing the mediator at a party's request (Rules art 14).

    (new) ──申请更换调解员 (a party or its agent, with the reason; case 调解中)──▶ 待决定
    (new) ──再次申请更换 (the same side, after its first change was granted:
                          counts as refusing mediation; the case ends 调解终止)──▶ 视为拒绝调解
    待决定 ──更换 (the court; for an internet case the applicant's new choice
                   from the region's roster)──▶ 已更换 (the case's mediator is replaced)
    待决定 ──不予更换 (the court, or for an internet case the applicant; with the reason)──▶ 未准许

Sources: Rules art 14 (a party may ask, with its reason, for another mediator;
the court decides; refusing a newly appointed mediator again counts as
refusing mediation), art 25 (a party refusing mediation ends it), art 13
(a disclosed conflict is a reason to ask; app/workflows/conflicts.py).
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import utcnow
from ..enums import CaseStatus, CertificationStatus
from ..enums import MediatorChangeStatus as S
from ..extensions import db
from ..models import Case, MediatorChange, MediatorCourt
from .actor import SYSTEM, Actor
from .case_lifecycle import apply as case_apply
from .engine import NEW, Hint, Machine, Transition
from .evidence import party_of
from .internet import application_of, eligible, is_applicant

PARTY = "party"
COURT = "court"
INTERNET_APPLICANT = "internet_applicant"


def _court_decides(change, actor) -> bool:
    return actor.is_court_staff_of(change.case) and application_of(change.case) is None


def _applicant_decides(change, actor) -> bool:
    app = application_of(change.case)
    return app is not None and is_applicant(app, actor)


ROLES = {
    PARTY: lambda change, actor: party_of(change.case, actor) is not None,
    COURT: _court_decides,
    INTERNET_APPLICANT: _applicant_decides,
}


def _side_changed_before(case: Case, side) -> bool:
    """Whether a request of this side (申请人 / 被申请人) already got the case a new mediator."""
    rows = db.session.scalars(sa.select(MediatorChange).where(
        MediatorChange.case_id == case.id, MediatorChange.status == S.APPROVED)).all()
    return any(r.party is not None and r.party.role is side for r in rows)


def _pending(case: Case) -> Optional[MediatorChange]:
    return db.session.scalar(sa.select(MediatorChange).where(
        MediatorChange.case_id == case.id, MediatorChange.status == S.PENDING))


# --- guards ------------------------------------------------------------------------

def _mediating(change, actor, data) -> Optional[str]:
    case = change.case
    if case.status is not CaseStatus.MEDIATING or case.mediator_id is None:
        return _("Another mediator is asked for while a mediator is mediating the case.")
    return None


def _reason(change, actor, data) -> Optional[str]:
    return None if (data.get("reason") or "").strip() else _("Give the reason.")


def _none_pending(change, actor, data) -> Optional[str]:
    return _("A request to change the mediator is already waiting for a decision.") if _pending(change.case) else None


def _first_request(change, actor, data) -> Optional[str]:
    party = party_of(change.case, actor)
    if party is not None and _side_changed_before(change.case, party.role):
        return _("Your side already had the mediator changed once; asking again counts as refusing mediation "
                 "(Rules art 14).")
    return None


def _second_request(change, actor, data) -> Optional[str]:
    party = party_of(change.case, actor)
    if party is None or not _side_changed_before(change.case, party.role):
        return _("Ask for another mediator first; only a second request counts as refusing mediation.")
    return None


def _new_mediator(change, actor, data) -> Optional[str]:
    mediator_id = data.get("mediator_id")
    case = change.case
    if not mediator_id:
        return _("Choose a mediator.")
    if mediator_id == case.mediator_id:
        return _("Choose a different mediator or organisation.")
    app = application_of(case)
    if app is not None:
        return None if eligible(app, mediator_id) else _(
            "Choose a mediator on the roster of a court of the application's region.")
    certified = db.session.scalar(sa.select(MediatorCourt.id).where(
        MediatorCourt.mediator_id == mediator_id, MediatorCourt.court_id == case.court_id,
        MediatorCourt.status == CertificationStatus.CERTIFIED))
    return None if certified else _("The mediator is not certified by this court.")


# --- effects -----------------------------------------------------------------------

def _ask(change, actor, data):
    party = party_of(change.case, actor)
    change.party_id = party.id
    change.reason = data["reason"].strip()[:500]
    change.old_mediator_id = change.case.mediator_id
    change.requested_by_id = actor.user_id


def _refusal(change, actor, data):
    _ask(change, actor, data)
    change.decided_at = utcnow()
    case_apply(change.case, "party_refuses", SYSTEM,
               reason=_("A second request to change the mediator: %(reason)s", reason=change.reason))


def _approve(change, actor, data):
    change.new_mediator_id = data["mediator_id"]
    change.decided_by_id = actor.user_id
    change.decided_at = utcnow()
    case_apply(change.case, "replace_mediator", SYSTEM, mediator_id=data["mediator_id"], reason=change.reason)


def _reject(change, actor, data):
    change.decided_by_id = actor.user_id
    change.decided_at = utcnow()
    change.decision_reason = data["reason"].strip()[:500]


TRANSITIONS = [
    Transition(event="ask", label=_l("Ask for another mediator"), sources=frozenset({NEW}), target=S.PENDING,
               who=frozenset({PARTY}), guards=(_mediating, _reason, _none_pending, _first_request), effect=_ask),
    Transition(event="ask_again", label=_l("Ask for another mediator again"), sources=frozenset({NEW}),
               target=S.REFUSAL, who=frozenset({PARTY}), guards=(_mediating, _reason, _none_pending, _second_request),
               effect=_refusal),
    Transition(event="approve", label=_l("Change the mediator"), sources=frozenset({S.PENDING}), target=S.APPROVED,
               who=frozenset({COURT, INTERNET_APPLICANT}), guards=(_mediating, _new_mediator), effect=_approve),
    Transition(event="reject", label=_l("Do not change"), sources=frozenset({S.PENDING}), target=S.REJECTED,
               who=frozenset({COURT, INTERNET_APPLICANT}), guards=(_reason,), effect=_reject),
]

HINTS = {
    "ask": Hint(fields=("reason",), required=("reason",)),
    "ask_again": Hint(fields=("reason",), required=("reason",), css="btn-warning",
                      confirm=_l("Your side already had the mediator changed once. Asking again counts as "
                                 "refusing mediation and ends it (调解终止). Continue?")),
    "approve": Hint(fields=("mediator_id",), required=("mediator_id",), css="btn-primary"),
    "reject": Hint(fields=("reason",), required=("reason",)),
}

MACHINE = Machine(name="mediator_change", transitions=TRANSITIONS, roles=ROLES, hints=HINTS,
                  noun=_l("request to change the mediator"))


def ask_event(case: Case, actor: Actor) -> Optional[str]:
    """Which request a party of the case may make now: `ask`, `ask_again` (counts as refusing), or None."""
    party = party_of(case, actor)
    if party is None or case.status is not CaseStatus.MEDIATING or case.mediator_id is None or _pending(case):
        return None
    return "ask_again" if _side_changed_before(case, party.role) else "ask"


def ask_action(case: Case, actor: Actor):
    """The request a party may make now as an `Action` (its label, fields, confirmation), or None."""
    event = ask_event(case, actor)
    if event is None:
        return None
    return next((a for a in MACHINE.available(MediatorChange(case=case, case_id=case.id, reason=""), actor)
                 if a.event == event), None)


def ask(case: Case, actor: Actor, reason: str, event: str = "ask") -> MediatorChange:
    change = MediatorChange(case=case, case_id=case.id, reason="")
    return MACHINE.create(change, event, actor, reason=reason)


def decide(change: MediatorChange, event: str, actor: Actor, expected_version: Optional[int] = None, **data):
    return MACHINE.apply(change, event, actor, expected_version, **data)


def pending_of(case: Case) -> Optional[MediatorChange]:
    return _pending(case)


def changes_of(case: Case) -> list[MediatorChange]:
    return db.session.scalars(sa.select(MediatorChange).where(MediatorChange.case_id == case.id)
                              .order_by(MediatorChange.id)).all()


def available(change: MediatorChange, actor: Actor):
    return MACHINE.available(change, actor)
