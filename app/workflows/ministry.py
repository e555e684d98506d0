"""总对总, the ministry side: binding organisations and applying for court certification [FAQ 6.1, 6.7; SPEC §4].

    organisation ──绑定 (one ministry at most)──▶ bound ──解绑──▶ unbound
    bound to a ministry whose path is "ministry applies" (工商联, 人民银行):
        申请法院认证 (court, note) ──▶ 待认证 ──court admin: 通过 / 驳回(理由)──▶ 已认证 / 已驳回
    other ministries: the court adds the organisation to its roster first, the ministry binds it.

Which path a ministry uses is data (`Ministry.certification_path`), not its name.
A ministry account acts only on organisations of its own region.

Messages from a ministry platform (`receive_message`, behind the inbound API)
[FAQ 6.3, 6.5; SPEC §7]: a receipt of an assignment, or the outcome of a
总对总 case (success → 调解结束, failure → 调解终止 with the reason), which goes
through the case machine (app/workflows/case_lifecycle.py). Each message id
is applied once per ministry: a replay changes nothing and answers the first
result; of two copies arriving at once, the second meets the unique key of
`inbound_message` inside a savepoint and answers the same.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from ..enums import CertificationPath, CertificationStatus, TerminationReason
from ..extensions import db
from ..models import Case, Court, InboundMessage, Ministry, Organisation, OrganisationCourt, OutboxMessage, utcnow
from ..security import Scope
from . import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed, case_lifecycle
from .actor import Actor

MESSAGE_TYPES = ("receipt", "outcome")
OUTCOMES = {"success": "ministry_success", "failure": "ministry_failure"}


def in_region(query, scope: Scope):
    """Organisations of the account's province (and city, when the account has one)."""
    query = query.filter(Organisation.province == scope.province)
    if scope.city:
        query = query.filter(Organisation.city == scope.city)
    return query


def _check_region(org: Organisation, scope: Scope) -> None:
    if scope.ministry_id is None or org.province != scope.province or (scope.city and org.city != scope.city):
        raise DomainError(_("This organisation is outside your ministry account's region."))


def bind(org: Organisation, scope: Scope) -> Organisation:
    """绑定调解组织: at most one ministry per organisation [FAQ 6.1, 6.7(3)]."""
    _check_region(org, scope)
    if org.ministry_id == scope.ministry_id:
        raise DomainError(_("The organisation is already bound to your ministry."))
    if org.ministry_id is not None:
        raise DomainError(_("The organisation is already bound to %(ministry)s; an organisation can be bound to "
                            "one ministry only.", ministry=org.ministry.name))
    # set the column itself: the audit hook records ministry_id before → after
    org.ministry_id = scope.ministry_id
    org.ministry = db.session.get(Ministry, scope.ministry_id)
    db.session.flush()
    return org


def unbind(org: Organisation, scope: Scope) -> Organisation:
    _check_region(org, scope)
    if org.ministry_id != scope.ministry_id:
        raise DomainError(_("The organisation is not bound to your ministry."))
    org.ministry = None
    org.ministry_id = None
    db.session.flush()
    return org


def apply_certification(org: Organisation, court: Court | None, note: str | None, scope: Scope) -> OrganisationCourt:
    """申请法院认证 from the ministry side, for ministries whose path says so [FAQ 6.7]."""
    _check_region(org, scope)
    if org.ministry_id != scope.ministry_id:
        raise DomainError(_("Bind the organisation to your ministry first."))
    if org.ministry.certification_path is not CertificationPath.MINISTRY_APPLIES:
        raise DomainError(_("For %(ministry)s the court adds the organisation to its roster; the ministry then "
                            "binds it.", ministry=org.ministry.name))
    if court is None:
        raise DomainError(_("Choose the court to apply to."))
    link = db.session.scalar(sa.select(OrganisationCourt).where(
        OrganisationCourt.organisation_id == org.id, OrganisationCourt.court_id == court.id))
    if link is not None and link.status is CertificationStatus.CERTIFIED:
        raise DomainError(_("The organisation is already certified by %(court)s.", court=court.name))
    if link is not None and link.status is CertificationStatus.PENDING:
        raise DomainError(_("The application to %(court)s is waiting for the court's decision.", court=court.name))
    if link is None:
        link = OrganisationCourt(organisation=org, court=court)
        db.session.add(link)
    link.status = CertificationStatus.PENDING
    link.note = (note or "").strip()[:500] or None
    link.applied_at = utcnow()
    link.decided_at = link.decided_by_id = link.reject_reason = None
    db.session.flush()
    return link


def decide(link: OrganisationCourt, scope: Scope, actor_id: int | None, approve: bool,
           reason: str | None = None) -> OrganisationCourt:
    """特邀调解组织认证: the court admin approves or rejects (with a reason)."""
    if not scope.is_platform and link.court_id != scope.court_id:
        raise DomainError(_("This application was made to another court."))
    if link.status is not CertificationStatus.PENDING:
        raise DomainError(_("This application is already %(status)s.", status=link.status.label))
    if not approve and not (reason or "").strip():
        raise DomainError(_("Give the reason for rejecting."))
    link.status = CertificationStatus.CERTIFIED if approve else CertificationStatus.REJECTED
    link.decided_at = utcnow()
    link.decided_by_id = actor_id
    link.reject_reason = None if approve else reason.strip()[:500]
    db.session.flush()
    return link


def reset_organisation_password(org: Organisation, password: str, by_platform: bool, scope: Scope,
                                work_id: str | None = None):
    """[FAQ 6.2]: 工商联 organisations are reset by platform staff after checking a work ID;
    other ministries' organisations by the provincial ministry account. Which applies is
    `Ministry.password_reset_by_platform`. The organisation's login is its credit code."""
    from ..audit import record
    from ..enums import AuditAction
    from ..forms import password_problem
    from ..roles import ORGANISATION
    from .accounts import ensure_account, set_password

    if org.ministry is None:
        raise DomainError(_("The organisation is not bound to a ministry."))
    if by_platform and not org.ministry.password_reset_by_platform:
        raise DomainError(_("%(ministry)s organisations are reset by their provincial ministry account.",
                            ministry=org.ministry.name))
    if not by_platform:
        _check_region(org, scope)
        if org.ministry_id != scope.ministry_id:
            raise DomainError(_("The organisation is not bound to your ministry."))
        if org.ministry.password_reset_by_platform:
            raise DomainError(_("%(ministry)s organisations are reset by platform staff after checking a work ID.",
                                ministry=org.ministry.name))
    if by_platform and not (work_id or "").strip():
        raise DomainError(_("Record the work ID you checked."))
    problem = password_problem(password or "")
    if problem:
        raise DomainError(problem)
    user, _created = ensure_account(org.credit_code, org.name, [ORGANISATION], password=password, notify=False)
    set_password(user, password)
    db.session.flush()
    org.user_id = user.id
    record(db.session, org, AuditAction.PASSWORD, _("Organisation password reset"),
           {"by": "platform" if by_platform else "ministry", "work_id": (work_id or "").strip() or None})
    db.session.flush()
    return user


# --- messages from the ministry platforms -------------------------------------------

def message_problems(body) -> list[str]:
    """Every reason a ministry platform's message is malformed (translated); empty: it is fine."""
    if not isinstance(body, dict):
        return [_("The body must be a JSON object.")]
    problems = []
    for field in ("message_id", "case_number", "type"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            problems.append(_("%(field)s is required.", field=field))
    if isinstance(body.get("message_id"), str) and len(body["message_id"]) > 64:
        problems.append(_("message_id is at most 64 characters."))
    if isinstance(body.get("type"), str) and body["type"].strip() and body["type"] not in MESSAGE_TYPES:
        problems.append(_("type must be receipt or outcome."))
    if body.get("type") == "outcome":
        if body.get("outcome") not in OUTCOMES:
            problems.append(_("outcome must be success or failure."))
        elif body["outcome"] == "failure" and body.get("termination_reason") not in TerminationReason.__members__:
            problems.append(_("termination_reason is required for a failure."))
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        problems.append(_("reason must be a text of at most 500 characters."))
    return problems


def _seen(ministry_id: int, message_id: str) -> Optional[InboundMessage]:
    return db.session.scalar(sa.select(InboundMessage).where(
        InboundMessage.ministry_id == ministry_id, InboundMessage.message_id == message_id))


def _claim(ministry_id: int, message_id: str, body: dict) -> Optional[InboundMessage]:
    """Record the message as received; None when a copy of it was recorded first (at the same time)."""
    message = InboundMessage(ministry_id=ministry_id, message_id=message_id, payload=body, result="")
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except sa.exc.IntegrityError:
        return None
    return message


def receive_message(body, ministry_id: int) -> dict:
    """One receipt or outcome from a ministry platform, applied once: a replay answers the first result.

    Raises ValidationFailed (400), NotFound (404), NotAllowed (403: the case is
    not with this ministry) or Conflict (409: the case cannot take the outcome now).
    """
    problems = message_problems(body)
    if problems:
        raise ValidationFailed(" ".join(problems), problems)
    message_id = body["message_id"]
    seen = _seen(ministry_id, message_id)
    if seen is not None:
        return {"status": "duplicate", "result": seen.result}
    case = db.session.scalar(sa.select(Case).where(Case.number == body["case_number"]))
    if case is None:
        raise NotFound(_("No case has this number."))
    actor = Actor(None, Scope(portal=None, ministry_id=ministry_id))
    if not actor.is_ministry_of(case):
        raise NotAllowed(_("The case is not assigned to this ministry."))
    message = _claim(ministry_id, message_id, body)
    if message is None:
        seen = _seen(ministry_id, message_id)
        return {"status": "duplicate", "result": seen.result if seen is not None else ""}
    if body["type"] == "receipt":
        db.session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.topic == "ministry.assign",
            OutboxMessage.acknowledged_at.is_(None)).values(acknowledged_at=utcnow()))
        message.result = "receipt recorded"
    else:
        event = OUTCOMES[body["outcome"]]
        data = {"reason": body.get("reason") or ""}
        if event == "ministry_failure":
            data["termination_reason"] = TerminationReason[body["termination_reason"]]
        refusals = case_lifecycle.MACHINE.refusals(case, event, actor, **data)
        if refusals:
            raise Conflict(" ".join(refusals))
        case_lifecycle.apply(case, event, actor, **data)
        message.result = f"case is now {case.status.name}"
    db.session.flush()
    return {"status": "ok", "result": message.result}
