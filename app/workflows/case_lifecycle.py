"""The case state machine (SPEC §3.1, §8) — the only place a case's status changes.

    待指派 ──指派──────────▶ 调解中 ◀──受理── 待受理 (互联网调解: the mediator picks the court)
      ▲                      │  ▲ │
      └──退回/拒绝受理(理由)──┘  │ ├─更换调解员 / 延长调解期限 (stay 调解中)
                                │ │
              ┌──取消申请结案────┘ ├──申请结案──▶ 申请结案 ──结案──▶ 调解结束
              │                  │                 │ (all signed: agreements issue)
              └──────────────────┴──终止调解(理由)──▶ 调解终止
    申请结案 / 调解结束 / 调解终止 ──继续调解──▶ 调解中 (agreements, transcripts deleted)
    any ──删除 (court admin, confirmed)──▶ gone; the audit trail keeps it

Sources: [FAQ 3.1] phones before assignment, [FAQ 3.9, 3.11] closing,
[FAQ 3.12] cancelling, [FAQ 3.9(4)] continuing, [FAQ 3.3] deleting,
[FAQ 3.8] locks, Rules arts 10–14 (clocks, declining, changing the mediator),
art 25 (termination reasons).

`apply(case, event, actor, **data)` checks, in this order, the state, who may
act, then every guard (all refusals are reported together), and only then
changes the case, recomputes its deadline and writes one audit row with
from → to, reason and the changed fields. It flushes, never commits; the
version column turns a concurrent second transition into `CaseConflict`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import validation
from ..audit import skip_generic_audit, transition_row
from ..enums import CaseStatus as S
from ..enums import CaseType, CertificationStatus, PartyKind, SmsKind, TerminationReason
from ..extensions import db
from ..models import Case, Court, Mediator, MediatorCourt, Organisation, OrganisationCourt, utcnow
from ..security import Scope
from ..sms import send_sms
from ..workdays import add_working_days
from . import DomainError
from .numbering import next_number

LOCKED = frozenset({S.CLOSE_REQUESTED, S.ENDED, S.TERMINATED})
DESIGNATION_WORKING_DAYS = 3  # Rules art 10
ACCEPTANCE_WORKING_DAYS = 3  # Rules art 12
MAX_EXTENSION_DAYS = 30


class CaseConflict(DomainError):
    status_code = 409


class NotAllowed(DomainError):
    status_code = 403


@dataclass(frozen=True)
class Actor:
    """Who acts: their scope, plus the organisation of the acting mediator."""

    user_id: Optional[int]
    scope: Scope
    mediator_organisation_id: Optional[int] = None
    system: bool = False

    def is_court_staff_of(self, case: Case) -> bool:
        return self.scope.court_id is not None and self.scope.court_id == case.court_id

    def is_court_admin_of(self, case: Case) -> bool:
        return self.scope.is_court_admin and self.is_court_staff_of(case)

    def is_ministry_of(self, case: Case) -> bool:
        """Staff (or the platform) of the ministry whose organisation has the case (总对总)."""
        org = case.organisation
        return (self.scope.ministry_id is not None and org is not None
                and org.ministry_id == self.scope.ministry_id)

    def is_mediator_of(self, case: Case) -> bool:
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


COURT = "court"  # any user of the case's court
COURT_ADMIN = "court_admin"
MEDIATOR = "mediator"
SYSTEM_ROLE = "system"
MINISTRY = "ministry"

Guard = Callable[[Case, Actor, dict], Optional[str]]


@dataclass(frozen=True)
class Transition:
    event: str
    label: object
    sources: frozenset
    target: Optional[S]  # None: the case is deleted
    who: frozenset
    guards: tuple = ()
    effect: Optional[Callable[[Case, Actor, dict], None]] = None
    #: the form fields the event asks for (drives the transition page)
    fields: tuple = ()
    css: str = "btn-default"
    confirm: object = None

    def allowed_for(self, case: Case, actor: Actor) -> bool:
        return (
            (COURT in self.who and actor.is_court_staff_of(case))
            or (COURT_ADMIN in self.who and actor.is_court_admin_of(case))
            or (MEDIATOR in self.who and actor.is_mediator_of(case))
            or (SYSTEM_ROLE in self.who and actor.system)
            or (MINISTRY in self.who and actor.is_ministry_of(case))
        )


# --- guards: each returns None or a translated reason -------------------------

def _chosen_mediator(case, actor, data) -> Optional[str]:
    if not data.get("mediator_id") and not data.get("organisation_id"):
        return _("Choose a mediator or a mediation organisation.")
    return None


def _certified_here(case, actor, data) -> Optional[str]:
    court_id = case.court_id
    mediator_id, org_id = data.get("mediator_id"), data.get("organisation_id")
    if mediator_id and not _is_certified(MediatorCourt, MediatorCourt.mediator_id, mediator_id, court_id):
        return _("The mediator is not certified by this court.")
    if org_id and not _is_certified(OrganisationCourt, OrganisationCourt.organisation_id, org_id, court_id):
        return _("The organisation is not certified by this court.")
    if mediator_id and org_id:
        mediator = db.session.get(Mediator, mediator_id)
        if mediator is not None and mediator.organisation_id != org_id:
            return _("The mediator does not belong to the chosen organisation.")
    return None


def _is_certified(model, column, value, court_id) -> bool:
    return db.session.scalar(
        sa.select(model.id).where(column == value, model.court_id == court_id,
                                  model.status == CertificationStatus.CERTIFIED)
    ) is not None


def _parties_present(case, actor, data) -> Optional[str]:
    roles = {p.role.name for p in case.parties}
    if roles != {"APPLICANT", "RESPONDENT"}:
        return _("A case needs at least one %(a)s and one %(r)s.",
                 a=_party_role_label(case, "APPLICANT"), r=_party_role_label(case, "RESPONDENT"))
    return None


def _party_phones(case, actor, data) -> Optional[str]:
    """[FAQ 3.1]: no assignment while a party's phone is empty; name the party."""
    missing = [f"{_party_role_label(case, p.role.name)}{p.name}" for p in case.parties if not p.phone]
    if missing:
        return _("The mobile number of %(parties)s is empty, so the case cannot be assigned. Edit the "
                 "parties first (an 11-digit placeholder starting with 1 is accepted).",
                 parties="、".join(missing))
    return None


def _party_role_label(case, role_name: str) -> str:
    from ..enums import PartyRole

    return PartyRole[role_name].label_for(case.case_type)


def missing_party_fields(case: Case) -> list[str]:
    """Each party's missing required data, e.g. 申请人张三：身份证号 [FAQ 3.11 注意(1)]."""
    problems = []
    for p in case.parties:
        missing = []
        if not p.phone or not validation.is_mobile(p.phone):
            missing.append(_("mobile number"))
        if p.kind is PartyKind.PERSON and not p.id_number:
            missing.append(_("ID number"))
        if p.kind is PartyKind.ORGANISATION:
            if not p.credit_code:
                missing.append(_("unified social credit code"))
            if not p.legal_representative:
                missing.append(_("legal representative"))
        if missing:
            problems.append(f"{_party_role_label(case, p.role.name)}{p.name}：{'、'.join(missing)}")
    return problems


def _summary_and_plan(case, actor, data) -> Optional[str]:
    missing = []
    if not (case.summary or "").strip():
        missing.append(_("dispute summary"))
    if not (case.plan or "").strip():
        missing.append(_("mediation plan"))
    if missing:
        return _("Fill in the %(fields)s first.", fields="、".join(missing))
    return None


def _parties_complete(case, actor, data) -> Optional[str]:
    problems = missing_party_fields(case)
    if problems:
        return _("Party information is incomplete: %(problems)s", problems="；".join(problems))
    return None


def _agreement_signed(case, actor, data) -> Optional[str]:
    """[FAQ 3.9, 3.11]: an agreement exists and the mediator has signed its latest version."""
    from .agreements import agreement_signed_problem

    return agreement_signed_problem(case)


def _ministry_organisation(case, actor, data) -> Optional[str]:
    """总对总 [FAQ 6.7]: bound to a ministry and certified by this court."""
    org = db.session.get(Organisation, data["organisation_id"]) if data.get("organisation_id") else None
    if org is None:
        return _("Choose a mediation organisation of a ministry.")
    if org.ministry_id is None:
        return _("The organisation is not bound to a ministry.")
    if not _is_certified(OrganisationCourt, OrganisationCourt.organisation_id, org.id, case.court_id):
        return _("The organisation is not certified by this court.")
    return None


def _pre_litigation(case, actor, data) -> Optional[str]:
    if case.case_type is not CaseType.PRE_LITIGATION:
        return _("Only pre-litigation cases are assigned to ministry organisations.")
    return None


def _reason_required(case, actor, data) -> Optional[str]:
    if not (data.get("reason") or "").strip():
        return _("Give the reason.")
    return None


def _has_court(case, actor, data) -> Optional[str]:
    return None if case.court_id else _("The case has no court to return it to.")


def _different_mediator(case, actor, data) -> Optional[str]:
    same_mediator = (data.get("mediator_id") or None) == case.mediator_id
    same_org = (data.get("organisation_id") or None) == case.organisation_id
    if same_mediator and same_org:
        return _("Choose a different mediator or organisation.")
    return None


def _extension_days(case, actor, data) -> Optional[str]:
    days = data.get("days")
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        return _("Extend by 1 to %(n)d days.", n=MAX_EXTENSION_DAYS)
    return None


def _termination_reason(case, actor, data) -> Optional[str]:
    reason = data.get("termination_reason")
    if not isinstance(reason, TerminationReason):
        return _("Choose the reason for terminating.")
    if reason is TerminationReason.OTHER and not (data.get("reason") or "").strip():
        return _("Describe the reason when it is Other.")
    return None


def _accept_court(case, actor, data) -> Optional[str]:
    court_id = data.get("court_id")
    if not court_id:
        return _("Choose the court for this case.")
    if not _is_certified(MediatorCourt, MediatorCourt.mediator_id, actor.scope.mediator_id, court_id):
        return _("You can only choose a court that certified you.")
    return None


def _confirmed(case, actor, data) -> Optional[str]:
    return None if data.get("confirm") else _("Confirm the deletion: it cannot be undone.")


# --- effects -------------------------------------------------------------------

def _today() -> dt.date:
    return utcnow().date()


def _assign(case, actor, data):
    case.mediator = db.session.get(Mediator, data["mediator_id"]) if data.get("mediator_id") else None
    case.organisation = (db.session.get(Organisation, data["organisation_id"])
                         if data.get("organisation_id") else None)
    case.assigned_at = utcnow()
    case.clock_started_on = _today()
    _notify_mediator(case)


def _notify_mediator(case):
    phone = case.mediator.phone if case.mediator else (case.organisation.contact_phone if case.organisation else None)
    if phone:
        send_sms(phone, SmsKind.NOTICE, _("[Court Mediation Platform] Case %(number)s (%(cause)s) was assigned "
                                          "to you by %(court)s.", number=str(case), cause=case.cause,
                                          court=case.court.name if case.court else ""))


def _assign_ministry(case, actor, data):
    from ..outbox import enqueue

    org = db.session.get(Organisation, data["organisation_id"])
    case.organisation = org
    case.mediator = None
    case.assigned_at = utcnow()
    case.clock_started_on = _today()
    db.session.flush()
    enqueue("ministry.assign", org.ministry_id, case.id, {
        "case_number": case.number, "court": case.court.name, "court_code": case.court.code,
        "cause": case.cause, "organisation": org.name, "organisation_credit_code": org.credit_code,
        "parties": [{"role": p.role.name, "name": p.name, "phone": p.phone} for p in case.parties],
        "summary": case.summary or "",
    })


def _ministry_outcome(case, actor, data):
    from ..models import OutboxMessage

    case.closed_at = utcnow()
    if data.get("termination_reason"):
        _terminate(case, actor, data)
    db.session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.case_id == case.id, OutboxMessage.topic == "ministry.assign",
        OutboxMessage.outcome_at.is_(None)).values(outcome_at=utcnow()))


def _accept(case, actor, data):
    court = db.session.get(Court, data["court_id"])
    case.court = court
    case.court_id = court.id
    if not case.number:
        case.number = next_number(court, case.case_type, case.received_on.year)
    case.clock_started_on = _today()


def _decline(case, actor, data):
    case.mediator = None
    case.organisation = None
    case.assigned_at = None
    case.clock_started_on = _today()


def _change(case, actor, data):
    _assign(case, actor, data)


def _extend(case, actor, data):
    case.extended_days = (case.extended_days or 0) + data["days"]


def _terminate(case, actor, data):
    case.termination_reason = data["termination_reason"]
    case.termination_note = (data.get("reason") or "").strip()[:500] or None
    case.closed_at = utcnow()


def _close(case, actor, data):
    case.closed_at = utcnow()


def _apply_close(case, actor, data):
    from .agreements import send_for_signature

    send_for_signature(case)


def _cancel_close(case, actor, data):
    from .agreements import void_party_signatures

    void_party_signatures(case)


def _resume(case, actor, data):
    from .agreements import delete_documents

    delete_documents(case)  # [FAQ 3.9(4)]
    case.termination_reason = None
    case.termination_note = None
    case.closed_at = None


TRANSITIONS: dict[str, Transition] = {t.event: t for t in [
    Transition("assign", _l("Assign"), frozenset({S.TO_ASSIGN}), S.MEDIATING, frozenset({COURT}),
               (_chosen_mediator, _certified_here, _parties_present, _party_phones), _assign,
               ("mediator_id", "organisation_id"), "btn-primary"),
    Transition("assign_ministry", _l("Ministry mediation (总对总)"), frozenset({S.TO_ASSIGN}), S.MEDIATING,
               frozenset({COURT}), (_pre_litigation, _ministry_organisation, _parties_present, _party_phones),
               _assign_ministry, ("organisation_id",), "btn-default"),
    Transition("ministry_success", _l("Record outcome: agreement reached"), frozenset({S.MEDIATING}), S.ENDED,
               frozenset({MINISTRY}), (), _ministry_outcome, (), "btn-primary"),
    Transition("ministry_failure", _l("Record outcome: no agreement"), frozenset({S.MEDIATING}), S.TERMINATED,
               frozenset({MINISTRY}), (_termination_reason,), _ministry_outcome,
               ("termination_reason", "reason"), "btn-warning"),
    Transition("accept", _l("Accept"), frozenset({S.TO_ACCEPT}), S.MEDIATING, frozenset({MEDIATOR}),
               (_accept_court,), _accept, ("court_id",), "btn-primary"),
    Transition("decline", _l("Return / refuse"), frozenset({S.MEDIATING}), S.TO_ASSIGN, frozenset({MEDIATOR}),
               (_reason_required, _has_court), _decline, ("reason",)),
    Transition("change_mediator", _l("Change mediator"), frozenset({S.MEDIATING}), S.MEDIATING,
               frozenset({COURT}), (_chosen_mediator, _certified_here, _different_mediator, _reason_required),
               _change, ("mediator_id", "organisation_id", "reason")),
    Transition("extend", _l("Extend the period"), frozenset({S.MEDIATING}), S.MEDIATING,
               frozenset({COURT, MEDIATOR}), (_extension_days, _reason_required), _extend, ("days", "reason")),
    Transition("apply_close", _l("Apply to close"), frozenset({S.MEDIATING}), S.CLOSE_REQUESTED,
               frozenset({MEDIATOR}), (_summary_and_plan, _parties_complete, _agreement_signed),
               _apply_close, (), "btn-primary"),
    Transition("cancel_close", _l("Cancel close request"), frozenset({S.CLOSE_REQUESTED}), S.MEDIATING,
               frozenset({MEDIATOR}), (), _cancel_close),
    Transition("all_signed", _l("Everyone signed"), frozenset({S.CLOSE_REQUESTED}), S.ENDED,
               frozenset({SYSTEM_ROLE}), (), _close),
    Transition("close", _l("Close the case"), frozenset({S.CLOSE_REQUESTED}), S.ENDED, frozenset({MEDIATOR}),
               (), _close, (), "btn-primary"),
    Transition("terminate", _l("Terminate mediation"), frozenset({S.MEDIATING}), S.TERMINATED,
               frozenset({MEDIATOR}), (_termination_reason,), _terminate, ("termination_reason", "reason"),
               "btn-warning"),
    Transition("resume", _l("Continue mediation"), frozenset({S.CLOSE_REQUESTED, S.ENDED, S.TERMINATED}),
               S.MEDIATING, frozenset({MEDIATOR}), (), _resume, (), "btn-default",
               _l("Continuing deletes the case's agreements and transcripts. Continue?")),
    Transition("delete", _l("Delete"), frozenset(S), None, frozenset({COURT_ADMIN}), (_confirmed,), None,
               ("confirm",), "btn-danger",
               _l("Deleting removes the case with its documents, recordings and signatures and cannot be "
                  "undone. Delete?")),
]}


SYSTEM = Actor(None, Scope(portal=None), system=True)


def available_events(case: Case, actor: Actor) -> list[Transition]:
    """The transitions this actor may take on this case now (drives the buttons)."""
    return [t for t in TRANSITIONS.values() if case.status in t.sources and t.allowed_for(case, actor)]


def refresh_deadline(case: Case) -> None:
    """The current clock's deadline (SPEC §8): 3 working days to designate or
    accept; 30 days of mediation before filing, 15 (7 simple) after, plus
    extensions agreed by the parties."""
    start = case.clock_started_on or case.received_on
    if case.status in (S.TO_ASSIGN, S.TO_ACCEPT):
        days = DESIGNATION_WORKING_DAYS if case.status is S.TO_ASSIGN else ACCEPTANCE_WORKING_DAYS
        case.deadline = add_working_days(start, days)
    elif case.status is S.MEDIATING:
        if case.case_type is CaseType.IN_LITIGATION:
            period = 7 if case.simple_procedure else 15
        else:
            period = 30
        case.deadline = start + dt.timedelta(days=period + (case.extended_days or 0))
    else:
        case.deadline = None


def apply(case: Case, event: str, actor: Actor, expected_version: Optional[int] = None, **data) -> Optional[Case]:
    """Run `event` on `case` for `actor`; raise DomainError (nothing changed) when refused."""
    transition = TRANSITIONS.get(event)
    if transition is None:
        raise DomainError(_("Unknown operation."))
    if expected_version is not None and expected_version != case.version:
        raise CaseConflict(_("The case was changed by someone else. Reload the page and try again."))
    if case.status not in transition.sources:
        raise DomainError(_("A case that is %(status)s cannot be %(event)s.",
                            status=case.status.label, event=str(transition.label)))
    if not transition.allowed_for(case, actor):
        raise NotAllowed(_("You may not %(event)s this case.", event=str(transition.label)))
    problems = [p for p in (g(case, actor, data) for g in transition.guards) if p]
    if problems:
        raise DomainError(" ".join(problems))

    from_status = case.status
    if transition.target is None:
        transition_row(case, event, from_status, None, data.get("reason"))
        db.session.delete(case)
        db.session.flush()
        return None
    before = _columns(case)
    if transition.effect:
        transition.effect(case, actor, data)
    case.status = transition.target
    refresh_deadline(case)
    changed = {k: v for k, v in _columns(case).items() if before.get(k) != v}
    transition_row(case, event, from_status, transition.target, data.get("reason"),
                   {k: before.get(k) for k in changed}, changed)
    skip_generic_audit(case)
    db.session.flush()
    return case


def _columns(case: Case) -> dict:
    from ..audit import plain

    return {c.key: plain(getattr(case, c.key)) for c in Case.__table__.columns if c.key != "version"}
