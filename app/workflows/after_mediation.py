"""After mediation: 司法确认, 出具调解书 and 在线立案, handed to the court intranet [SPEC §3.3, §7, §8].

    司法确认 (a joint application, CPL art 205) [FAQ 3.6, 3.15]:
      a party, its special agent, or the mediator for a party ──申请──▶ 待对方同意
          ──every party consented──▶ 待受理
    出具调解书 [FAQ 3.4, 3.15]:           ──申请──▶ 待受理
    在线立案 [FAQ 3.5, 3.16]: the plaintiff (更多 › 在线立案) or the court (转在线立案) ──▶ 待立案

    待受理 / 待立案 ──受理 · 编写调解书 · 立案审查 (court, 内网办案系统)──▶ 已受理  + outbox intranet.<kind>
                   ──不予受理 (court, reason)──▶ 驳回
    已受理 ──intranet result──▶ 已确认 / 驳回   (司法确认; the ruling carries the 调确 number)
                             ▶ 已出具 / 驳回   (调解书)
                             ▶ 已立案 / 驳回   (在线立案; the 民初 number becomes the case's 案号 [FAQ 5.2])

Guards (each a translated reason; every refusal is reported and nothing changes):
- 司法确认 and 调解书 only for cases not yet filed — pre-litigation and internet
  mediation, never 立案调解 [FAQ 5.1] — that ended with an agreement in effect:
  every party signed its latest version (Rules art 19).
- 司法确认 within 30 days of the agreement taking effect (CPL art 205).
- 在线立案 only for pre-litigation or internet cases that failed (调解终止),
  applied for by the plaintiff (the applicant side) or handed over by the court.
- Acting for a party needs special authorisation (CPL art 62): a general agent
  can neither apply nor consent.
- One open application per case and kind; none after it succeeded.

Clocks (SPEC §8): the court decides on acceptance within 3 working days of
the application becoming 待受理 and rules within 15 working days of
accepting; the same clocks are shown for 调解书 and 在线立案.

Results come from the intranet through `receive_result` — the REST API and
the simulated intranet page share it — idempotent by the hand-over's
message id. Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import skip_generic_audit, transition_row
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
    utcnow,
)
from ..sms import send_sms
from ..workdays import add_working_days
from . import DomainError
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

# accepting is named as the FAQ names it for each kind
ACCEPT_LABELS = {
    K.JUDICIAL_CONFIRMATION: _l("Accept"),  # 受理 [FAQ 3.6]
    K.MEDIATION_DOCUMENT: _l("Write the mediation document"),  # 编写调解书 [FAQ 3.4]
    K.FILING: _l("Filing review"),  # 立案审查 [FAQ 3.5]
}
REFUSE_LABEL = _l("Refuse to accept")

# intranet result → (kinds it may end, target status)
RESULTS = {
    "confirmed": ((K.JUDICIAL_CONFIRMATION,), A.CONFIRMED),
    "rejected": (tuple(K), A.REJECTED),
    "issued": ((K.MEDIATION_DOCUMENT,), A.ISSUED),
    "filed": ((K.FILING,), A.FILED),
}


class NotFound(DomainError):
    status_code = 404


class IllegalTransition(DomainError):
    status_code = 409


@dataclass(frozen=True)
class Applicant:
    """Who submits or consents: a party itself or by its agent, the mediator for a party, or the court."""

    via: str  # party | agent | mediator | court
    user_id: Optional[int]
    party: Optional[CaseParty] = None
    agent: Optional[CaseAgent] = None
    ip: Optional[str] = None


# --- facts ----------------------------------------------------------------------

def agreement_effective_at(case: Case) -> Optional[dt.datetime]:
    """When the agreement took effect: the last party's signature on its latest version (Rules art 19)."""
    from .agreements import latest_agreement

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
    effective = agreement_effective_at(case)
    return effective.date() + dt.timedelta(days=CONFIRMATION_WINDOW_DAYS) if effective else None


def applications_of(case: Case) -> list[CourtApplication]:
    return list(db.session.scalars(sa.select(CourtApplication).where(CourtApplication.case_id == case.id)
                                   .order_by(CourtApplication.id.desc())))


def offered(case: Case, kind: K) -> bool:
    """Whether the case's type and state offer `kind` at all (drives the buttons; the guards decide)."""
    if case.case_type not in NOT_FILED:
        return False
    if kind is K.FILING:
        return case.status is CaseStatus.TERMINATED
    return case.status is CaseStatus.ENDED


# --- guards: each returns None or a translated reason ------------------------------

def _case_type(case: Case, kind: K) -> Optional[str]:
    if case.case_type is CaseType.IN_LITIGATION:
        return _("An in-litigation mediation case is already filed in the court; %(kind)s cannot be applied "
                 "for.", kind=kind.label)
    return None


def _case_state(case: Case, kind: K) -> Optional[str]:
    if kind is K.FILING:
        if case.status is not CaseStatus.TERMINATED:
            return _("Online filing is available only when the mediation failed or was terminated (the case is "
                     "%(status)s).", status=case.status.label)
        return None
    if case.status is not CaseStatus.ENDED:
        return _("%(kind)s can be applied for only after the mediation ended with an agreement (the case is "
                 "%(status)s).", kind=kind.label, status=case.status.label)
    if agreement_effective_at(case) is None:
        return _("The mediation agreement has not taken effect: every party must sign it first.")
    return None


def _window(case: Case, kind: K, today: Optional[dt.date] = None) -> Optional[str]:
    if kind is not K.JUDICIAL_CONFIRMATION:
        return None
    effective = agreement_effective_at(case)
    if effective is None:
        return None
    ends = effective.date() + dt.timedelta(days=CONFIRMATION_WINDOW_DAYS)
    if (today or utcnow().date()) > ends:
        return _("Judicial confirmation must be applied for within %(n)d days of the agreement taking effect "
                 "(it took effect on %(effective)s; the period ended on %(ends)s). The application is refused.",
                 n=CONFIRMATION_WINDOW_DAYS, effective=effective.date().isoformat(), ends=ends.isoformat())
    return None


def _no_other(case: Case, kind: K) -> Optional[str]:
    for other in applications_of(case):
        if other.kind is not kind:
            continue
        if other.status in OPEN:
            return _("The case already has a %(kind)s application (%(status)s).", kind=kind.label,
                     status=other.status_label)
        if other.status in SUCCEEDED:
            return _("%(kind)s of this case is already %(status)s.", kind=kind.label, status=other.status_label)
    return None


def why_not(case: Case, kind: K) -> Optional[str]:
    """Why `kind` cannot be applied for on this case now, whoever asks (None: it can).

    The screens show an offered kind only when this is None, and the reason
    beside it otherwise, so nobody is sent to a form that will refuse them.
    """
    for guard in (_case_type, _case_state, _window, _no_other):
        reason = guard(case, kind)
        if reason:
            return reason
    return None


def _applicant(case: Case, kind: K, who: Applicant, actor) -> Optional[str]:
    if who.via == "court":
        if kind is not K.FILING:
            return _("The court turns only failed cases into filings; parties apply for the other kinds.")
        if actor is None or not actor.is_court_staff_of(case):
            return _("Only the case's court can turn it into an online filing.")
        return None
    if who.via == "mediator":
        if kind is K.FILING:
            return _("Online filing is applied for by the plaintiff or handed over by the court.")
        if actor is None or not actor.is_mediator_of(case):
            return _("Only the case's mediator can apply on a party's behalf.")
    party = who.party
    if party is None or party.case_id != case.id:
        return _("Choose the party the application is made for.")
    if who.via == "agent" and (who.agent is None or who.agent.party_id != party.id
                               or who.agent.agent_type is not AgentType.SPECIAL):
        return _("A general agent cannot apply or consent; the party itself or a specially authorised agent "
                 "must.")
    if kind is K.FILING and party.role is not PartyRole.APPLICANT:
        return _("Only the plaintiff (the applicant side) can apply for online filing.")
    return None


def _filing_info(kind: K, claims: Optional[str], facts: Optional[str]) -> Optional[str]:
    if kind is K.FILING and not ((claims or "").strip() and (facts or "").strip()):
        return _("Fill in the claims and the facts and reasons.")
    return None


def refusals(case: Case, kind: K, who: Applicant, actor=None, claims=None, facts=None) -> list[str]:
    return [p for p in (_case_type(case, kind), _case_state(case, kind) if case.case_type in NOT_FILED else None,
                        _window(case, kind), _no_other(case, kind), _applicant(case, kind, who, actor),
                        _filing_info(kind, claims, facts)) if p]


# --- applying and consenting ----------------------------------------------------------

def apply(case: Case, kind: K, who: Applicant, actor=None, claims: Optional[str] = None,
          facts: Optional[str] = None) -> CourtApplication:
    """申请司法确认 / 申请出具调解书 / 在线立案 / 转在线立案; DomainError (nothing changed) when refused."""
    problems = refusals(case, kind, who, actor, claims, facts)
    if problems:
        raise DomainError(" ".join(problems))
    party = who.party
    if who.via == "court":
        party = next((p for p in case.parties if p.role is PartyRole.APPLICANT), None)
    application = CourtApplication(
        case=case, court_id=case.court_id, kind=kind, status=A.PENDING, applicant_party=party,
        applicant_name=(party.name if party else case.party_names)[:100], applied_by_id=who.user_id,
        applied_via=who.via, applied_at=utcnow(),
        claims=(claims or "").strip() or None, facts=(facts or "").strip() or None)
    db.session.add(application)
    if kind is K.JUDICIAL_CONFIRMATION:
        application.status = A.AWAITING_CONSENT
        application.consents.append(_consent_row(who))
    db.session.flush()
    transition_row(application, "apply", application.status, application.status, None,
                   after={"kind": kind.name, "via": who.via, "party": party.name if party else None})
    if application.status is A.AWAITING_CONSENT:
        if _all_consented(application):
            _to_pending(application, "all_consented")
        else:
            for other in case.parties:
                if other.phone and not _consented(application, other):
                    send_sms(other.phone, SmsKind.NOTICE, _(
                        "[Court Mediation Platform] %(name)s applied for judicial confirmation of case %(number)s. "
                        "It is a joint application: please consent in your portal.",
                        name=application.applicant_name, number=str(case)))
    else:
        _start_accept_clock(application)
    db.session.flush()
    return application


def _consent_row(who: Applicant) -> ApplicationConsent:
    return ApplicationConsent(party_id=who.party.id, agent_id=who.agent.id if who.agent else None,
                              given_via=who.via, user_id=who.user_id, ip=who.ip, consented_at=utcnow())


def _consented(application: CourtApplication, party: CaseParty) -> bool:
    return any(c.party_id == party.id for c in application.consents)


def _all_consented(application: CourtApplication) -> bool:
    return all(_consented(application, p) for p in application.case.parties)


def consent_problem(application: CourtApplication, who: Applicant) -> Optional[str]:
    if application.status is not A.AWAITING_CONSENT:
        return _("This application is not waiting for consent (it is %(status)s).",
                 status=application.status_label)
    case = application.case
    party = who.party
    if party is None or party.case_id != case.id:
        return _("You are not a party of this case.")
    if who.via == "agent" and (who.agent is None or who.agent.agent_type is not AgentType.SPECIAL):
        return _("A general agent cannot apply or consent; the party itself or a specially authorised agent "
                 "must.")
    if _consented(application, party):
        return _("%(party)s has already consented.", party=party.name)
    return _window(case, application.kind)


def consent(application: CourtApplication, who: Applicant) -> CourtApplication:
    """同意: one party joins the 司法确认 application; the last consent makes it 待受理."""
    problem = consent_problem(application, who)
    if problem:
        raise DomainError(problem)
    application.consents.append(_consent_row(who))
    db.session.flush()
    if _all_consented(application):
        _to_pending(application, "all_consented")
    return application


def _to_pending(application: CourtApplication, event: str) -> None:
    before = application.status
    application.status = A.PENDING
    _start_accept_clock(application)
    transition_row(application, event, before, A.PENDING, None)
    skip_generic_audit(application)
    db.session.flush()


def _start_accept_clock(application: CourtApplication) -> None:
    today = utcnow().date()
    application.pending_since = today
    application.accept_deadline = add_working_days(today, ACCEPT_WORKING_DAYS)


# --- the court: 受理 / 编写调解书 / 立案审查, 不予受理 ------------------------------------

@dataclass(frozen=True)
class Step:
    event: str
    label: object
    fields: tuple
    css: str = "btn-primary"


def available_steps(application: CourtApplication, actor) -> list[Step]:
    """The court's buttons on an application now."""
    if application.status is not A.PENDING or not actor.is_court_staff_of(application.case):
        return []
    return [Step("accept", ACCEPT_LABELS[application.kind], ("handling_platform",)),
            Step("refuse", REFUSE_LABEL, ("reason",), "btn-warning")]


def _court_check(application: CourtApplication, actor, expected_version: Optional[int]) -> None:
    if expected_version is not None and expected_version != application.version:
        raise IllegalTransition(_("The application was changed by someone else. Reload the page and try again."))
    if not actor.is_court_staff_of(application.case):
        raise NotFound(_("The application belongs to another court."))
    if application.status is not A.PENDING:
        raise IllegalTransition(_("An application that is %(status)s cannot be accepted or refused.",
                                  status=application.status_label))


def accept(application: CourtApplication, actor, handling_platform: Optional[HandlingPlatform],
           expected_version: Optional[int] = None) -> CourtApplication:
    """受理 → 内网办案系统 [FAQ 3.4–3.6]: the hand-over is written to the outbox in this transaction."""
    _court_check(application, actor, expected_version)
    if not isinstance(handling_platform, HandlingPlatform):
        raise DomainError(_("Choose the handling platform (the intranet case-handling system)."))
    now = utcnow()
    application.handling_platform = handling_platform
    application.accepted_at = now
    application.accepted_by_id = actor.user_id
    application.ruling_deadline = add_working_days(now.date(), RULING_WORKING_DAYS)
    if application.kind is K.JUDICIAL_CONFIRMATION and not application.number:
        application.number = next_number(application.court, CONFIRMATION_TYPE_CODE, now.year)
    application.status = A.ACCEPTED
    db.session.flush()
    application.outbox_message = hand_over(application)
    transition_row(application, "accept", A.PENDING, A.ACCEPTED, None,
                   after={"handling_platform": handling_platform.name, "number": application.number})
    skip_generic_audit(application)
    db.session.flush()
    return application


def refuse(application: CourtApplication, actor, reason: str,
           expected_version: Optional[int] = None) -> CourtApplication:
    """不予受理, with the reason the applicant is told."""
    _court_check(application, actor, expected_version)
    if not (reason or "").strip():
        raise DomainError(_("Give the reason."))
    application.status = A.REJECTED
    application.decided_at = utcnow()
    application.result_note = reason.strip()[:500]
    transition_row(application, "refuse", A.PENDING, A.REJECTED, reason)
    skip_generic_audit(application)
    _notify_result(application)
    db.session.flush()
    return application


def hand_over(application: CourtApplication) -> OutboxMessage:
    """The intranet message: plain values, everything the intranet needs to open its own case."""
    from ..outbox import enqueue

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
        from .agreements import latest_agreement

        agreement = latest_agreement(case)
        payload["agreement_sha256"] = agreement.sha256 if agreement else None
    message = enqueue(f"intranet.{application.kind.code}", None, case.id, payload, court_id=application.court_id)
    db.session.flush()
    return message


# --- results from the intranet -------------------------------------------------------

def validate_result(body) -> Optional[str]:
    """A translated reason why a result message is malformed, or None."""
    if not isinstance(body, dict):
        return _("The body must be a JSON object.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip() or len(message_id) > 36:
        return _("message_id is required (the hand-over's message id, at most 36 characters).")
    result = body.get("result")
    if result != "received" and result not in RESULTS:
        return _("result must be one of: received, confirmed, rejected, issued, filed.")
    number = body.get("number")
    if number is not None and (not isinstance(number, str) or len(number) > 64):
        return _("number must be a text of at most 64 characters.")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        return _("reason must be a text of at most 500 characters.")
    if result == "filed" and not CIVIL_FIRST_INSTANCE.match((number or "").strip()):
        return _("A filing result needs the intranet's case number in the 民初 style, e.g. "
                 "（2026）京0105民初123号.")
    if result == "confirmed" and number and "调确" not in number:
        return _("A judicial confirmation ruling number uses 调确.")
    if result == "rejected" and not (reason or "").strip():
        return _("A rejection needs the reason.")
    return None


def receive_result(body, channel: str, court_id: Optional[int] = None) -> dict:
    """One receipt or result from the intranet, applied once: a replay answers the first result.

    Raises DomainError (400), NotFound (404) or IllegalTransition (409); the
    caller commits (and treats a unique-key race on commit as a duplicate).
    """
    problem = validate_result(body)
    if problem:
        raise DomainError(problem)
    message_id = body["message_id"].strip()
    kind = "receipt" if body["result"] == "received" else "result"
    seen = db.session.scalar(sa.select(IntranetResult).where(IntranetResult.message_id == message_id,
                                                             IntranetResult.kind == kind))
    if seen is not None:
        return {"status": "duplicate", "result": seen.result}
    message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.message_id == message_id,
                                                               OutboxMessage.topic.like("intranet.%")))
    application = db.session.scalar(sa.select(CourtApplication).where(
        CourtApplication.outbox_message_id == message.id)) if message is not None else None
    if application is None or (court_id is not None and application.court_id != court_id):
        raise NotFound(_("No hand-over with this message id."))
    now = utcnow()
    if kind == "receipt":
        if message.acknowledged_at is None:
            message.acknowledged_at = now
        text = "receipt recorded"
    else:
        apply_result(application, body["result"], (body.get("number") or "").strip() or None,
                     (body.get("reason") or "").strip() or None)
        if message.acknowledged_at is None:
            message.acknowledged_at = now  # a result implies the intranet had it
        text = f"application is now {application.status.code}"
    db.session.add(IntranetResult(message_id=message_id, kind=kind, channel=channel, payload=body, result=text))
    db.session.flush()
    return {"status": "ok", "result": text, "application_id": application.id,
            "application_status": application.status.code, "number": application.number,
            "result_number": application.result_number}


def apply_result(application: CourtApplication, result: str, number: Optional[str],
                 reason: Optional[str]) -> CourtApplication:
    kinds, target = RESULTS[result]
    if application.status is not A.ACCEPTED:
        raise IllegalTransition(_("An application that is %(status)s cannot take a result.",
                                  status=application.status_label))
    if application.kind not in kinds:
        raise IllegalTransition(_("A %(kind)s application cannot be %(result)s.", kind=application.kind.label,
                                  result=target.label))
    before = application.status
    application.status = target
    application.decided_at = utcnow()
    application.result_note = reason
    if result == "filed":
        application.result_number = number
        application.case.intranet_number = number  # 案号 is the intranet's number [FAQ 5.2]
    elif result == "confirmed":
        application.result_number = number or application.number
    else:
        application.result_number = number
    if application.outbox_message is not None:
        application.outbox_message.outcome_at = application.decided_at
    transition_row(application, f"result_{result}", before, target, reason,
                   after={"result_number": application.result_number})
    skip_generic_audit(application)
    _notify_result(application)
    db.session.flush()
    return application


def _notify_result(application: CourtApplication) -> None:
    case = application.case
    if application.kind is K.FILING:
        parties = [p for p in case.parties if p.role is PartyRole.APPLICANT]
    else:
        parties = list(case.parties)
    number = application.result_number or application.number or ""
    body = _("[Court Mediation Platform] Your %(kind)s application for case %(case)s: %(status)s %(number)s "
             "%(reason)s", kind=application.kind.label, case=str(case), status=application.status_label,
             number=number, reason=application.result_note or "")
    for phone in sorted({p.phone for p in parties if p.phone}):
        send_sms(phone, SmsKind.NOTICE, " ".join(body.split()))


# --- deadlines ----------------------------------------------------------------------

def current_deadline(application: CourtApplication) -> Optional[dt.date]:
    if application.status is A.PENDING:
        return application.accept_deadline
    if application.status is A.ACCEPTED:
        return application.ruling_deadline
    return None


def due_filter(today: Optional[dt.date] = None):
    """Applications whose running clock ends within DUE_WITHIN_DAYS days, or has ended (SPEC §8)."""
    soon = (today or utcnow().date()) + dt.timedelta(days=DUE_WITHIN_DAYS)
    return sa.or_(
        sa.and_(CourtApplication.status == A.PENDING, CourtApplication.accept_deadline <= soon),
        sa.and_(CourtApplication.status == A.ACCEPTED, CourtApplication.ruling_deadline <= soon),
    )
