"""总对总, the ministry side: binding organisations, messages from the ministry platforms, and
organisation passwords [FAQ 6.1–6.7; SPEC §4, §7].

Binding (组织管理 › 调解组织管理 › 绑定调解组织) [FAQ 6.1, 6.7(3)], the machine `BINDING`:

    未绑定 ──绑定 (a ministry account of the organisation's region)──▶ 已绑定 to that ministry
    已绑定 ──解绑 (the account of the ministry it is bound to, same region)──▶ 未绑定
    已绑定 ──绑定──▶ refused: an organisation is bound to one ministry only; the refusal
                     names the ministry it is bound to (SPEC §4)

The state is derived, not stored: an organisation is 已绑定 iff
`Organisation.ministry_id` is set (which ministry is the column itself; an enum
beside the FK would only restate it). The effect sets or clears the column and
the engine checks that the derived state is the row's target; guards say why
not (outside the region, bound elsewhere, bound to another ministry) and
`available_binding` / `binding_refusals` drive the buttons. The organisation's
version column turns two accounts binding it at once into `Conflict`; one audit
row per bind or unbind, with ministry_id before → after. Which ministry
applies for court certification and which is added by the court is data
(`Ministry.certification_path`), used by app/workflows/certification.py.

Messages from a ministry platform (`receive_message`, behind the inbound API)
[FAQ 6.3, 6.5; SPEC §7]: a receipt of an assignment, or the outcome of a
总对总 case (success → 调解结束, failure → 调解终止 with the reason), which goes
through the case machine (app/workflows/case_lifecycle.py). Each message id
is applied once per ministry: a replay changes nothing and answers the first
result; of two copies arriving at once, the second meets the unique key of
`inbound_message` inside a savepoint and answers the same.

Organisation passwords [FAQ 6.2]: 工商联 organisations are reset by platform
staff after checking a work ID; other ministries' organisations by their
provincial ministry account (`Ministry.password_reset_by_platform`);
`password_refusals` says who may, and drives the 重置密码 buttons.

A ministry account acts only on organisations of its own region (province,
and city when the account has one). Functions flush, never commit.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import record
from ..clock import utcnow
from ..enums import AuditAction, BindingState, CertificationPath, TerminationReason
from ..extensions import db
from ..validation import password_problem
from ..models import Case, InboundMessage, Ministry, Organisation, OutboxMessage
from ..roles import ORGANISATION
from ..security import Scope
from . import Conflict, DomainError, NotAllowed, NotFound, ValidationFailed, case_lifecycle
from .accounts import ensure_account, set_password
from .actor import Actor
from .engine import Action, Hint, Machine, Transition, flush_or_conflict

MESSAGE_TYPES = ("receipt", "outcome")
OUTCOMES = {"success": "ministry_success", "failure": "ministry_failure"}


def applies_for_certification(scope: Scope) -> bool:
    """Whether the account's ministry applies to courts for its organisations (工商联 …) rather than
    binding what a court added: the FAQ reaches its organisations under 名册管理 › 调解组织名册管理 ›
    调解组织名册 for the first [FAQ 6.7(1)], under 组织管理 › 调解组织管理 for the others [FAQ 6.1, 6.2(2)]."""
    if scope.ministry_id is None:
        return False
    path = db.session.scalar(sa.select(Ministry.certification_path).where(Ministry.id == scope.ministry_id))
    return path is CertificationPath.MINISTRY_APPLIES


#: the code of the audit row (app/views/records.py reads it back)
ORGANISATION_PASSWORD_RESET = "ministry.organisation_password_reset"


# --- region -------------------------------------------------------------------

def in_region(query, scope: Scope):
    """Organisations of the account's province (and city, when the account has one)."""
    query = query.filter(Organisation.province == scope.province)
    if scope.city:
        query = query.filter(Organisation.city == scope.city)
    return query


def _in_region_of(org: Organisation, actor: Actor) -> bool:
    scope = actor.scope
    return (scope.ministry_id is not None and org.province == scope.province
            and (not scope.city or org.city == scope.city))


def speaks_for(org: Organisation, actor: Actor) -> bool:
    """The ministry account of `org`'s ministry and region: who acts for a bound organisation."""
    return _in_region_of(org, actor) and org.ministry_id == actor.scope.ministry_id


# --- binding --------------------------------------------------------------------

def binding_state(org: Organisation) -> BindingState:
    return BindingState.BOUND if org.ministry_id is not None else BindingState.UNBOUND


MINISTRY_ACCOUNT = "ministry_account"  # any ministry account; its region and ministry: the guards

BINDING_ROLES = {MINISTRY_ACCOUNT: lambda org, actor: actor.scope.ministry_id is not None}


def _in_region(org, actor, data) -> Optional[str]:
    if not _in_region_of(org, actor):
        return _("This organisation is outside your ministry account's region.")
    return None


def _bound_nowhere(org, actor, data) -> Optional[str]:
    """SPEC §4: an organisation already bound to a ministry cannot be bound again — say to which."""
    if org.ministry_id is None:
        return None
    if org.ministry_id == actor.scope.ministry_id:
        return _("The organisation is already bound to your ministry.")
    return _("The organisation is already bound to %(ministry)s; an organisation can be bound to one "
             "ministry only.", ministry=org.ministry.name)


def _bound_to_mine(org, actor, data) -> Optional[str]:
    if org.ministry_id != actor.scope.ministry_id:
        return _("The organisation is not bound to your ministry.")
    return None


def _bind(org, actor, data):
    mine = db.session.get(Ministry, actor.scope.ministry_id)
    # the column itself, not only the relationship: the state and the audit row read ministry_id
    org.ministry_id = mine.id
    org.ministry = mine


def _unbind(org, actor, data):
    org.ministry_id = None
    org.ministry = None


B = BindingState
BINDING_TRANSITIONS = [
    # 已绑定 is a source of 绑定 so that the refusal names the ministry (`_bound_nowhere`)
    Transition(event="bind", label=_l("Bind"), sources=frozenset({B.UNBOUND, B.BOUND}), target=B.BOUND,
               who=frozenset({MINISTRY_ACCOUNT}), guards=(_in_region, _bound_nowhere), effect=_bind),
    Transition(event="unbind", label=_l("Unbind"), sources=frozenset({B.BOUND}), target=B.UNBOUND,
               who=frozenset({MINISTRY_ACCOUNT}), guards=(_in_region, _bound_to_mine), effect=_unbind),
]
BINDING_HINTS = {"bind": Hint(css="btn-primary"), "unbind": Hint()}

BINDING = Machine(name="binding", transitions=BINDING_TRANSITIONS, roles=BINDING_ROLES, hints=BINDING_HINTS,
                  derive=binding_state, noun=_l("mediation organisation"))


def available_binding(org: Organisation, actor: Actor) -> list[Action]:
    """绑定 / 解绑 as `actor` may take them on `org` now (state and who; the guards say why not)."""
    return BINDING.available(org, actor)


def binding_refusals(org: Organisation, event: str, actor: Actor) -> list[str]:
    """Why `actor` cannot `event` (bind, unbind) `org` now; empty: the button is offered [FAQ 6.1, 6.7(3)]."""
    return BINDING.refusals(org, event, actor)


def bind(org: Organisation, actor: Actor) -> Organisation:
    """绑定调解组织: at most one ministry per organisation."""
    return BINDING.apply(org, "bind", actor)


def unbind(org: Organisation, actor: Actor) -> Organisation:
    """解绑: only the ministry the organisation is bound to."""
    return BINDING.apply(org, "unbind", actor)


# --- messages from the ministry platforms -------------------------------------------

def message_problems(body) -> list[str]:
    """Every reason a ministry platform's message is malformed (translated); empty: it is fine."""
    if not isinstance(body, dict):
        return [_("The body must be a JSON object.")]
    problems = []
    for field, label in (("message_id", _("Message ID")), ("case_number", _("Case number")),
                         ("type", _("Message type"))):
        if not isinstance(body.get(field), str) or not body[field].strip():
            problems.append(_("%(label)s (%(field)s) is required.", label=label, field=field))
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


# --- organisation passwords -----------------------------------------------------------

def password_refusals(org: Organisation, actor: Actor) -> list[str]:
    """Why `actor` may not reset `org`'s password (empty: they may) [FAQ 6.2]: platform staff for
    ministries whose organisations the platform resets (工商联), else the organisation's ministry account."""
    if org.ministry is None:
        return [_("The organisation is not bound to a ministry.")]
    if actor.scope.is_platform:
        if not org.ministry.password_reset_by_platform:
            return [_("%(ministry)s organisations are reset by their provincial ministry account.",
                      ministry=org.ministry.name)]
        return []
    if not _in_region_of(org, actor):
        return [_("This organisation is outside your ministry account's region.")]
    if org.ministry_id != actor.scope.ministry_id:
        return [_("The organisation is not bound to your ministry.")]
    if org.ministry.password_reset_by_platform:
        return [_("%(ministry)s organisations are reset by platform staff after checking a work ID.",
                  ministry=org.ministry.name)]
    return []


def reset_organisation_password(org: Organisation, password: str, actor: Actor,
                                work_id: Optional[str] = None):
    """重置密码 of an organisation's login (its credit code); platform staff record the work ID they
    checked [FAQ 6.2]. Every problem is reported together."""
    problems = password_refusals(org, actor)
    if not problems and actor.scope.is_platform and not (work_id or "").strip():
        problems.append(_("Record the work ID you checked."))
    problem = password_problem(password or "")
    if problem:
        problems.append(problem)
    if problems:
        raise DomainError(" ".join(problems))
    user, _created = ensure_account(org.credit_code, org.name, [ORGANISATION], password=password, notify=False)
    set_password(user, password)
    db.session.flush()
    org.user_id = user.id
    record(db.session, org, AuditAction.PASSWORD, ORGANISATION_PASSWORD_RESET,
           {"by": "platform" if actor.scope.is_platform else "ministry", "work_id": (work_id or "").strip() or None})
    flush_or_conflict()
    return user
