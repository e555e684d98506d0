"""Case intake and editing: numbers, parties, agents, and the lock [SPEC §3, FAQ 3.1, 3.7, 3.8, 5.1].

Intake decides a new case's first state: 待指派 for a case entered by a court
(`prepare_new_case`), 待受理 for an internet application naming its mediator
(`prepare_internet_application`); from there only the case machine moves it
(app/workflows/case_lifecycle.py). A new case gets its platform number as soon
as it has a court (an internet case gets it when the mediator accepts and
picks the court). From 申请结案 on,
a case's data is read-only everywhere [FAQ 3.8]: every edit path calls
`check_editable` first.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

import datetime as dt

import sqlalchemy as sa

from .. import validation
from ..clock import today
from ..enums import CaseSource, CaseStatus, CaseType, CertificationStatus, PartyKind, PartyRole
from ..extensions import db
from ..models import Case, CaseAgent, CaseParty, Court, Mediator, MediatorCourt, OrganisationCourt
from ..security import Scope
from . import Conflict, DomainError, NotAllowed, ValidationFailed
from .deadlines import refresh_deadline
from .engine import flush_or_conflict
from .numbering import next_number

MAX_AGENTS_PER_PARTY = 2  # CPL art 61
#: from 申请结案 on, a case's data is read-only [FAQ 3.8]
LOCKED = frozenset({CaseStatus.CLOSE_REQUESTED, CaseStatus.ENDED, CaseStatus.TERMINATED})


def is_editable(case: Case) -> bool:
    """Whether the case's parties, information and documents may still change [FAQ 3.8]."""
    return case.status not in LOCKED


def party_role_label(case: Case, role: PartyRole) -> str:
    """申请人/被申请人, or 原告/被告 in 立案调解."""
    return role.label_for(case.case_type)


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
            problems.append(f"{party_role_label(case, p.role)}{p.name}：{'、'.join(missing)}")
    return problems


def edit_problem(case: Case) -> str | None:
    """Why the case's data cannot be edited now [FAQ 3.8], or None."""
    if case.status in LOCKED:
        return _("A case that is %(status)s cannot be edited. To change it, the court administrator "
                 "deletes it and enters it again.", status=case.status.label)
    return None


def check_editable(case: Case) -> None:
    problem = edit_problem(case)
    if problem:
        raise DomainError(problem)


def party_edit_problem(case: Case, actor) -> str | None:
    """Why `actor` may not add, edit or remove the case's parties and agents now, or None:
    that is the case's court or its mediator, on the case page, until 申请结案 [FAQ 3.8]."""
    if not (actor.is_court_staff_of(case) or actor.is_mediator_of(case)):
        return _("Only the case's court or its mediator can edit its parties.")
    return edit_problem(case)


def check_party_edit(case: Case, actor) -> None:
    problem = party_edit_problem(case, actor)
    if problem:
        raise NotAllowed(problem) if is_editable(case) else DomainError(problem)


def agent_problem(party: CaseParty, actor, new_agent: CaseAgent | None = None) -> str | None:
    """Why `actor` may not add an agent to `party` now: at most two agents per party (CPL art 61)."""
    problem = party_edit_problem(party.case, actor)
    if problem:
        return problem
    if len([a for a in party.agents if a is not new_agent]) >= MAX_AGENTS_PER_PARTY:
        return _("A party can have at most two agents.")
    return None


def check_case_in_scope(case: Case, scope: Scope) -> None:
    if not scope.is_platform and (case.court_id is None or case.court_id != scope.court_id):
        raise DomainError(_("You can only manage your own court's cases."))


def prepare_new_case(case: Case, scope: Scope, case_type: CaseType, source: CaseSource) -> Case:
    """Fill what the system decides for a case entered on a court screen."""
    if case.court is None and scope.court_id is not None:
        case.court = db.session.get(Court, scope.court_id)  # a court enters its own cases
    court = case.court
    if court is None:
        raise DomainError(_("Choose a court."))
    if not scope.is_platform and court.id != scope.court_id:
        raise DomainError(_("You can only manage your own court's cases."))
    if case.tribunal is not None and case.tribunal.court_id != court.id:
        raise DomainError(_("The tribunal belongs to another court."))
    if case.has_ministry and case.ministry is None:
        raise DomainError(_("Choose the ministry when the case has ministry information."))
    if not case.has_ministry:
        case.ministry = None
    check_intranet_number(case)
    case.case_type = case_type
    case.source = source
    case.received_on = case.received_on or today()
    case.status = CaseStatus.TO_ASSIGN
    case.clock_started_on = case.received_on
    case.party_names = ""
    case.number = next_number(court, case_type, case.received_on.year)
    refresh_deadline(case)
    return case


def intranet_number_problem(case: Case) -> str | None:
    """[FAQ 5.2(2)] the 案号 (the intranet's number) names one case: another case of the same court
    with it is refused, naming that case's platform number."""
    number = (case.intranet_number or "").strip()
    case.intranet_number = number or None
    court_id = case.court.id if case.court is not None else case.court_id
    if not number or court_id is None:
        return None
    query = sa.select(Case.id, Case.number).where(Case.court_id == court_id, Case.intranet_number == number)
    if case.id is not None:
        query = query.where(Case.id != case.id)
    with db.session.no_autoflush:
        other = db.session.execute(query.limit(1)).first()
    if other is not None:
        return _("The case number %(number)s is already used by case %(other)s of this court.",
                 number=number, other=other.number or "")
    return None


def check_intranet_number(case: Case) -> None:
    problem = intranet_number_problem(case)
    if problem:
        raise DomainError(problem)


# --- 新增历史案件 -------------------------------------------------------------------------

#: what a backfilled case may have ended as [FAQ 3.7, 6.6]
HISTORICAL_OUTCOMES = (CaseStatus.ENDED, CaseStatus.TERMINATED)


@dataclass
class Backfill:
    """What the 新增历史案件 form says about how the case went (plain values, checked before saving)."""

    received_on: dt.date | None
    closed_on: dt.date | None
    outcome: CaseStatus | None
    termination_reason: object = None
    mediator: Mediator | None = None
    organisation: object = None
    has_ministry: bool = False
    ministry: object = None


def backfill_problems(b: Backfill, court_id: int | None) -> dict[str, str]:
    """Every problem of a historical case, by form field (the form shows each beside its field and keeps
    what was typed): dates in order and not in the future, an outcome, a reason when terminated, a
    mediator or organisation on the court's roster, the ministry when 部委信息 is 是."""
    problems: dict[str, str] = {}
    received, closed = b.received_on, b.closed_on
    if received is None:
        problems["received_on"] = _("Enter the date the case was received.")
    elif received > today():
        problems["received_on"] = _("The date received cannot be in the future.")
    if closed is None:
        problems["closed_on"] = _("Enter the date the mediation concluded.")
    elif closed > today():
        problems["closed_on"] = _("The date concluded cannot be in the future.")
    elif received is not None and closed < received:
        problems["closed_on"] = _("The date concluded cannot be before the date received (%(received)s).",
                                  received=received.isoformat())
    if b.outcome not in HISTORICAL_OUTCOMES:
        problems["outcome"] = _("Choose how the mediation concluded: mediation ended or mediation terminated.")
    elif b.outcome is CaseStatus.TERMINATED and b.termination_reason is None:
        problems["termination_reason"] = _("A terminated mediation needs the reason for termination.")
    if b.mediator is None and b.organisation is None:
        problems["mediator"] = _("Choose the mediator or the mediation organisation that mediated the case.")
    elif court_id is not None:
        if b.mediator is not None and db.session.scalar(sa.select(MediatorCourt.id).where(
                MediatorCourt.mediator_id == b.mediator.id, MediatorCourt.court_id == court_id,
                MediatorCourt.status == CertificationStatus.CERTIFIED)) is None:
            problems["mediator"] = _("The mediator is not on this court's roster.")
        if b.organisation is not None and db.session.scalar(sa.select(OrganisationCourt.id).where(
                OrganisationCourt.organisation_id == b.organisation.id, OrganisationCourt.court_id == court_id,
                OrganisationCourt.status == CertificationStatus.CERTIFIED)) is None:
            problems["organisation"] = _("The organisation is not on this court's roster.")
    if b.has_ministry and b.ministry is None:
        problems["ministry"] = _("Choose the ministry when the case has ministry information.")
    return problems


def prepare_historical_case(case: Case, scope: Scope, outcome: CaseStatus | None,
                            closed_on: dt.date | None) -> Case:
    """新增历史案件 [FAQ 3.7, 6.6]: a case mediated before (or outside) the platform, recorded as it
    concluded — 调解结束, or 调解终止 with its reason — with its mediator and dates. It enters no
    process: no clock runs (no deadline, so never 临期/超期), nothing is pushed to 总对总, and the
    statistics count it by its own dates."""
    backfill = Backfill(case.received_on, closed_on, outcome, case.termination_reason, case.mediator,
                        case.organisation, case.has_ministry, case.ministry)
    problems = backfill_problems(backfill, case.court.id if case.court else scope.court_id)
    if problems:
        raise ValidationFailed(_("The historical case was not saved."), list(problems.values()))
    prepare_new_case(case, scope, CaseType.PRE_LITIGATION, CaseSource.HISTORICAL)
    case.status = outcome
    if outcome is not CaseStatus.TERMINATED:
        case.termination_reason = None
    case.assigned_at = dt.datetime.combine(case.received_on, dt.time(1, 0))  # 09:00 Beijing, stored as UTC
    case.closed_at = dt.datetime.combine(closed_on, dt.time(8, 30))  # 16:30 Beijing, stored as UTC
    case.clock_started_on = None
    refresh_deadline(case)
    return case


def prepare_internet_application(case: Case, mediator: Mediator) -> Case:
    """互联网调解 [FAQ 5.1]: a party applied online and picked a mediator; the case has no court
    (and no number) until the mediator accepts it and chooses one, within 3 working days (Rules art 12)."""
    case.case_type = CaseType.INTERNET
    case.source = CaseSource.INTERNET
    case.court = None
    case.mediator = mediator
    case.received_on = case.received_on or today()
    case.status = CaseStatus.TO_ACCEPT
    case.clock_started_on = case.received_on
    case.party_names = ""
    refresh_deadline(case)
    return case


def refresh_party_names(case: Case, leaving: CaseParty | None = None) -> None:
    """The searchable 当事人 column of the case lists (`leaving`: a party being removed)."""
    case.party_names = "、".join(p.name for p in case.parties if p is not leaving)[:500]


def other_side_problem(case: Case, role: PartyRole, phone: str | None, agent: CaseAgent | None = None) -> str | None:
    """One phone is one portal login: the agent of one side (`agent`, for a party of `role`) cannot
    use the mobile number of a party or agent of the other side, nor a party of one side the number of
    the other side's agent — the login would act for both sides (CPL art 61: an agent acts for its party)."""
    if not phone:
        return None
    with db.session.no_autoflush:  # the row being saved is half-built (a FAB pre_add / pre_update)
        for other in case.parties:
            if other.role is role:
                continue
            if agent is not None and other.phone == phone:
                return _("%(phone)s is the mobile number of %(role)s%(name)s on the other side; an agent "
                         "cannot use it.", phone=phone, role=party_role_label(case, other.role), name=other.name)
            for other_agent in other.agents:
                if other_agent is not agent and other_agent.phone == phone:
                    return _("%(phone)s is the mobile number of %(name)s, an agent of the other side.",
                             phone=phone, name=other_agent.name)
    return None


def save_party(party: CaseParty, actor) -> None:
    """A party added or edited on the case page: by the case's court or mediator, until 申请结案."""
    check_party_edit(party.case, actor)
    problem = other_side_problem(party.case, party.role, party.phone)
    if problem:
        raise DomainError(problem)
    refresh_party_names(party.case)


def remove_party(party: CaseParty, actor) -> None:
    check_party_edit(party.case, actor)
    refresh_party_names(party.case, leaving=party)


def save_agent(agent: CaseAgent, actor, new: bool = False) -> None:
    """An agent added (at most two per party, CPL art 61) or edited, until 申请结案."""
    problem = agent_problem(agent.party, actor, agent) if new else party_edit_problem(agent.party.case, actor)
    if problem:
        raise NotAllowed(problem) if is_editable(agent.party.case) else DomainError(problem)
    problem = other_side_problem(agent.party.case, agent.party.role, agent.phone, agent=agent)
    if problem:
        raise DomainError(problem)


def remove_agent(agent: CaseAgent, actor) -> None:
    check_party_edit(agent.party.case, actor)


def mediation_info_problem(case: Case, actor) -> str | None:
    """Why `actor` may not edit the case's 纠纷概况 and 调解方案 now, or None."""
    if not (actor.is_mediator_of(case) or actor.is_court_staff_of(case)):
        return _("Only the case's mediator or court can edit the mediation information.")
    if not is_editable(case):
        return _("A case that is %(status)s cannot be edited. To change it, the court administrator "
                 "deletes it and enters it again.", status=case.status.label)
    return None


def edit_mediation_info(case: Case, actor, summary: str, plan: str, expected_version: int | None) -> Case:
    """纠纷概况 and 调解方案 [FAQ 3.9], by the case's mediator or court, on the version the form showed."""
    problem = mediation_info_problem(case, actor)
    if problem:
        raise NotAllowed(problem) if is_editable(case) else DomainError(problem)
    if expected_version != case.version:
        raise Conflict(_("The case was changed by someone else. Reload the page and try again."))
    case.summary = (summary or "").strip() or None
    case.plan = (plan or "").strip() or None
    flush_or_conflict(_("The case was changed by someone else. Reload the page and try again."))
    return case
