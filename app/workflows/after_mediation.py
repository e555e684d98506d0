"""After mediation: 司法确认, 出具调解书 and 在线立案, handed to the court intranet [SPEC §3.3, §7, §8].

One machine, `application`, runs every CourtApplication (app/workflows/engine.py):

    (new) ──申请司法确认 (a party, its special agent, or the mediator for a party)──▶ 待对方同意
                          │ ▲
                          │ └──同意 (another party or its special agent; stays 待对方同意)
                          └──各方均已同意 (system, on the last consent)──▶ 待受理
    (new) ──申请出具调解书 (a party, its special agent, or the mediator for a party)──▶ 待受理
    (new) ──在线立案 (the plaintiff, 更多 › 在线立案) ─┐
    (new) ──转在线立案 (the court)──────────────────────┴──▶ 待立案 (待受理 of a filing)

    待受理 ──受理 · 编写调解书 · 立案审查 (court → 内网办案系统, outbox intranet.<kind>)──▶ 已受理
           ──不予受理 (court, reason)──▶ 驳回
    已受理 ──内网结果 (system: the intranet's result API)──▶ 已确认 (司法确认; the 调确 ruling number)
                                                      ──▶ 已出具调解书 (调解书)
                                                      ──▶ 已立案 (在线立案; its 民初 number becomes
                                                             the case's 案号 [FAQ 5.2])
                                                      ──▶ 驳回 (any kind, with the reason)
    已撤回 is a state of the enum that no transition reaches (the FAQ names no withdrawal).

Sources: [FAQ 3.6, 3.15] 司法确认 and the mediator applying for a party; [FAQ 3.4]
调解书 (编写调解书); [FAQ 3.5, 3.16] 在线立案 and 转在线立案 (立案审查); [FAQ 5.1] only
cases not yet filed; [FAQ 5.2] the 民初 number is the 案号; CPL art 205 (a joint
application within 30 days of the agreement taking effect; the number uses 调确);
Rules art 19 (the agreement takes effect when every party signed); CPL art 62 (a
general agent can neither apply nor consent); SPEC §8 (the court's clocks).

Guards (each a translated reason; every refusal is reported and nothing changes):
- 司法确认 and 调解书 only for cases not yet filed — pre-litigation and internet
  mediation, never 立案调解 — that ended with an agreement in effect.
- 司法确认 (and each consent to it) within 30 days of the agreement taking effect.
- 在线立案 only for pre-litigation or internet cases that failed (调解终止), with
  the claims and the facts.
- One open application per case and kind; none after it succeeded.
- 司法确认 or 调解书, not both: once one succeeded the other is refused, saying which.

An application that does not exist yet has no state: the four apply rows come
from the engine's `NEW`, and `apply_for` builds the row outside the session and
hands it to `MACHINE.create`, which checks who and every guard, sets the first
state and inserts the row, audited like every other transition.
`available_applications` asks the same rows what a person may apply for now
and why not. Results come from the intranet through `receive_result` — the
REST API and the simulated intranet page share it — applied once per
hand-over message id. The application's version column turns a concurrent
second transition into `Conflict`. Functions flush, never commit.

Clocks (SPEC §8, Beijing days from app/clock.py): the court decides on
acceptance within 3 working days of the application becoming 待受理 and rules
within 15 working days of accepting; the same clocks are shown for 调解书 and
在线立案.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import local_date, today, utcnow
from ..enums import AgentType
from ..enums import ApplicationKind as K
from ..enums import ApplicationStatus as A
from ..enums import CaseStatus, CaseType, HandlingPlatform, PartyRole, SmsKind
from ..extensions import db
from ..models import (
    ApplicationConsent,
    Case,
    CaseAgent,
    CaseParty,
    CourtApplication,
    IntranetResult,
    OutboxMessage,
    SimulatedIntranetInbox,
)
from ..outbox import enqueue
from ..roles import Portal
from ..sms import send_sms
from ..workdays import add_working_days
from . import Conflict, DomainError, NotFound
from .actor import SYSTEM, Actor
from .agreements import latest_agreement, signer_identities
from .engine import NEW, Action, Hint, Machine, Transition
from .numbering import next_number

CONFIRMATION_WINDOW_DAYS = 30  # CPL art 205
ACCEPT_WORKING_DAYS = 3  # SPEC §8
RULING_WORKING_DAYS = 15  # SPEC §8 (+10 with approval: not modelled)
DUE_WITHIN_DAYS = 2
# The SPC's case-type code for a 司法确认 is in the civil special-procedure family (民特,
# CPL chapter 15 section 6, 确认调解协议案件); SPEC §8 says its number "uses 调确". 民特调确
# keeps both, so the number reads （2026）京0105民特调确12号, with its own yearly
# sequence per court, separate from 民诉前调 [FAQ 5.2].
CONFIRMATION_TYPE_CODE = "民特调确"
NOT_FILED = (CaseType.PRE_LITIGATION, CaseType.INTERNET)
OPEN = frozenset({A.AWAITING_CONSENT, A.PENDING, A.ACCEPTED})
SUCCEEDED = frozenset({A.CONFIRMED, A.ISSUED, A.FILED})
CIVIL_FIRST_INSTANCE = re.compile(r"^（\d{4}）[^（）\s]{1,12}民初\d{1,8}号$")
PARTY_PORTALS = (Portal.PARTY, Portal.AGENT)
#: the apply rows create the application (app/workflows/engine.py `Machine.create`)
FROM_NEW = frozenset({NEW})


@dataclass(frozen=True)
class Applicant:
    """Whom an application or a consent is for: a party, by itself, its agent, the mediator or the court."""

    party: Optional[CaseParty]
    agent: Optional[CaseAgent] = None
    via: str = "party"  # party | agent | mediator | court


# --- who ----------------------------------------------------------------------------

PARTY = "party"  # a party-portal login (the party itself or its agent); which party: the guards
PLAINTIFF = "plaintiff"  # a party-portal login applying for the applicant side (原告) [FAQ 3.16]
MEDIATOR = "mediator"
COURT = "court"
SYSTEM_ROLE = "system"  # the platform, or the intranet through its result API


def _portal_login(actor: Actor) -> bool:
    return actor.scope.portal in PARTY_PORTALS


ROLES = {
    PARTY: lambda a, actor: _portal_login(actor),
    PLAINTIFF: lambda a, actor: (_portal_login(actor) and a.applicant_party is not None
                                 and a.applicant_party.role is PartyRole.APPLICANT),
    MEDIATOR: lambda a, actor: actor.is_mediator_of(a.case),
    COURT: lambda a, actor: actor.is_court_staff_of(a),
    SYSTEM_ROLE: lambda a, actor: actor.system,
}


def acting_for(case: Case, actor: Actor) -> list[Applicant]:
    """The parties a party-portal login acts for in `case`: itself, or those it represents."""
    if not _portal_login(actor) or actor.user_id is None:
        return []
    phone = db.session.scalar(sa.select(User.username).where(User.id == actor.user_id))
    as_agent = actor.scope.portal is Portal.AGENT
    return [Applicant(p, a, "agent" if as_agent else "party")
            for p, a in signer_identities(case, phone or "", as_agent)]


def _via(case: Case, actor: Actor) -> str:
    if actor.is_court_staff_of(case):
        return "court"
    if actor.is_mediator_of(case):
        return "mediator"
    return "agent" if actor.scope.portal is Portal.AGENT else "party"


# --- facts ----------------------------------------------------------------------

def agreement_effective_at(case: Case) -> Optional[dt.datetime]:
    """When the agreement took effect: the last party's signature on its latest version (Rules art 19)."""
    agreement = latest_agreement(case)
    if agreement is None or not case.parties:
        return None
    times = []
    for party in case.parties:
        signed = [s.signed_at for s in agreement.signatures
                  if s.party_id == party.id and s.document_sha256 == agreement.sha256]
        if not signed:
            return None
        times.append(min(signed))
    return max(times)


def confirmation_window_ends(case: Case) -> Optional[dt.date]:
    """The last (Beijing) day a 司法确认 may be applied for (CPL art 205), or None before the agreement is in effect."""
    effective = agreement_effective_at(case)
    return local_date(effective) + dt.timedelta(days=CONFIRMATION_WINDOW_DAYS) if effective else None


def applications_of(case: Case) -> list[CourtApplication]:
    # the case is loaded already: joining it again (and its relations' relations) made a 40-table statement
    # whose planning alone cost PostgreSQL 15-40 ms; the push, if any, loads when shown
    return list(db.session.scalars(sa.select(CourtApplication).where(CourtApplication.case_id == case.id)
                                   .options(sa.orm.lazyload(CourtApplication.case),
                                            sa.orm.lazyload(CourtApplication.outbox_message))
                                   .order_by(CourtApplication.id.desc())))


def _consented(application: CourtApplication, party: CaseParty) -> bool:
    return any(c.party_id == party.id for c in application.consents)


# --- guards: each returns None or a translated reason -----------------------------------
# `offer=True` in the data: asked before the form (the buttons); the guards on what the
# form names — the party applied for, the claims of a filing — wait for it.

def _not_filed(a, actor, data) -> Optional[str]:
    """[FAQ 5.1] a 立案调解 case is already filed."""
    if a.case.case_type is CaseType.IN_LITIGATION:
        return _("An in-litigation mediation case is already filed in the court; %(kind)s cannot be applied "
                 "for.", kind=a.kind.label)
    return None


def _ended_with_agreement(a, actor, data) -> Optional[str]:
    """调解结束 with an agreement every party signed (Rules art 19)."""
    case = a.case
    if case.case_type not in NOT_FILED:
        return None  # `_not_filed` says why
    if case.status is not CaseStatus.ENDED:
        return _("%(kind)s can be applied for only after the mediation ended with an agreement (the case is "
                 "%(status)s).", kind=a.kind.label, status=case.status.label)
    if agreement_effective_at(case) is None:
        return _("The mediation agreement has not taken effect: every party must sign it first.")
    return None


def _failed(a, actor, data) -> Optional[str]:
    """[FAQ 3.5, 3.16] 在线立案 after the mediation failed."""
    case = a.case
    if case.case_type in NOT_FILED and case.status is not CaseStatus.TERMINATED:
        return _("Online filing is available only when the mediation failed or was terminated (the case is "
                 "%(status)s).", status=case.status.label)
    return None


def _within_window(a, actor, data) -> Optional[str]:
    """CPL art 205: within 30 days of the agreement taking effect, counted in Beijing days."""
    effective = agreement_effective_at(a.case)
    if effective is None:
        return None
    ends = local_date(effective) + dt.timedelta(days=CONFIRMATION_WINDOW_DAYS)
    if today() > ends:
        return _("Judicial confirmation must be applied for within %(n)d days of the agreement taking effect "
                 "(it took effect on %(effective)s; the period ended on %(ends)s). The application is refused.",
                 n=CONFIRMATION_WINDOW_DAYS, effective=local_date(effective).isoformat(), ends=ends.isoformat())
    return None


def _no_other_open(a, actor, data) -> Optional[str]:
    for other in applications_of(a.case):
        if other.kind is not a.kind or other is a:
            continue
        if other.status in OPEN:
            return _("The case already has a %(kind)s application (%(status)s).", kind=a.kind.label,
                     status=other.status_label)
        if other.status in SUCCEEDED:
            return _("%(kind)s of this case is already %(status)s.", kind=a.kind.label,
                     status=other.status_label)
    return None


#: 司法确认 and 调解书 are two ways to make one agreement enforceable: once either succeeded, the other is
#: refused (CPL arts 201, 205–206; issue 15 item 13)
EXCLUSIVE = {K.JUDICIAL_CONFIRMATION: K.MEDIATION_DOCUMENT, K.MEDIATION_DOCUMENT: K.JUDICIAL_CONFIRMATION}


def _other_way_not_taken(a, actor, data) -> Optional[str]:
    """A 调解书 for an agreement the court already confirmed (司法确认), or a 司法确认 of one it already
    issued a 调解书 for, is refused, naming the earlier result."""
    other_kind = EXCLUSIVE.get(a.kind)
    for other in applications_of(a.case):
        if other.kind is other_kind and other.status in SUCCEEDED:
            return _("The mediation agreement of this case already has %(other)s (%(status)s%(number)s), which "
                     "makes it enforceable; %(kind)s cannot be applied for as well.", other=other.kind.label,
                     status=other.status_label, number=f"，{other.result_number}" if other.result_number else "",
                     kind=a.kind.label)
    return None


def _for_a_party(a, actor, data) -> Optional[str]:
    """The party applied for (or consenting) is of this case; a portal login is that party or its
    special agent (CPL art 62: a general agent can neither apply nor consent)."""
    if data.get("offer"):
        return None
    applicant: Optional[Applicant] = data.get("applicant")
    party = applicant.party if applicant else None
    if party is None and _portal_login(actor):
        return _("You are not a party of this case.")
    if party is None or party.case_id != a.case.id:
        return _("Choose the party the application is made for.")
    if _portal_login(actor) and not any(x.party.id == party.id and x.agent == applicant.agent
                                        for x in acting_for(a.case, actor)):
        return _("You are not a party of this case.")
    if applicant.via == "agent" and (applicant.agent is None or applicant.agent.party_id != party.id
                                     or applicant.agent.agent_type is not AgentType.SPECIAL):
        return _("A general agent cannot apply or consent; the party itself or a specially authorised agent "
                 "must.")
    return None


def _not_yet_consented(a, actor, data) -> Optional[str]:
    applicant: Optional[Applicant] = data.get("applicant")
    if applicant is not None and applicant.party is not None and _consented(a, applicant.party):
        return _("%(party)s has already consented.", party=applicant.party.name)
    return None


def _everyone_consented(a, actor, data) -> Optional[str]:
    if not all(_consented(a, p) for p in a.case.parties):
        return _("Not every party has consented yet.")
    return None


def _filing_info(a, actor, data) -> Optional[str]:
    if data.get("offer"):
        return None
    if not ((a.claims or "").strip() and (a.facts or "").strip()):
        return _("Fill in the claims and the facts and reasons.")
    return None


def _handling_platform(a, actor, data) -> Optional[str]:
    if not isinstance(data.get("handling_platform"), HandlingPlatform):
        return _("Choose the handling platform (the intranet case-handling system).")
    return None


def _reason_required(a, actor, data) -> Optional[str]:
    if not (data.get("reason") or "").strip():
        return _("Give the reason.")
    return None


def _kind_is(kind: K, target: A):
    """A result (`target`) the intranet returns only for one kind of application."""

    def guard(a, actor, data) -> Optional[str]:
        if a.kind is not kind:
            return _("A %(kind)s application cannot be %(result)s.", kind=a.kind.label, result=target.label)
        return None

    return guard


# --- effects -----------------------------------------------------------------------

def _file(a, actor, data):
    """A 司法确认 carries its applicant's consent and asks the others (the engine inserts the row)."""
    if a.kind is K.JUDICIAL_CONFIRMATION:
        a.consents.append(_consent_row(data["applicant"], actor, data.get("ip")))
        for other in a.case.parties:
            if other.phone and not _consented(a, other):
                send_sms(other.phone, SmsKind.NOTICE, _(
                    "%(name)s applied for judicial confirmation of case %(number)s. "
                    "It is a joint application: please consent in your portal.",
                    name=a.applicant_name, number=str(a.case)))


def _consent(a, actor, data):
    a.consents.append(_consent_row(data["applicant"], actor, data.get("ip")))


def _consent_row(applicant: Applicant, actor: Actor, ip: Optional[str]) -> ApplicationConsent:
    return ApplicationConsent(party_id=applicant.party.id, agent_id=applicant.agent.id if applicant.agent else None,
                              given_via=applicant.via, user_id=actor.user_id, ip=ip, consented_at=utcnow())


def _accept(a, actor, data):
    """受理 → 内网办案系统 [FAQ 3.4–3.6]: the hand-over is written to the outbox in this transaction.

    Nothing is flushed here: the engine's flush writes the application, so a
    second clerk accepting at once gets `Conflict`, not a second hand-over."""
    with db.session.no_autoflush:
        if a.kind is K.JUDICIAL_CONFIRMATION and not a.number:
            a.number = next_number(a.court, CONFIRMATION_TYPE_CODE, today().year)
        a.handling_platform = data["handling_platform"]
        a.accepted_at = utcnow()
        a.accepted_by_id = actor.user_id
        a.outbox_message = hand_over(a)


def _refuse(a, actor, data):
    a.decided_at = utcnow()
    a.result_note = data["reason"].strip()[:500]
    _notify_result(a, A.REJECTED)


def _result(target: A):
    """The intranet's result: the number it returned, the reason of a rejection; the parties are told."""

    def effect(a, actor, data):
        number, reason = data.get("number"), data.get("reason")
        a.decided_at = utcnow()
        a.result_note = reason
        a.result_number = number
        if target is A.FILED:
            a.case.intranet_number = number  # 案号 is the intranet's number [FAQ 5.2]
        elif target is A.CONFIRMED:
            a.result_number = number or a.number
        if a.outbox_message is not None:
            a.outbox_message.outcome_at = a.decided_at
        _notify_result(a, target)

    return effect


def _notify_result(a: CourtApplication, target: A) -> None:
    case = a.case
    if a.kind is K.FILING:
        parties = [p for p in case.parties if p.role is PartyRole.APPLICANT]
    else:
        parties = list(case.parties)
    number = a.result_number or a.number or ""
    # every party reads it: it names who applied, never "your" (the court's 转在线立案 is the court's)
    if a.applied_via == "court":
        body = _("The %(kind)s of case %(case)s that %(court)s started: %(status)s %(number)s %(reason)s",
                 kind=a.kind.label, case=str(case), court=a.court.name if a.court else "",
                 status=target.label_for(a.kind), number=number, reason=a.result_note or "")
    else:
        body = _("The %(kind)s application of %(name)s for case %(case)s: %(status)s %(number)s %(reason)s",
                 kind=a.kind.label, name=a.applicant_name, case=str(case), status=target.label_for(a.kind),
                 number=number, reason=a.result_note or "")
    for phone in sorted({p.phone for p in parties if p.phone}):
        send_sms(phone, SmsKind.NOTICE, " ".join(body.split()))


def _after(a: CourtApplication) -> None:
    """The clock of the new state (SPEC §8). The engine runs it without autoflush: its flush
    writes the change (and turns a stale version into `Conflict`) after its audit row."""
    if a.status is A.PENDING and a.pending_since is None:
        a.pending_since = today()
        a.accept_deadline = add_working_days(a.pending_since, ACCEPT_WORKING_DAYS)
    elif a.status is A.ACCEPTED and a.ruling_deadline is None:
        a.ruling_deadline = add_working_days(today(), RULING_WORKING_DAYS)


TRANSITIONS = [
    Transition(event="apply_confirmation", label=_l("Apply for %(kind)s", kind=K.JUDICIAL_CONFIRMATION.value.label),
               sources=FROM_NEW, target=A.AWAITING_CONSENT, who=frozenset({PARTY, MEDIATOR}),
               guards=(_not_filed, _ended_with_agreement, _within_window, _no_other_open, _other_way_not_taken,
                       _for_a_party),
               effect=_file),
    Transition(event="apply_document", label=_l("Apply for %(kind)s", kind=K.MEDIATION_DOCUMENT.value.label),
               sources=FROM_NEW, target=A.PENDING, who=frozenset({PARTY, MEDIATOR}),
               guards=(_not_filed, _ended_with_agreement, _no_other_open, _other_way_not_taken, _for_a_party),
               effect=_file),
    Transition(event="apply_filing", label=_l("Online filing"), sources=FROM_NEW, target=A.PENDING,
               who=frozenset({PLAINTIFF}), guards=(_not_filed, _failed, _no_other_open, _for_a_party, _filing_info),
               effect=_file),
    Transition(event="transfer_filing", label=_l("Transfer to online filing"), sources=FROM_NEW, target=A.PENDING,
               who=frozenset({COURT}), guards=(_not_filed, _failed, _no_other_open, _filing_info), effect=_file),
    Transition(event="consent", label=_l("Consent"), sources=frozenset({A.AWAITING_CONSENT}),
               target=A.AWAITING_CONSENT, who=frozenset({PARTY}),
               guards=(_for_a_party, _not_yet_consented, _within_window), effect=_consent),
    Transition(event="all_consented", label=_l("Every party consented"), sources=frozenset({A.AWAITING_CONSENT}),
               target=A.PENDING, who=frozenset({SYSTEM_ROLE}), guards=(_everyone_consented,)),
    Transition(event="accept", label=_l("Accept"), sources=frozenset({A.PENDING}), target=A.ACCEPTED,
               who=frozenset({COURT}), guards=(_handling_platform,), effect=_accept),
    Transition(event="refuse", label=_l("Refuse to accept"), sources=frozenset({A.PENDING}), target=A.REJECTED,
               who=frozenset({COURT}), guards=(_reason_required,), effect=_refuse),
    Transition(event="result_confirmed", label=_l("Intranet result: confirmed"), sources=frozenset({A.ACCEPTED}),
               target=A.CONFIRMED, who=frozenset({SYSTEM_ROLE}), guards=(_kind_is(K.JUDICIAL_CONFIRMATION, A.CONFIRMED),),
               effect=_result(A.CONFIRMED)),
    Transition(event="result_issued", label=_l("Intranet result: mediation document issued"),
               sources=frozenset({A.ACCEPTED}), target=A.ISSUED, who=frozenset({SYSTEM_ROLE}),
               guards=(_kind_is(K.MEDIATION_DOCUMENT, A.ISSUED),), effect=_result(A.ISSUED)),
    Transition(event="result_filed", label=_l("Intranet result: filed"), sources=frozenset({A.ACCEPTED}),
               target=A.FILED, who=frozenset({SYSTEM_ROLE}), guards=(_kind_is(K.FILING, A.FILED),),
               effect=_result(A.FILED)),
    Transition(event="result_rejected", label=_l("Intranet result: rejected"), sources=frozenset({A.ACCEPTED}),
               target=A.REJECTED, who=frozenset({SYSTEM_ROLE}), guards=(_reason_required,),
               effect=_result(A.REJECTED)),
]

# how each event looks: its form fields and button
HINTS = {
    "apply_confirmation": Hint(fields=("party_id",), css="btn-primary"),
    "apply_document": Hint(fields=("party_id",), css="btn-primary"),
    "apply_filing": Hint(fields=("party_id", "claims", "facts"), css="btn-primary"),
    "transfer_filing": Hint(fields=("claims", "facts"), css="btn-primary"),
    "consent": Hint(css="btn-primary"),
    "accept": Hint(fields=("handling_platform",), css="btn-primary"),
    "refuse": Hint(fields=("reason",), css="btn-warning"),
}

MACHINE = Machine(
    name="application", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, after=_after, noun=_l("application"),
    conflict_message=_l("The application was changed by someone else. Reload the page and try again."),
)

#: the apply event of each kind, in the order they are tried for an actor
APPLY_EVENTS = {
    K.JUDICIAL_CONFIRMATION: ("apply_confirmation",),
    K.MEDIATION_DOCUMENT: ("apply_document",),
    K.FILING: ("apply_filing", "transfer_filing"),
}
# accepting is named as the FAQ names it for each kind
ACCEPT_LABELS = {
    K.JUDICIAL_CONFIRMATION: _l("Accept"),  # 受理 [FAQ 3.6]
    K.MEDIATION_DOCUMENT: _l("Write the mediation document"),  # 编写调解书 [FAQ 3.4]
    K.FILING: _l("Filing review"),  # 立案审查 [FAQ 3.5]
}
NOTES = {
    K.JUDICIAL_CONFIRMATION: _l("Judicial confirmation is a joint application: after you apply, every other party "
                                "is asked to consent in their portal. It must be applied for within 30 days of the "
                                "agreement taking effect."),
}
VIA_LABELS = {
    "party": _l("by the party"),
    "agent": _l("by the party's agent"),
    "mediator": _l("by the mediator on the party's behalf"),
    "court": _l("transferred by the court"),
}
#: what the intranet may answer → the event it runs
RESULT_EVENTS = {"confirmed": "result_confirmed", "issued": "result_issued", "filed": "result_filed",
                 "rejected": "result_rejected"}


# --- applying -----------------------------------------------------------------------

@dataclass(frozen=True)
class Offer:
    """A kind `actor` may apply for on a case: a button when `reason` is None, else its name and the reason."""

    kind: K
    action: Action
    label: str
    reason: Optional[str]
    note: Optional[str]

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def fields(self) -> tuple:
        return self.action.fields


def _offered(case: Case, kind: K) -> bool:
    """Whether the case's type and state offer `kind` at all (the guards then say why not now)."""
    if case.case_type not in NOT_FILED:
        return False
    if kind is K.FILING:
        return case.status is CaseStatus.TERMINATED
    return case.status is CaseStatus.ENDED


def _draft(case: Case, kind: K, actor: Actor, applicant: Optional[Applicant], claims=None,
           facts=None) -> CourtApplication:
    """The application as it would be filed: outside the session, with no state, until its apply event runs."""
    party = applicant.party if applicant else None
    return CourtApplication(
        case=case, court_id=case.court_id, kind=kind, status=None, applicant_party=party,
        applicant_name=(party.name if party else case.party_names or "")[:100], applied_by_id=actor.user_id,
        applied_via=applicant.via if applicant else _via(case, actor),
        claims=(claims or "").strip() or None, facts=(facts or "").strip() or None)


def _applicant(case: Case, kind: K, actor: Actor, party_id: Optional[int] = None) -> Optional[Applicant]:
    """Whom `actor` applies for: the court for the plaintiff, the mediator for the party chosen,
    a portal login for itself or the party it represents (the plaintiff first, for a filing)."""
    via = _via(case, actor)
    if via == "court":
        return Applicant(next((p for p in case.parties if p.role is PartyRole.APPLICANT), None), None, via)
    if via == "mediator":
        return Applicant(next((p for p in case.parties if p.id == party_id), None), None, via)
    mine = [x for x in acting_for(case, actor) if party_id is None or x.party.id == party_id]
    if kind is K.FILING:
        mine.sort(key=lambda x: x.party.role is not PartyRole.APPLICANT)
    return mine[0] if mine else None


def _event_for(subject: CourtApplication, actor: Actor) -> Optional[str]:
    return next((e for e in APPLY_EVENTS[subject.kind] if MACHINE.may(MACHINE[e], subject, actor)), None)


def application_event(case: Case, kind: K, actor: Actor) -> Optional[str]:
    """The apply event `actor` would use for `kind` on this case; None: they may not apply for it at all."""
    return _event_for(_draft(case, kind, actor, _applicant(case, kind, actor)), actor)


def available_applications(case: Case, actor: Actor) -> list[Offer]:
    """What `actor` may apply for on this case now, and why each other kind the case offers is not open."""
    offers = []
    for kind in K:
        if not _offered(case, kind):
            continue
        applicant = _applicant(case, kind, actor)
        subject = _draft(case, kind, actor, applicant)
        event = _event_for(subject, actor)
        if event is None:
            continue
        problems = MACHINE.refusals(subject, event, actor, applicant=applicant, offer=True)
        action = Action(MACHINE[event], MACHINE.hint(event))
        label = (_("Apply for %(kind)s on a party's behalf", kind=kind.label) if subject.applied_via == "mediator"
                 else action.label)
        note = NOTES.get(kind)
        offers.append(Offer(kind, action, label, " ".join(problems) or None, str(note) if note else None))
    return offers


def offer_for(case: Case, kind: K, actor: Actor) -> Optional[Offer]:
    """The offer of `kind` to `actor` (available or not), None when they may not apply for it here."""
    return next((o for o in available_applications(case, actor) if o.kind is kind), None)


def apply_for(case: Case, kind: K, actor: Actor, party_id: Optional[int] = None, claims: Optional[str] = None,
              facts: Optional[str] = None, ip: Optional[str] = None) -> CourtApplication:
    """申请司法确认 / 申请出具调解书 / 在线立案 / 转在线立案; DomainError (nothing changed) when refused."""
    applicant = _applicant(case, kind, actor, party_id)
    application = _draft(case, kind, actor, applicant, claims, facts)
    event = _event_for(application, actor) or APPLY_EVENTS[kind][0]  # none fits: the engine says who may
    MACHINE.create(application, event, actor, applicant=applicant, ip=ip)
    _pending_when_everyone_consented(application)
    return application


def consent(application: CourtApplication, actor: Actor, ip: Optional[str] = None) -> CourtApplication:
    """同意: one party joins the 司法确认 application; the last consent makes it 待受理."""
    mine = acting_for(application.case, actor)
    pending = [x for x in mine if not _consented(application, x.party)] or mine
    MACHINE.apply(application, "consent", actor, applicant=pending[0] if pending else None, ip=ip)
    _pending_when_everyone_consented(application)
    return application


def _pending_when_everyone_consented(application: CourtApplication) -> None:
    if application.status is A.AWAITING_CONSENT and not MACHINE.refusals(application, "all_consented", SYSTEM):
        MACHINE.apply(application, "all_consented", SYSTEM)


def awaiting_consent(case: Case, actor: Actor) -> list[CourtApplication]:
    """The case's joint applications that wait for the consent of a party this login acts for."""
    mine = acting_for(case, actor)
    return [a for a in applications_of(case)
            if any(x.event == "consent" for x in MACHINE.available(a, actor))
            and any(not _consented(a, x.party) for x in mine)]


# --- the court: 受理 / 编写调解书 / 立案审查, 不予受理 ----------------------------------------

def available_events(application: CourtApplication, actor: Actor) -> list[Action]:
    """What `actor` may do to the application now: the buttons of its page, accepting named per kind."""
    actions = []
    for action in MACHINE.available(application, actor):
        if action.event == "accept":
            action = Action(_relabel(action.transition, ACCEPT_LABELS[application.kind]), action.hint)
        actions.append(action)
    return actions


def _relabel(transition: Transition, label) -> Transition:
    return replace(transition, label=label)


def apply(application: CourtApplication, event: str, actor: Actor, expected_version: Optional[int] = None,
          **data) -> CourtApplication:
    """Run `event` on an existing application for `actor`; DomainError (nothing changed) when refused."""
    return MACHINE.apply(application, event, actor, expected_version, **data)


def hand_over(application: CourtApplication) -> OutboxMessage:
    """The intranet message: plain values, everything the intranet needs to open its own case."""
    case = application.case
    payload = {
        "application_id": application.id,
        "kind": application.kind.code,
        "number": application.number,
        "case_number": case.number,
        "intranet_number": case.intranet_number,
        "court": case.court.name if case.court else None,
        "court_code": case.court.code if case.court else None,
        "cause": case.cause,
        "applicant": application.applicant_name,
        "parties": [{"role": p.role.name, "name": p.name, "phone": p.phone, "id_number": p.id_number}
                    for p in case.parties],
        "summary": case.summary or "",
        "claims": application.claims,
        "facts": application.facts,
        "handling_platform": application.handling_platform.name if application.handling_platform else None,
    }
    if application.kind is not K.FILING:
        agreement = latest_agreement(case)
        payload["agreement_sha256"] = agreement.sha256 if agreement else None
    return enqueue(f"intranet.{application.kind.code}", None, case.id, payload, court_id=application.court_id)


# --- results from the intranet -------------------------------------------------------

#: the result message's fields, as its reasons name them: 消息编号（message_id） to the API, 消息编号 on a screen
RESULT_FIELDS = {"message_id": _l("Message ID"), "result": _l("Result"), "number": _l("Case number"),
                 "reason": _l("Reason")}


def _field_name(field: str, keys: bool) -> str:
    label = RESULT_FIELDS[field]
    return _("%(label)s (%(field)s)", label=label, field=field) if keys else str(label)


def _text_too_long(body: dict, field: str, n: int, keys: bool) -> Optional[str]:
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or len(value) > n):
        return _("%(name)s must be a text of at most %(n)d characters.", name=_field_name(field, keys), n=n)
    return None


def validate_result(body, keys: bool = True) -> Optional[str]:
    """A translated reason why a result message is malformed, or None: a Chinese sentence naming the
    field in Chinese, its JSON key after it (缺少消息编号（message_id）) as the ministry API answers, or
    without the key (缺少消息编号) for a person on a screen (`keys=False`, the simulated intranet)."""
    if not isinstance(body, dict):
        return _("The body must be a JSON object.")

    def name(field):
        return _field_name(field, keys)

    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        return _("%(name)s is required.", name=name("message_id"))
    if len(message_id) > 36:
        return _("%(name)s is at most %(n)d characters.", name=name("message_id"), n=36)
    result = body.get("result")
    if result != "received" and result not in RESULT_EVENTS:
        return _("%(name)s must be received, confirmed, rejected, issued or filed.", name=name("result"))
    problem = _text_too_long(body, "number", 64, keys) or _text_too_long(body, "reason", 500, keys)
    if problem:
        return problem
    number, reason = body.get("number"), body.get("reason")
    if result == "filed" and not CIVIL_FIRST_INSTANCE.match((number or "").strip()):
        return _("A filing result needs the intranet's %(name)s in the 民初 style, e.g. "
                 "（2026）京0105民初123号.", name=name("number"))
    if result == "confirmed" and number and "调确" not in number:
        return _("A judicial confirmation ruling's %(name)s uses 调确.", name=name("number"))
    if result == "rejected" and not (reason or "").strip():
        return _("A rejection needs the %(name)s.", name=name("reason"))
    return None


def receive_result(body, channel: str, court_id: Optional[int] = None, keys: bool = True) -> dict:
    """One receipt or result from the intranet, applied once: a replay answers the first result.

    Raises DomainError (400: malformed), NotFound (404: no such hand-over, or
    another court's) or Conflict (409: the application cannot take this result
    now). The message id is claimed (its IntranetResult row inserted in a
    SAVEPOINT) before anything changes, so the same result arriving twice at
    once is applied by the first request and answered as a duplicate to the
    second, which waited on the unique key.
    """
    problem = validate_result(body, keys)
    if problem:
        raise DomainError(problem)
    message_id = body["message_id"].strip()
    kind = "receipt" if body["result"] == "received" else "result"
    seen = _seen(message_id, kind)
    if seen is not None:
        return {"status": "duplicate", "result": seen.result}
    message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.message_id == message_id,
                                                               OutboxMessage.topic.like("intranet.%")))
    application = db.session.scalar(sa.select(CourtApplication).where(
        CourtApplication.outbox_message_id == message.id)) if message is not None else None
    if application is None or (court_id is not None and application.court_id != court_id):
        raise NotFound(_("No hand-over with this message id."))
    row = IntranetResult(message_id=message_id, kind=kind, channel=channel, payload=body, result="")
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError:
        # the same message arrived twice at once: the other request applied it
        seen = _seen(message_id, kind)
        return {"status": "duplicate", "result": seen.result if seen else ""}
    if kind == "receipt":
        text = "receipt recorded"
    else:
        event = RESULT_EVENTS[body["result"]]
        data = {"number": (body.get("number") or "").strip() or None,
                "reason": (body.get("reason") or "").strip() or None}
        problems = MACHINE.refusals(application, event, SYSTEM, **data)
        if problems:
            raise Conflict(" ".join(problems))
        MACHINE.apply(application, event, SYSTEM, **data)
        text = f"application is now {application.status.code}"
    if message.acknowledged_at is None:
        message.acknowledged_at = utcnow()  # a result implies the intranet had it
    row.result = text
    db.session.flush()
    return {"status": "ok", "result": text, "application_id": application.id,
            "application_status": application.status.code, "number": application.number,
            "result_number": application.result_number}


def _seen(message_id: str, kind: str) -> Optional[IntranetResult]:
    return db.session.scalar(sa.select(IntranetResult).where(IntranetResult.message_id == message_id,
                                                             IntranetResult.kind == kind))


def result_choices(inbox_row: SimulatedIntranetInbox) -> list[tuple[str, str]]:
    """The results the simulated intranet offers for what it received: its kind's success, or rejection."""
    kind = next((k for k in K if k.code == (inbox_row.payload or {}).get("kind")), None)
    success = {K.JUDICIAL_CONFIRMATION: "confirmed", K.MEDIATION_DOCUMENT: "issued", K.FILING: "filed"}
    choices = [success[kind]] if kind else []
    return [(r, MACHINE[RESULT_EVENTS[r]].target.label) for r in choices + ["rejected"]]


def result_label(code: str | None) -> str:
    """A returned result's code (`confirmed`, `rejected` …) as the screen shows it: the state it leads to."""
    event = RESULT_EVENTS.get(code or "")
    return str(MACHINE[event].target.label) if event is not None else ""


def return_simulated_result(inbox_row: SimulatedIntranetInbox, result: str, number: Optional[str],
                            reason: Optional[str], court_id: Optional[int]) -> dict:
    """模拟内网办案系统 returns a result through `receive_result`, as the real intranet's API call does."""
    body = {"message_id": inbox_row.message_id, "result": result, "number": number, "reason": reason}
    answer = receive_result(body, "simulated", court_id, keys=False)  # a person reads the reason
    if answer["status"] == "ok":
        inbox_row.result = answer["result"][:200]
        inbox_row.returned_at = utcnow()
    return answer


# --- deadlines ----------------------------------------------------------------------

def current_deadline(application: CourtApplication) -> Optional[dt.date]:
    if application.status is A.PENDING:
        return application.accept_deadline
    if application.status is A.ACCEPTED:
        return application.ruling_deadline
    return None


def deadline_days(application: CourtApplication) -> Optional[int]:
    """Days left on the running clock (negative: overdue), None when no clock runs."""
    day = current_deadline(application)
    return (day - today()).days if day is not None else None


def due_filter(day: Optional[dt.date] = None):
    """Applications whose running clock ends within DUE_WITHIN_DAYS days, or has ended (SPEC §8)."""
    soon = (day or today()) + dt.timedelta(days=DUE_WITHIN_DAYS)
    return sa.or_(
        sa.and_(CourtApplication.status == A.PENDING, CourtApplication.accept_deadline <= soon),
        sa.and_(CourtApplication.status == A.ACCEPTED, CourtApplication.ruling_deadline <= soon),
    )


def has_own_number(application: CourtApplication) -> bool:
    """A 司法确认 carries its own 调确 number (given on acceptance)."""
    return application.kind is K.JUDICIAL_CONFIRMATION


def consent_rows(application: CourtApplication) -> list[tuple[CaseParty, Optional[ApplicationConsent]]]:
    """Each party of a joint application with its consent (or None); empty for the other kinds."""
    if application.kind is not K.JUDICIAL_CONFIRMATION:
        return []
    given = {c.party_id: c for c in application.consents}
    return [(p, given.get(p.id)) for p in application.case.parties]
