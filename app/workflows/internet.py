"""互联网调解: a party applies online, chooses a mediator, the mediator accepts, the other side
confirms [FAQ 5.1(3); Rules arts 4, 5, 8, 12, 25].

    (new) ──提交申请 (the applicant: dispute, both sides, region, evidence, consent)──▶ 待选择调解员
    待选择调解员 ──选定调解员 (the applicant: a recommendation or from 更多调解员)──▶ 待调解员受理
    待调解员受理 ──受理 (the chosen mediator: picks a court that certified them, declares
                        conflicts of interest; the case number is issued)──▶ 待对方确认
    待调解员受理 ──不予受理 (the chosen mediator, with the reason)──▶ 待选择调解员
    待调解员受理 ──逾期未受理 (the system: 3 working days passed, Rules art 12)──▶ 待选择调解员
    待对方确认 ──同意调解 (the other side, told by SMS)──▶ 对方已同意
    待对方确认 ──拒绝调解 (the other side, with the reason; the case ends 调解终止, Rules art 25)──▶ 对方拒绝调解

The case exists from the application on (待受理, no court, no number): the
court sees it only once the mediator accepted and chose the court, and the
number is issued then (app/workflows/case_lifecycle.py `internet_accept`).
Each step here checks who acts (the applicant by the account that applied,
the chosen mediator, the other side by its login phone) and then runs the
case's row as the system, so the case's states keep one table.

Sources: [FAQ 5.1(3)] 互联网调解 cases come from the parties' applications;
Rules art 4 (consent to online mediation), art 5 (the roster's public
profiles), art 8 (what an application contains), art 12 (3 working days to
accept or decline), art 13 (conflicts, app/workflows/conflicts.py), art 25
(a party refusing mediation ends it).

Recommendations (`recommend`): the certified mediators of the region's
courts, ranked by expertise matching the 案由, their open cases, their
success rate and their timeliness; each comes with the reasons in Chinese.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import validation
from ..clock import today, utcnow
from ..enums import CaseSource, CaseStatus, CaseType, CertificationStatus, MediatorIdentity, PartyKind, PartyRole
from ..enums import SmsKind
from ..enums import InternetStatus as S
from ..extensions import db
from ..models import Case, CaseParty, Court, InternetApplication, Mediator, MediatorCourt, Organisation
from ..roles import PARTY as PARTY_ROLE
from ..roles import Portal
from ..sms import send_sms
from . import DomainError, ValidationFailed
from .accounts import ensure_account
from .actor import SYSTEM, Actor
from .case_intake import refresh_party_names
from .case_lifecycle import apply as case_apply
from .conflicts import declaration_problem, record_declaration
from .deadlines import refresh_deadline
from .engine import NEW, Hint, Machine, Transition
from .evidence import login_phone, upload as upload_evidence

#: 案由 offered to the applicant (民事案件案由规定, the causes courts mediate most)
CAUSES = (
    "买卖合同纠纷", "民间借贷纠纷", "金融借款合同纠纷", "信用卡纠纷", "网络购物合同纠纷", "服务合同纠纷",
    "物业服务合同纠纷", "房屋租赁合同纠纷", "房屋买卖合同纠纷", "装饰装修合同纠纷", "建设工程施工合同纠纷",
    "劳务合同纠纷", "追索劳动报酬纠纷", "机动车交通事故责任纠纷", "医疗损害责任纠纷", "保险合同纠纷",
    "离婚后财产纠纷", "婚姻家庭纠纷", "继承纠纷", "相邻关系纠纷", "人身损害赔偿纠纷", "股权转让纠纷",
    "知识产权合同纠纷", "其他合同纠纷",
)
MAX_AMOUNT = Decimal("1000000000000")
RECOMMENDATIONS = 3
OPEN = (CaseStatus.TO_ACCEPT, CaseStatus.MEDIATING, CaseStatus.CLOSE_REQUESTED)

# --- who ---------------------------------------------------------------------------

APPLICANT = "applicant"
CHOSEN_MEDIATOR = "chosen_mediator"
RESPONDENT = "respondent"
SYSTEM_ROLE = "system"


def is_applicant(app: InternetApplication, actor: Actor) -> bool:
    return (actor.scope.portal is Portal.PARTY and actor.user_id is not None
            and actor.user_id == app.applicant_user_id)


def is_respondent(app: InternetApplication, actor: Actor) -> bool:
    if actor.scope.portal is not Portal.PARTY or app.case is None:
        return False
    phone = login_phone(actor)
    return phone is not None and any(p.role is PartyRole.RESPONDENT and p.phone == phone for p in app.case.parties)


ROLES = {
    APPLICANT: is_applicant,
    CHOSEN_MEDIATOR: lambda app, actor: (actor.scope.mediator_id is not None and app.case is not None
                                         and app.case.mediator_id == actor.scope.mediator_id),
    RESPONDENT: is_respondent,
    SYSTEM_ROLE: lambda app, actor: actor.system,
}


# --- the region and the roster -------------------------------------------------------

def region_key(province: str, city: Optional[str]) -> str:
    return f"{province}/{city or ''}"


def region_label(province: str, city: Optional[str]) -> str:
    return province if not city or city == province else f"{province} · {city}"


def regions() -> list[tuple[str, str]]:
    """(key, label) of every region a court serves, for the application form."""
    rows = db.session.execute(sa.select(Court.province, Court.city).distinct()
                              .order_by(Court.province, Court.city)).all()
    return [(region_key(p, c), region_label(p, c)) for p, c in rows]


def parse_region(key: str) -> Optional[tuple[str, Optional[str]]]:
    for known, _label in regions():
        if known == key:
            province, city = key.split("/", 1)
            return province, city or None
    return None


def region_courts(app: InternetApplication) -> list[Court]:
    """The courts of the application's region (its province and city)."""
    query = sa.select(Court).where(Court.province == app.province)
    query = query.where(Court.city == app.city) if app.city else query.where(Court.city.is_(None))
    return db.session.scalars(query.order_by(Court.id)).all()


def certified_courts(mediator_id: int) -> list[Court]:
    return db.session.scalars(
        sa.select(Court).join(MediatorCourt, MediatorCourt.court_id == Court.id)
        .where(MediatorCourt.mediator_id == mediator_id, MediatorCourt.status == CertificationStatus.CERTIFIED)
        .order_by(Court.id)).all()


def _roster_query(app: InternetApplication):
    """Mediators certified by a court of the application's region."""
    court_ids = [c.id for c in region_courts(app)]
    return (sa.select(Mediator).join(MediatorCourt, MediatorCourt.mediator_id == Mediator.id)
            .where(MediatorCourt.court_id.in_(court_ids), MediatorCourt.status == CertificationStatus.CERTIFIED)
            .distinct())


def eligible(app: InternetApplication, mediator_id) -> bool:
    """Whether the applicant may choose this mediator: on the region's roster, and has not declined it."""
    if not mediator_id or mediator_id in (app.declined_ids or []):
        return False
    return db.session.scalar(_roster_query(app).where(Mediator.id == mediator_id)) is not None


def search_roster(app: InternetApplication, name: str = "", expertise: str = "", court_id: Optional[int] = None,
                  organisation_id: Optional[int] = None) -> list[Mediator]:
    """更多调解员: the region's roster by name, expertise, court and organisation."""
    query = _roster_query(app)
    if name.strip():
        query = query.where(Mediator.name.contains(name.strip()))
    if expertise.strip():
        query = query.where(Mediator.expertise.contains(expertise.strip()))
    if court_id:
        query = query.where(MediatorCourt.court_id == court_id)
    if organisation_id:
        query = query.where(Mediator.organisation_id == organisation_id)
    declined = app.declined_ids or []
    return [m for m in db.session.scalars(query.order_by(Mediator.name)).all() if m.id not in declined]


def roster_organisations(app: InternetApplication) -> list[Organisation]:
    ids = {m.organisation_id for m in db.session.scalars(_roster_query(app)).all() if m.organisation_id}
    return db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids))
                              .order_by(Organisation.name)).all() if ids else []


# --- recommendations ---------------------------------------------------------------

@dataclass
class Figures:
    open_cases: int = 0
    ended: int = 0
    terminated: int = 0
    on_time: int = 0
    days: list = field(default_factory=list)

    @property
    def closed(self) -> int:
        return self.ended + self.terminated

    @property
    def success_rate(self) -> Optional[float]:
        return self.ended / self.closed if self.closed else None

    @property
    def average_days(self) -> Optional[float]:
        return sum(self.days) / len(self.days) if self.days else None


@dataclass
class Recommendation:
    mediator: Mediator
    courts: list
    reasons: list
    score: float
    matched: Optional[str]
    figures: Figures


def _terms(expertise: Optional[str]) -> list[str]:
    return [t for t in re.split(r"[、，,；;/\s]+", expertise or "") if t]


def expertise_match(expertise: Optional[str], cause: str) -> Optional[str]:
    """The expertise term that fits the 案由 (合同纠纷 ~ 买卖合同纠纷), or None."""
    core = cause.replace("纠纷", "")
    for term in _terms(expertise):
        t = term.replace("纠纷", "").replace("调解", "")
        if len(t) >= 2 and (t in cause or core in t):
            return term
    return None


def figures_of(mediator_ids: list[int]) -> dict[int, Figures]:
    """Open cases, outcomes and how long the closed ones took, per mediator."""
    result = {mid: Figures() for mid in mediator_ids}
    if not mediator_ids:
        return result
    rows = db.session.execute(sa.select(Case.mediator_id, Case.status, Case.assigned_at, Case.closed_at)
                              .where(Case.mediator_id.in_(mediator_ids))).all()
    for mid, status, assigned_at, closed_at in rows:
        f = result[mid]
        if status in OPEN:
            f.open_cases += 1
        elif status in (CaseStatus.ENDED, CaseStatus.TERMINATED):
            if status is CaseStatus.ENDED:
                f.ended += 1
            else:
                f.terminated += 1
            if assigned_at and closed_at:
                days = max((closed_at - assigned_at).total_seconds() / 86400, 0)
                f.days.append(days)
                f.on_time += days <= 30
    return result


def reasons_for(mediator: Mediator, courts: list[Court], matched: Optional[str], f: Figures) -> list[str]:
    reasons = []
    if matched:
        reasons.append(_("Expertise matches the cause of action: %(term)s", term=matched))
    elif mediator.expertise:
        reasons.append(_("Expertise: %(expertise)s", expertise=mediator.expertise))
    names = "、".join(c.name for c in courts)
    # 特邀 is an invited mediator's standing; a judge or other mediator is only on the court's roster
    reasons.append(_("Invited mediator of %(courts)s", courts=names) if mediator.identity is MediatorIdentity.INVITED
                   else _("On the roster of %(courts)s", courts=names))
    if mediator.organisation:
        reasons.append(_("Member of %(org)s", org=mediator.organisation.name))
    reasons.append(_("%(n)d open cases now", n=f.open_cases))
    if f.success_rate is None:
        reasons.append(_("No closed cases yet"))
    else:
        reasons.append(_("Success rate %(rate)d%% (%(n)d closed cases)", rate=round(f.success_rate * 100),
                         n=f.closed))
    if f.average_days is not None:
        reasons.append(_("Closes a case in %(days)d days on average", days=round(f.average_days)))
    return reasons


def recommend(app: InternetApplication, limit: int = RECOMMENDATIONS) -> list[Recommendation]:
    """The best `limit` mediators of the region's roster for this application, each with its reasons."""
    mediators = search_roster(app)
    region_ids = {c.id for c in region_courts(app)}
    stats = figures_of([m.id for m in mediators])
    ranked = []
    for m in mediators:
        f = stats[m.id]
        matched = expertise_match(m.expertise, app.case.cause)
        courts = [c for c in certified_courts(m.id) if c.id in region_ids]
        exact = matched is not None and matched.replace("纠纷", "") == app.case.cause.replace("纠纷", "")
        score = ((4.0 if exact else 3.0 if matched else 0.0) + 2.0 * (f.success_rate if f.success_rate is not None else 0.5)
                 + (1.0 if f.average_days is not None and f.average_days <= 30 else 0.0)
                 - 0.2 * min(f.open_cases, 10))
        ranked.append(Recommendation(m, courts, reasons_for(m, courts, matched, f), score, matched, f))
    ranked.sort(key=lambda r: (-r.score, r.figures.open_cases, r.mediator.name))
    return ranked[:limit]


def profile(mediator: Mediator) -> dict:
    """The public profile (Rules art 5): 受理范围, 擅长领域, 是否收费, the courts that invited them."""
    return {
        "mediator": mediator,
        "courts": certified_courts(mediator.id),
        "expertise": mediator.expertise or "",
        "scope_of_work": mediator.scope_of_work or "",
        "charges": mediator.charges,
        "figures": figures_of([mediator.id])[mediator.id],
    }


# --- the application form ----------------------------------------------------------

PARTY_FIELDS = ("kind", "name", "id_number", "legal_representative", "phone")


def _party_problems(side_label: str, data: dict, prefix: str) -> list[str]:
    problems = []
    kind = data.get(f"{prefix}_kind")
    name = (data.get(f"{prefix}_name") or "").strip()
    number = (data.get(f"{prefix}_id_number") or "").strip()
    phone = validation.normalize_phone(data.get(f"{prefix}_phone") or "")
    if kind not in PartyKind.__members__:
        problems.append(_("%(side)s: choose a natural person or an organisation.", side=side_label))
        return problems
    if not name:
        problems.append(_("%(side)s: the name is required.", side=side_label))
    if kind == "PERSON":
        if not validation.is_id_number(number):
            problems.append(_("%(side)s: the ID number is not a valid 18-digit resident ID number.",
                              side=side_label))
    else:
        if not validation.is_credit_code(number):
            problems.append(_("%(side)s: the unified social credit code is not valid.", side=side_label))
        if not (data.get(f"{prefix}_legal_representative") or "").strip():
            problems.append(_("%(side)s: the legal representative is required.", side=side_label))
    if not validation.is_mobile(phone):
        problems.append(_("%(side)s: the mobile number is not an 11-digit mobile number.", side=side_label))
    return problems


def application_problems(data: dict) -> list[str]:
    """Every problem of the application form, field by field [Rules art 8]."""
    problems = []
    if data.get("cause") not in CAUSES:
        problems.append(_("Cause of action: choose one from the list."))
    amount = (data.get("claim_amount") or "").strip()
    if amount:
        try:
            value = Decimal(amount)
            if not value.is_finite() or value < 0 or value >= MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            problems.append(_("Amount in dispute: a number of yuan with at most two decimals."))
    summary = (data.get("summary") or "").strip()
    if not summary:
        problems.append(_("Dispute summary: describe the dispute."))
    elif len(summary) > 2000:
        problems.append(_("Dispute summary: at most 2000 characters."))
    claims = (data.get("claims") or "").strip()
    if not claims:
        problems.append(_("Claims: state what you ask for."))
    elif len(claims) > 2000:
        problems.append(_("Claims: at most 2000 characters."))
    problems += _party_problems(_("Applicant"), data, "applicant")
    problems += _party_problems(_("Respondent"), data, "respondent")
    a_phone = validation.normalize_phone(data.get("applicant_phone") or "")
    r_phone = validation.normalize_phone(data.get("respondent_phone") or "")
    if a_phone and a_phone == r_phone:
        problems.append(_("Respondent: the mobile number is the applicant's own."))
    if parse_region(data.get("region") or "") is None:
        problems.append(_("Region: choose where the dispute is to be mediated."))
    if not data.get("consent"):
        problems.append(_("Consent: agree to mediation online (Rules art 4) to apply."))
    return problems


def _party(role: PartyRole, data: dict, prefix: str) -> CaseParty:
    kind = PartyKind[data[f"{prefix}_kind"]]
    number = (data.get(f"{prefix}_id_number") or "").strip()
    party = CaseParty(role=role, kind=kind, name=data[f"{prefix}_name"].strip()[:100],
                      phone=validation.normalize_phone(data[f"{prefix}_phone"]))
    if kind is PartyKind.PERSON:
        party.id_number = validation.normalize_id_number(number)
    else:
        party.credit_code = validation.normalize_credit_code(number)
        party.legal_representative = data[f"{prefix}_legal_representative"].strip()[:64]
    return party


# --- effects -----------------------------------------------------------------------

def _choose(app, actor, data):
    case_apply(app.case, "internet_choose", SYSTEM, mediator_id=data["mediator_id"])


def _return(app, actor, data):
    app.declined_ids = [*(app.declined_ids or []), app.case.mediator_id]
    case_apply(app.case, "internet_return", SYSTEM, reason=data.get("reason"))
    applicant = next((p for p in app.case.parties if p.role is PartyRole.APPLICANT), None)
    if applicant is not None and applicant.phone:
        send_sms(applicant.phone, SmsKind.NOTICE, _(
            "The mediator you chose did not accept your internet mediation "
            "application (%(cause)s). Please log in and choose another mediator.", cause=app.case.cause))


def _accept(app, actor, data):
    case = app.case
    record_declaration(case, actor.scope.mediator_id, data["conflict"], data.get("disclosure"))
    case_apply(case, "internet_accept", SYSTEM, court_id=data["court_id"])
    for party in case.parties:
        if party.role is PartyRole.RESPONDENT and party.phone:
            ensure_account(party.phone, party.name, [PARTY_ROLE])
            send_sms(party.phone, SmsKind.NOTICE, _(
                "%(applicant)s applied for online mediation of a %(cause)s with you "
                "(case %(number)s, mediator %(mediator)s). Please log in to the party portal to confirm whether "
                "you take part.", applicant="、".join(p.name for p in case.parties if p.role is PartyRole.APPLICANT),
                cause=case.cause, number=case.number, mediator=case.mediator.name))
        elif party.phone:
            send_sms(party.phone, SmsKind.NOTICE, _(
                "Mediator %(mediator)s accepted your internet mediation application; "
                "the case number is %(number)s.", mediator=case.mediator.name, number=case.number))


def _confirm(app, actor, data):
    app.respondent_decided_at = utcnow()
    if app.case.mediator is not None:
        send_sms(app.case.mediator.phone, SmsKind.NOTICE, _(
            "The respondent of case %(number)s agreed to take part in the mediation.",
            number=app.case.number))


def _refuse(app, actor, data):
    app.respondent_decided_at = utcnow()
    app.respondent_reason = data["reason"].strip()[:500]
    case_apply(app.case, "party_refuses", SYSTEM, reason=app.respondent_reason)
    phones = {p.phone for p in app.case.parties if p.role is PartyRole.APPLICANT and p.phone}
    if app.case.mediator is not None:
        phones.add(app.case.mediator.phone)
    for phone in sorted(phones):
        send_sms(phone, SmsKind.NOTICE, _(
            "The respondent refused to take part in the mediation of case %(number)s; "
            "the mediation is terminated.", number=app.case.number))


# --- guards ------------------------------------------------------------------------

def _consented(app, actor, data) -> Optional[str]:
    return None if app.consented_at else _("Consent: agree to mediation online (Rules art 4) to apply.")


def _eligible(app, actor, data) -> Optional[str]:
    if not data.get("mediator_id"):
        return _("Choose a mediator.")
    if data["mediator_id"] in (app.declined_ids or []):
        return _("This mediator already declined the application; choose another one.")
    if not eligible(app, data["mediator_id"]):
        return _("Choose a mediator on the roster of a court of the application's region.")
    return None


def _court_of_mediator(app, actor, data) -> Optional[str]:
    court_id = data.get("court_id")
    if not court_id:
        return _("Choose the court for this case.")
    if court_id not in {c.id for c in certified_courts(actor.scope.mediator_id)}:
        return _("You can only choose a court that certified you.")
    return None


def _declared(app, actor, data) -> Optional[str]:
    return declaration_problem(data.get("conflict"), data.get("disclosure"))


def _reason(app, actor, data) -> Optional[str]:
    return None if (data.get("reason") or "").strip() else _("Give the reason.")


def _overdue(app, actor, data) -> Optional[str]:
    deadline = app.case.deadline
    if deadline is None or deadline >= (data.get("today") or today()):
        return _("The mediator still has time to accept.")
    return None


def _case_mediating(app, actor, data) -> Optional[str]:
    if app.case.status is not CaseStatus.MEDIATING:
        return _("The case is %(status)s.", status=app.case.status.label)
    return None


TRANSITIONS = [
    Transition(event="submit", label=_l("Submit the application"), sources=frozenset({NEW}), target=S.CHOOSING,
               who=frozenset({APPLICANT}), guards=(_consented,)),
    Transition(event="choose", label=_l("Choose this mediator"), sources=frozenset({S.CHOOSING}),
               target=S.WAITING, who=frozenset({APPLICANT}), guards=(_eligible,), effect=_choose),
    Transition(event="accept", label=_l("Accept"), sources=frozenset({S.WAITING}), target=S.ACCEPTED,
               who=frozenset({CHOSEN_MEDIATOR}), guards=(_court_of_mediator, _declared), effect=_accept),
    Transition(event="decline", label=_l("Decline"), sources=frozenset({S.WAITING}), target=S.CHOOSING,
               who=frozenset({CHOSEN_MEDIATOR}), guards=(_reason,), effect=_return),
    Transition(event="expire", label=_l("Not accepted in time"), sources=frozenset({S.WAITING}), target=S.CHOOSING,
               who=frozenset({SYSTEM_ROLE}), guards=(_overdue,), effect=_return),
    Transition(event="confirm", label=_l("Agree to mediation"), sources=frozenset({S.ACCEPTED}),
               target=S.CONFIRMED, who=frozenset({RESPONDENT}), guards=(_case_mediating,), effect=_confirm),
    Transition(event="refuse", label=_l("Refuse mediation"), sources=frozenset({S.ACCEPTED}), target=S.REFUSED,
               who=frozenset({RESPONDENT}), guards=(_case_mediating, _reason), effect=_refuse),
]

HINTS = {
    "choose": Hint(css="btn-primary"),
    "accept": Hint(fields=("court_id", "conflict", "disclosure"), required=("court_id", "conflict"),
                   css="btn-primary"),
    "decline": Hint(fields=("reason",), required=("reason",), css="btn-warning"),
    "confirm": Hint(css="btn-primary"),
    "refuse": Hint(fields=("reason",), required=("reason",), css="btn-warning",
                   confirm=_l("Refusing ends the mediation (调解终止). Continue?")),
}

MACHINE = Machine(name="internet", transitions=TRANSITIONS, roles=ROLES, hints=HINTS,
                  noun=_l("internet mediation application"),
                  conflict_message=_l("The application was changed in the meantime. Reload the page and try again."))


# --- what the screens call -----------------------------------------------------------

def submit(actor: Actor, data: dict, files: list[tuple[str, object]]) -> InternetApplication:
    """The applicant's 互联网调解 application: the case (待受理, no court yet), both parties, the
    evidence. Every problem is listed at once (ValidationFailed) and nothing is kept."""
    if actor.scope.portal is not Portal.PARTY or actor.user_id is None:
        raise DomainError(_("Apply from the party portal."))
    data = {**data, "applicant_phone": login_phone(actor)}
    problems = application_problems(data)
    if problems:
        raise ValidationFailed(_("The application was not submitted. Correct the following:"), problems)
    province, city = parse_region(data["region"])
    amount = (data.get("claim_amount") or "").strip()
    case = Case(case_type=CaseType.INTERNET, source=CaseSource.INTERNET, cause=data["cause"],
                claim_amount=Decimal(amount) if amount else None, summary=data["summary"].strip(),
                status=CaseStatus.TO_ACCEPT, received_on=today(), clock_started_on=today(), party_names="")
    case.parties = [_party(PartyRole.APPLICANT, data, "applicant"), _party(PartyRole.RESPONDENT, data, "respondent")]
    refresh_party_names(case)
    refresh_deadline(case)
    db.session.add(case)
    db.session.flush()
    app = InternetApplication(case=case, case_id=case.id, applicant_user_id=actor.user_id, province=province,
                              city=city, claims=data["claims"].strip(), consented_at=utcnow(), declined_ids=[])
    MACHINE.create(app, "submit", actor)
    errors = []
    for name, stream in files:
        try:
            upload_evidence(case, actor, stream, name)
        except DomainError as exc:
            errors.append(_("Evidence %(name)s: %(problem)s", name=name, problem=exc.message))
    if errors:
        raise ValidationFailed(_("The application was not submitted. Correct the following:"), errors)
    return app


def choose(app: InternetApplication, actor: Actor, mediator_id: Optional[int],
           expected_version: Optional[int] = None) -> InternetApplication:
    return MACHINE.apply(app, "choose", actor, expected_version, mediator_id=mediator_id)


def accept(app: InternetApplication, actor: Actor, court_id: Optional[int], conflict: Optional[str],
           disclosure: Optional[str] = None, expected_version: Optional[int] = None) -> InternetApplication:
    """The chosen mediator accepts, picks the court and declares conflicts (Rules arts 12, 13)."""
    return MACHINE.apply(app, "accept", actor, expected_version, court_id=court_id, conflict=conflict,
                         disclosure=disclosure)


def decline(app: InternetApplication, actor: Actor, reason: str,
            expected_version: Optional[int] = None) -> InternetApplication:
    return MACHINE.apply(app, "decline", actor, expected_version, reason=reason)


def confirm(app: InternetApplication, actor: Actor, expected_version: Optional[int] = None):
    return MACHINE.apply(app, "confirm", actor, expected_version)


def refuse(app: InternetApplication, actor: Actor, reason: str, expected_version: Optional[int] = None):
    return MACHINE.apply(app, "refuse", actor, expected_version, reason=reason)


def expire_overdue(on: Optional[dt.date] = None) -> int:
    """Return to their applicants the applications whose mediator let 3 working days pass
    (Rules art 12); called by `flask worker` each round. Flushes; the caller commits."""
    on = on or today()
    apps = db.session.scalars(
        sa.select(InternetApplication).join(Case, Case.id == InternetApplication.case_id)
        .where(InternetApplication.status == S.WAITING, Case.deadline < on)).all()
    for app in apps:
        MACHINE.apply(app, "expire", SYSTEM, reason="overdue", today=on)
    return len(apps)


def available(app: InternetApplication, actor: Actor):
    """The buttons of the application page for this actor."""
    return MACHINE.available(app, actor)


def application_of(case: Case) -> Optional[InternetApplication]:
    return db.session.scalar(sa.select(InternetApplication).where(InternetApplication.case_id == case.id)
                             .options(sa.orm.lazyload(InternetApplication.case)))  # loaded already


def applications_of_user(user_id: int) -> list[InternetApplication]:
    return db.session.scalars(sa.select(InternetApplication)
                              .where(InternetApplication.applicant_user_id == user_id)
                              .order_by(InternetApplication.id.desc())).all()


def applications_as_respondent(phone: Optional[str]) -> list[InternetApplication]:
    """The applications naming this phone as the other side (shown once a mediator accepted)."""
    if not phone:
        return []
    case_ids = sa.select(CaseParty.case_id).where(CaseParty.phone == phone, CaseParty.role == PartyRole.RESPONDENT)
    return db.session.scalars(sa.select(InternetApplication).where(
        InternetApplication.case_id.in_(case_ids),
        InternetApplication.status.not_in((S.CHOOSING, S.WAITING))).order_by(InternetApplication.id.desc())).all()


def waiting_for(mediator_id: int) -> list[InternetApplication]:
    """The applications waiting for this mediator to accept or decline."""
    return db.session.scalars(
        sa.select(InternetApplication).join(Case, Case.id == InternetApplication.case_id)
        .where(InternetApplication.status == S.WAITING, Case.mediator_id == mediator_id)
        .order_by(Case.deadline, InternetApplication.id)).all()


def visible_to(app: InternetApplication, actor: Actor) -> bool:
    """The applicant, the other side (once a mediator accepted), the chosen mediator, the case's court."""
    if is_applicant(app, actor) or ROLES[CHOSEN_MEDIATOR](app, actor):
        return True
    if is_respondent(app, actor) and app.status not in (S.CHOOSING, S.WAITING):
        return True
    return actor.is_court_staff_of(app.case)
