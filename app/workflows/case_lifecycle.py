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

结案 needs the mediator's signature on the latest agreement, as 申请结案 does; 申请结案,
取消申请结案, 结案 and 录入结果 ask for confirmation first [FAQ 3.9(3)].
调解组织端 (SPEC §1, the organisation's own login [FAQ 6.2]):
    调解中 (assigned to the organisation) ──分派 (the organisation: one of its own mediators, certified
                                            by the case's court, as any mediator it assigns)──▶ 调解中
    the case stays the organisation's; from then on only that mediator works it
    (Actor.is_mediator_of); a 总对总 case is mediated on the ministry's platform, not 分派 here.

Sources: [FAQ 3.1] phones before assignment, [FAQ 3.9, 3.11] closing,
[FAQ 3.12] cancelling, [FAQ 3.9(4)] continuing, [FAQ 3.3] deleting,
[FAQ 3.8] locks, Rules arts 10–14 (clocks, declining, changing the mediator),
art 25 (termination reasons).

互联网调解 [FAQ 5.1(3); Rules arts 8, 12, 14, 25] — the steps of app/workflows/internet.py and
app/workflows/mediator_change.py, which check who may act and run these rows as the system:
    (申请) 待受理 ──选定调解员 (the applicant's choice)──▶ 待受理 (the chosen mediator's 3 working days)
    待受理 ──不予受理 / 逾期未受理 (back to the applicant)──▶ 待受理 (no mediator)
    待受理 ──受理 (互联网调解: the mediator picks the court; the number is issued)──▶ 调解中
    调解中 ──更换调解员 (a party asked; the court or the applicant chose)──▶ 调解中
    调解中 ──拒绝调解 (the other side refuses, or a party refuses a second mediator)──▶ 调解终止
A case with an internet application is accepted through it (`accept` is for the others).

总对总 [FAQ 6.7, 6.3, 6.5]:
    待指派 ──总对总调解 (court: an organisation bound to a ministry and certified here)──▶ 调解中
    调解中 ──录入结果 (the ministry side)──▶ 调解结束 (成功) / 调解终止 (不成功, with the reason)

The table below is run by the one engine (app/workflows/engine.py): state,
who, every guard (all refusals reported together), then the effect, the
deadline of the new state (app/workflows/deadlines.py) and one audit row. The
case's version column turns a concurrent second transition into `Conflict`.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import today, utcnow
from ..enums import CaseStatus as S
from ..enums import CaseSource, CaseType, CertificationStatus, PartyRole, SmsKind, TerminationReason
from ..extensions import db
from ..models import (
    Case,
    Court,
    InternetApplication,
    Mediator,
    MediatorCourt,
    Organisation,
    OrganisationCourt,
    OutboxMessage,
)
from ..outbox import enqueue
from ..sms import send_sms
from . import agreements, recordings
from .actor import SYSTEM, Actor
from .case_intake import missing_party_fields, party_role_label
from .deadlines import refresh_deadline
from .engine import Hint, Machine, Transition
from .numbering import next_number

MAX_EXTENSION_DAYS = 30

# the names `who` uses, and who holds them
COURT = "court"  # any user of the case's court
COURT_ADMIN = "court_admin"
MEDIATOR = "mediator"
SYSTEM_ROLE = "system"
MINISTRY = "ministry"
ORGANISATION = "organisation"

MEDIATOR_NOT_INTERNET = "mediator_not_internet"


def has_internet_application(case) -> bool:
    """Whether the case came from a party's 互联网调解 application (accepted through it)."""
    return case.id is not None and db.session.scalar(
        sa.select(InternetApplication.id).where(InternetApplication.case_id == case.id)) is not None


ROLES = {
    COURT: lambda case, actor: actor.is_court_staff_of(case),
    COURT_ADMIN: lambda case, actor: actor.is_court_admin_of(case),
    MEDIATOR: lambda case, actor: actor.is_mediator_of(case),
    MEDIATOR_NOT_INTERNET: lambda case, actor: actor.is_mediator_of(case) and not has_internet_application(case),
    SYSTEM_ROLE: lambda case, actor: actor.system,
    MINISTRY: lambda case, actor: actor.is_ministry_of(case),
    ORGANISATION: lambda case, actor: actor.is_organisation_of(case),
}

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
                 a=party_role_label(case, PartyRole.APPLICANT), r=party_role_label(case, PartyRole.RESPONDENT))
    return None


def _party_phones(case, actor, data) -> Optional[str]:
    """[FAQ 3.1]: no assignment while a party's phone is empty; name the party."""
    missing = [f"{party_role_label(case, p.role)}{p.name}" for p in case.parties if not p.phone]
    if missing:
        return _("The mobile number of %(parties)s is empty, so the case cannot be assigned. Edit the "
                 "parties first (an 11-digit placeholder starting with 1 is accepted).",
                 parties="、".join(missing))
    return None


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
    return agreements.agreement_signed_problem(case)


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


def _not_backfilled(case, actor, data) -> Optional[str]:
    """A 新增历史案件 records a mediation that concluded elsewhere [FAQ 3.7]: there is nothing to continue."""
    if case.source is CaseSource.HISTORICAL:
        return _("A historical case records a mediation that already concluded; it cannot be mediated again.")
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


def _own_mediator(case, actor, data) -> Optional[str]:
    """分派: a mediator of the case's organisation, with an active account, not the one it has."""
    mediator = db.session.get(Mediator, data["mediator_id"]) if data.get("mediator_id") else None
    if mediator is None:
        return _("Choose one of the organisation's mediators.")
    if mediator.organisation_id is None or mediator.organisation_id != case.organisation_id:
        return _("%(name)s is not a mediator of this organisation.", name=mediator.name)
    if not mediator.user.active:
        return _("%(name)s's account is disabled.", name=mediator.name)
    if mediator.id == case.mediator_id:
        return _("The case is already with %(name)s.", name=mediator.name)
    return None


def _not_with_ministry(case, actor, data) -> Optional[str]:
    """A 总对总 case went to the ministry's platform [FAQ 6.7]: its outcome comes from there."""
    pushed = db.session.scalar(sa.select(OutboxMessage.id).where(
        OutboxMessage.case_id == case.id, OutboxMessage.topic == "ministry.assign").limit(1))
    return _("A ministry (总对总) case is mediated on the ministry's platform.") if pushed else None


def _confirmed(case, actor, data) -> Optional[str]:
    return None if data.get("confirm") else _("Confirm the deletion: it cannot be undone.")


def _mediator_given(case, actor, data) -> Optional[str]:
    return None if data.get("mediator_id") else _("Choose a mediator.")


def _court_given(case, actor, data) -> Optional[str]:
    return None if data.get("court_id") else _("Choose the court for this case.")


# --- effects -------------------------------------------------------------------

def _hand_to(case, data) -> None:
    """The chosen mediator and/or organisation take the case; its clock starts today."""
    case.mediator = db.session.get(Mediator, data["mediator_id"]) if data.get("mediator_id") else None
    case.organisation = (db.session.get(Organisation, data["organisation_id"])
                         if data.get("organisation_id") else None)
    case.assigned_at = utcnow()
    case.clock_started_on = today()
    _notify_mediator(case)


def _assign(case, actor, data):
    _hand_to(case, data)
    _tell_parties_assigned(case)


def _who_mediates(case) -> str:
    return case.mediator.name if case.mediator else (case.organisation.name if case.organisation else "")


def _tell_parties_assigned(case):
    """[FAQ 1.1]: the parties hear of their case by SMS and log in to follow it."""
    agreements.notify_parties(case, _(
        "Your case %(number)s (%(cause)s) was assigned by %(court)s to %(mediator)s for mediation. Log in to the "
        "party portal (agents: the agent portal) to follow it.", number=str(case), cause=case.cause,
        court=case.court.name if case.court else "", mediator=_who_mediates(case)))


def _tell_parties_terminated(case):
    reason = case.termination_reason.label if case.termination_reason else ""
    if case.termination_note:
        reason = f"{reason}（{case.termination_note}）"
    agreements.notify_parties(case, _(
        "The mediation of case %(number)s (%(cause)s) was terminated. Reason: %(reason)s.",
        number=str(case), cause=case.cause, reason=reason))


def _tell_mediator_changed(case, old_mediator, old_organisation):
    """Rules art 14: the parties and the mediator who leaves the case hear who mediates it now."""
    old_name = old_mediator.name if old_mediator else (old_organisation.name if old_organisation else "")
    agreements.notify_parties(case, _(
        "The mediator of case %(number)s (%(cause)s) changed from %(old)s to %(new)s.",
        number=str(case), cause=case.cause, old=old_name, new=_who_mediates(case)))
    old_phone = (old_mediator.phone if old_mediator else
                 old_organisation.contact_phone if old_organisation else None)
    if old_phone:
        send_sms(old_phone, SmsKind.NOTICE, _(
            "Case %(number)s (%(cause)s) is now mediated by %(new)s; you no longer mediate it.",
            number=str(case), cause=case.cause, new=_who_mediates(case)))


def _notify_mediator(case):
    phone = case.mediator.phone if case.mediator else (case.organisation.contact_phone if case.organisation else None)
    if phone:
        send_sms(phone, SmsKind.NOTICE, _("Case %(number)s (%(cause)s) was assigned "
                                          "to you by %(court)s.", number=str(case), cause=case.cause,
                                          court=case.court.name if case.court else ""))


def _assign_ministry(case, actor, data):
    org = db.session.get(Organisation, data["organisation_id"])
    case.organisation = org
    case.mediator = None
    case.assigned_at = utcnow()
    case.clock_started_on = today()
    db.session.flush()
    enqueue("ministry.assign", org.ministry_id, case.id, {
        "case_number": case.number, "court": case.court.name, "court_code": case.court.code,
        "cause": case.cause, "organisation": org.name, "organisation_credit_code": org.credit_code,
        "parties": [{"role": p.role.name, "name": p.name, "phone": p.phone} for p in case.parties],
        "summary": case.summary or "",
    })
    agreements.notify_parties(case, _(
        "Your case %(number)s (%(cause)s) was assigned by %(court)s to %(organisation)s of %(ministry)s "
        "(总对总 mediation); the organisation will contact you.", number=str(case), cause=case.cause,
        court=case.court.name, organisation=org.name, ministry=org.ministry.name if org.ministry else ""))


def _ministry_outcome(case, actor, data):
    case.closed_at = utcnow()
    if data.get("termination_reason"):
        _terminate(case, actor, data)
        _tell_parties_terminated(case)
    db.session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.case_id == case.id, OutboxMessage.topic == "ministry.assign",
        OutboxMessage.outcome_at.is_(None)).values(outcome_at=utcnow()))


def _accept(case, actor, data):
    court = db.session.get(Court, data["court_id"])
    case.court = court
    case.court_id = court.id
    if not case.number:
        case.number = next_number(court, case.case_type, case.received_on.year)
    case.clock_started_on = today()


def _accept_on_case(case, actor, data):
    """受理 of a 待受理 internet case that has no application to answer through (its parties hear here;
    an application's parties hear from app/workflows/internet.py)."""
    _accept(case, actor, data)
    applicants = "、".join(p.name for p in case.parties if p.role is PartyRole.APPLICANT)
    agreements.notify_parties(case, _(
        "Mediator %(mediator)s accepted the internet mediation of %(cause)s applied for by %(applicant)s; the "
        "case number is %(number)s. Log in to the party portal (agents: the agent portal) to follow it.",
        mediator=case.mediator.name if case.mediator else "", cause=case.cause, applicant=applicants,
        number=case.number))


def _dispatch(case, actor, data):
    case.mediator = db.session.get(Mediator, data["mediator_id"])
    send_sms(case.mediator.phone, SmsKind.NOTICE,
             _("Case %(number)s (%(cause)s) was assigned to you by %(organisation)s.",
               number=str(case), cause=case.cause, organisation=case.organisation.name))


def _decline(case, actor, data):
    case.mediator = None
    case.organisation = None
    case.assigned_at = None
    case.clock_started_on = today()


def _change(case, actor, data):
    old_mediator, old_organisation = case.mediator, case.organisation
    _hand_to(case, data)
    _tell_mediator_changed(case, old_mediator, old_organisation)


def _internet_choose(case, actor, data):
    case.mediator = db.session.get(Mediator, data["mediator_id"])
    case.organisation = None
    case.assigned_at = utcnow()
    case.clock_started_on = today()
    send_sms(case.mediator.phone, SmsKind.NOTICE, _(
        "An internet mediation application (%(cause)s) chose you as its mediator. "
        "Please accept or decline it within 3 working days.", cause=case.cause))


def _internet_return(case, actor, data):
    case.mediator = None
    case.organisation = None
    case.assigned_at = None
    case.clock_started_on = today()


def _party_refuses(case, actor, data):
    _terminate(case, actor, {**data, "termination_reason": TerminationReason.REFUSES_MEDIATION})


def _replace_mediator(case, actor, data):
    old_mediator, old_organisation = case.mediator, case.organisation
    case.mediator = db.session.get(Mediator, data["mediator_id"])
    case.organisation = None
    case.assigned_at = utcnow()
    _notify_mediator(case)
    _tell_mediator_changed(case, old_mediator, old_organisation)


def _extend(case, actor, data):
    case.extended_days = (case.extended_days or 0) + data["days"]


def _terminate(case, actor, data):
    case.termination_reason = data["termination_reason"]
    case.termination_note = (data.get("reason") or "").strip()[:500] or None
    case.closed_at = utcnow()


def _terminate_on_case(case, actor, data):
    """终止调解 by the mediator: the parties hear why (Rules art 25)."""
    _terminate(case, actor, data)
    _tell_parties_terminated(case)


def _close(case, actor, data):
    case.closed_at = utcnow()


def _apply_close(case, actor, data):
    agreements.send_for_signature(case)


def _cancel_close(case, actor, data):
    agreements.void_party_signatures(case)


def _delete(case, actor, data):
    # hook: files in the file store are not rows; they go once the deletion commits [FAQ 3.3]
    recordings.delete_case_files(case)
    agreements.delete_case_files(case)


def _resume(case, actor, data):
    agreements.delete_documents(case)  # [FAQ 3.9(4)]
    case.termination_reason = None
    case.termination_note = None
    case.closed_at = None


TRANSITIONS = [
    Transition(event="assign", label=_l("Assign"), sources=frozenset({S.TO_ASSIGN}), target=S.MEDIATING,
               who=frozenset({COURT}),
               guards=(_chosen_mediator, _certified_here, _parties_present, _party_phones), effect=_assign),
    Transition(event="assign_ministry", label=_l("Ministry mediation (总对总)"), sources=frozenset({S.TO_ASSIGN}),
               target=S.MEDIATING, who=frozenset({COURT}), offered_when=(_pre_litigation,),
               guards=(_ministry_organisation, _parties_present, _party_phones),
               effect=_assign_ministry),
    Transition(event="ministry_success", label=_l("Record outcome: agreement reached"),
               sources=frozenset({S.MEDIATING}), target=S.ENDED, who=frozenset({MINISTRY}),
               effect=_ministry_outcome),
    Transition(event="ministry_failure", label=_l("Record outcome: no agreement"),
               sources=frozenset({S.MEDIATING}), target=S.TERMINATED, who=frozenset({MINISTRY}),
               guards=(_termination_reason,), effect=_ministry_outcome),
    Transition(event="accept", label=_l("Accept"), sources=frozenset({S.TO_ACCEPT}), target=S.MEDIATING,
               who=frozenset({MEDIATOR_NOT_INTERNET}), guards=(_accept_court,), effect=_accept_on_case),
    Transition(event="internet_choose", label=_l("Choose the mediator"), sources=frozenset({S.TO_ACCEPT}),
               target=S.TO_ACCEPT, who=frozenset({SYSTEM_ROLE}), guards=(_mediator_given,), effect=_internet_choose),
    Transition(event="internet_return", label=_l("Return to the applicant"), sources=frozenset({S.TO_ACCEPT}),
               target=S.TO_ACCEPT, who=frozenset({SYSTEM_ROLE}), guards=(_reason_required,),
               effect=_internet_return),
    Transition(event="internet_accept", label=_l("Accept"), sources=frozenset({S.TO_ACCEPT}), target=S.MEDIATING,
               who=frozenset({SYSTEM_ROLE}), guards=(_court_given,), effect=_accept),
    Transition(event="replace_mediator", label=_l("Change mediator"), sources=frozenset({S.MEDIATING}),
               target=S.MEDIATING, who=frozenset({SYSTEM_ROLE}), guards=(_mediator_given, _reason_required),
               effect=_replace_mediator),
    Transition(event="party_refuses", label=_l("A party refuses mediation"), sources=frozenset({S.MEDIATING}),
               target=S.TERMINATED, who=frozenset({SYSTEM_ROLE}), guards=(_reason_required,),
               effect=_party_refuses),
    Transition(event="decline", label=_l("Return / refuse"), sources=frozenset({S.MEDIATING}),
               target=S.TO_ASSIGN, who=frozenset({MEDIATOR}), guards=(_reason_required, _has_court),
               effect=_decline),
    Transition(event="change_mediator", label=_l("Change mediator"), sources=frozenset({S.MEDIATING}),
               target=S.MEDIATING, who=frozenset({COURT}),
               guards=(_chosen_mediator, _certified_here, _different_mediator, _reason_required), effect=_change),
    Transition(event="extend", label=_l("Extend the period"), sources=frozenset({S.MEDIATING}),
               target=S.MEDIATING, who=frozenset({COURT, MEDIATOR}), guards=(_extension_days, _reason_required),
               effect=_extend),
    Transition(event="apply_close", label=_l("Apply to close"), sources=frozenset({S.MEDIATING}),
               target=S.CLOSE_REQUESTED, who=frozenset({MEDIATOR}),
               guards=(_summary_and_plan, _parties_complete, _agreement_signed), effect=_apply_close),
    Transition(event="cancel_close", label=_l("Cancel close request"), sources=frozenset({S.CLOSE_REQUESTED}),
               target=S.MEDIATING, who=frozenset({MEDIATOR}), effect=_cancel_close),
    Transition(event="all_signed", label=_l("Everyone signed"), sources=frozenset({S.CLOSE_REQUESTED}),
               target=S.ENDED, who=frozenset({SYSTEM_ROLE}), effect=_close),
    Transition(event="close", label=_l("Close the case"), sources=frozenset({S.CLOSE_REQUESTED}),
               target=S.ENDED, who=frozenset({MEDIATOR}), guards=(_agreement_signed,), effect=_close),
    Transition(event="terminate", label=_l("Terminate mediation"), sources=frozenset({S.MEDIATING}),
               target=S.TERMINATED, who=frozenset({MEDIATOR}), guards=(_termination_reason,),
               effect=_terminate_on_case),
    Transition(event="resume", label=_l("Continue mediation"),
               sources=frozenset({S.CLOSE_REQUESTED, S.ENDED, S.TERMINATED}), target=S.MEDIATING,
               who=frozenset({MEDIATOR}), guards=(_not_backfilled,), effect=_resume),
    Transition(event="dispatch", label=_l("Dispatch to a mediator"), sources=frozenset({S.MEDIATING}),
               target=S.MEDIATING, who=frozenset({ORGANISATION}),
               guards=(_own_mediator, _certified_here, _not_with_ministry),
               effect=_dispatch),
    Transition(event="delete", label=_l("Delete"), sources=frozenset(S), target=None,
               who=frozenset({COURT_ADMIN}), guards=(_confirmed,), effect=_delete),
]

# how each event looks on the case page and its transition form
HINTS = {
    "assign": Hint(fields=("mediator_id", "organisation_id"), css="btn-primary"),
    "assign_ministry": Hint(fields=("organisation_id",), done=lambda case: _(
        "Assigned to %(organisation)s for ministry mediation (总对总): the case goes to the ministry's platform, "
        "whose result comes back here.", organisation=case.organisation.name)),
    "ministry_success": Hint(css="btn-primary", confirm=_l(
        "Record that the parties reached an agreement? The case ends as 调解结束.")),
    "ministry_failure": Hint(fields=("termination_reason", "reason"), required=("termination_reason", "reason"),
                             css="btn-warning", confirm=_l("Record that no agreement was reached? The case ends as 调解终止.")),
    "accept": Hint(fields=("court_id",), required=("court_id",), css="btn-primary"),
    "decline": Hint(fields=("reason",), required=("reason",)),
    "change_mediator": Hint(fields=("mediator_id", "organisation_id", "reason"), required=("reason",)),
    "extend": Hint(fields=("days", "reason"), required=("days", "reason")),
    "apply_close": Hint(css="btn-primary", confirm=_l(
        "Apply to close? The agreement goes to the parties for signing; the case closes when everyone has signed.")),
    "cancel_close": Hint(confirm=_l("Cancel the close request? The parties' signatures are voided.")),
    "close": Hint(css="btn-primary", confirm=_l(
        "Close the case now, without waiting for the remaining signatures? It ends as 调解结束.")),
    "terminate": Hint(fields=("termination_reason", "reason"), required=("termination_reason",), css="btn-warning"),
    "resume": Hint(confirm=_l("Continuing deletes the case's agreements and transcripts. Continue?")),
    "dispatch": Hint(fields=("mediator_id",), required=("mediator_id",), css="btn-primary"),
    "delete": Hint(fields=("confirm",), css="btn-danger",
                   confirm=_l("Deleting removes the case with its documents, recordings and signatures and "
                              "cannot be undone. Delete?")),
}

MACHINE = Machine(
    name="case", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, after=refresh_deadline,
    noun=_l("case"),
    conflict_message=_l("The case was changed by someone else. Reload the page and try again."),
)


def available_events(case: Case, actor: Actor):
    """What this actor may do to this case now: the buttons of the case page."""
    return MACHINE.available(case, actor)


def apply(case: Case, event: str, actor: Actor, expected_version: Optional[int] = None, **data) -> Optional[Case]:
    """Run `event` on `case` for `actor`; raise DomainError (nothing changed) when refused."""
    return MACHINE.apply(case, event, actor, expected_version, **data)


def party_signs(case: Case, actor: Actor, document, image: Optional[bytes], ip: Optional[str],
                user_agent: Optional[str]) -> None:
    """A party (or its special agent) signs a document in its portal; the agreement's last
    signature ends the case (申请结案 → 调解结束, automatic) [FAQ 3.11]."""
    if agreements.party_sign(case, actor, document, image, ip, user_agent):
        apply(case, "all_signed", SYSTEM)
