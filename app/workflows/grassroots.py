"""三进: 纠纷化解 by a grassroots unit's liaison, and the handoff to online mediation [FAQ 7.4; SPEC §5].

    录入 (the liaison's quick entry form: type, place, parties, description) ──▶ 处理中

    处理中 ──化解成功 (result note, optional)──▶ 化解成功      ┐ closed directly,
      │  ──化解不成功─────────────────────────▶ 化解不成功    ┘ no detailed process
      └───转在线调解──▶ 已转在线调解 ──▶ a 诉前委派调解 case at the unit's court (and tribunal),
                                         待指派, source 基层治理, carrying the parties and the
                                         description; the dispute links to it (SPEC §3 sources)
    化解成功 / 化解不成功 / 已转在线调解 are final: no event leaves them.

Who: only the unit's own 司法联络员 acts on its disputes [FAQ 7.2, 7.4].

The table is run by the one engine (app/workflows/engine.py): state, who,
then the effect and one audit row. The dispute's version column makes a
second transition of the same dispute — a double click, or two hand-offs at
the same moment — a `Conflict` that rolls back with everything its request
did, the case it was creating included: a hand-off creates exactly one case.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import clock, validation
from ..clock import utcnow
from ..enums import CaseSource, CaseStatus, CaseType, DisputeStatus as S, DisputeType, PartyKind, PartyRole
from ..extensions import db
from ..models import Case, CaseParty, Dispute, DisputeParty, GrassrootsUnit
from ..security import Scope
from . import NotAllowed, ValidationFailed
from .actor import Actor
from .agreements import notify_parties
from .case_intake import prepare_new_case, refresh_party_names
from .engine import Hint, Machine, Transition, flush_or_conflict
from .statistics import MAX_PERIOD_DAYS, default_period

LIAISON = "liaison"


def is_liaison_of(unit: Optional[GrassrootsUnit], actor: Actor) -> bool:
    """The unit's own judicial liaison [FAQ 7.2]."""
    return unit is not None and actor.user_id is not None and unit.liaison_user_id == actor.user_id


ROLES = {LIAISON: lambda dispute, actor: is_liaison_of(dispute.unit, actor)}


@dataclass
class PartyInput:
    role: str
    name: str
    phone: str = ""
    id_number: str = ""


def record(unit: GrassrootsUnit, actor: Actor, dispute_type: str, place: str, description: str,
           action_taken: str, parties: list[PartyInput]) -> Dispute:
    """A new dispute (处理中) from the quick entry form; every problem is reported at once."""
    if not is_liaison_of(unit, actor):
        raise NotAllowed(_("Only the unit's judicial liaison can do this."))
    errors = []
    if dispute_type not in DisputeType.__members__:
        errors.append(_("Choose the dispute type."))
    if not (description or "").strip():
        errors.append(_("Describe the dispute."))
    named = [p for p in parties if p.name.strip()]
    if not named:
        errors.append(_("Enter at least one party."))
    for i, p in enumerate(named, start=1):
        phone = validation.normalize_phone(p.phone) if p.phone else ""
        if phone and not validation.is_mobile(phone):
            errors.append(_("Party %(n)d: the mobile number must be 11 digits starting with 1.", n=i))
        if p.id_number and not validation.is_id_number(p.id_number):
            errors.append(_("Party %(n)d: the ID number is invalid.", n=i))
        if p.role not in PartyRole.__members__:
            errors.append(_("Party %(n)d: choose applicant or respondent.", n=i))
    if errors:
        raise ValidationFailed(_("The dispute was not saved."), errors)
    dispute = Dispute(unit=unit, court_id=unit.court_id, tribunal_id=unit.tribunal_id,
                      dispute_type=DisputeType[dispute_type], place=(place or "").strip()[:200] or None,
                      description=description.strip(), action_taken=(action_taken or "").strip() or None,
                      status=S.PROCESSING)
    for p in named:
        dispute.parties.append(DisputeParty(
            role=PartyRole[p.role], name=p.name.strip()[:100],
            phone=validation.normalize_phone(p.phone) if p.phone else None,
            id_number=validation.normalize_id_number(p.id_number) if p.id_number else None))
    db.session.add(dispute)
    db.session.flush()
    return dispute


# --- effects -------------------------------------------------------------------

def _close(dispute: Dispute, actor: Actor, data: dict) -> None:
    """化解成功 / 化解不成功: closed directly, with the liaison's note [FAQ 7.4]."""
    dispute.result_note = (data.get("note") or "").strip()[:500] or None
    dispute.closed_at = utcnow()


def _hand_off(dispute: Dispute, actor: Actor, data: dict) -> None:
    """转在线调解: a pre-litigation case at the unit's court, carrying the parties and the description."""
    unit = dispute.unit
    case = Case(court=unit.court, tribunal=unit.tribunal, cause=dispute.dispute_type.label,
                summary=dispute.description, grassroots_unit=unit)
    # the platform files it for the unit: the case belongs to the unit's court, not to the liaison
    prepare_new_case(case, Scope(portal=None, is_platform=True), CaseType.PRE_LITIGATION, CaseSource.GRASSROOTS)
    db.session.add(case)
    for p in dispute.parties:
        case.parties.append(CaseParty(role=p.role, kind=PartyKind.PERSON, name=p.name, phone=p.phone,
                                      id_number=p.id_number))
    refresh_party_names(case)
    flush_or_conflict()  # the case's id, for the link the audit row records
    dispute.case = case
    dispute.case_id = case.id
    dispute.closed_at = utcnow()
    notify_parties(case, _(
        "Your dispute (%(cause)s) at %(unit)s was handed to online mediation at %(court)s as case %(number)s. "
        "Log in to the party portal to follow it.", cause=case.cause, unit=unit.name, court=unit.court.name,
        number=str(case)))


TRANSITIONS = [
    Transition(event="resolve", label=_l("Resolved"), sources=frozenset({S.PROCESSING}), target=S.RESOLVED,
               who=frozenset({LIAISON}), effect=_close),
    Transition(event="fail", label=_l("Not resolved"), sources=frozenset({S.PROCESSING}), target=S.UNRESOLVED,
               who=frozenset({LIAISON}), effect=_close),
    Transition(event="hand_off", label=_l("Hand to online mediation"), sources=frozenset({S.PROCESSING}),
               target=S.HANDED_OFF, who=frozenset({LIAISON}), effect=_hand_off),
]

# how each event looks on the liaison's dispute page (big buttons, phone first)
HINTS = {
    "resolve": Hint(fields=("note",), css="btn-success", confirm=_l("Record the dispute as resolved? This ends it.")),
    "fail": Hint(css="btn-default", confirm=_l("Record the dispute as not resolved? This ends it.")),
    "hand_off": Hint(css="btn-primary"),
}
#: the line under a button that says what it leads to
HELP = {
    "hand_off": _l("For deeper communication, video, judicial confirmation or a mediation document: a case is "
                   "created at the court."),
}

MACHINE = Machine(
    name="dispute", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, noun=_l("dispute"),
    conflict_message=_l("The dispute was changed meanwhile. Check it again."),
)


def available_events(dispute: Dispute, actor: Actor):
    """What this actor may do to this dispute now: the buttons of the liaison's dispute page."""
    return MACHINE.available(dispute, actor)


def apply(dispute: Dispute, event: str, actor: Actor, expected_version: Optional[int] = None,
          **data) -> Dispute:
    """Run `event` on `dispute` for `actor`; raise DomainError (nothing changed) when refused."""
    return MACHINE.apply(dispute, event, actor, expected_version, **data)


@dataclass(frozen=True)
class Period:
    """化解统计's period: the disputes recorded from `start` to `end` (Beijing days, both included)."""

    start: dt.date
    end: dt.date

    def where(self, disputes_query: sa.Select) -> sa.Select:
        return disputes_query.where(Dispute.created_at >= clock.day_start(self.start),
                                    Dispute.created_at < clock.day_start(self.end + dt.timedelta(days=1)))

    def args(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_period(args) -> Period:
    """The period of `?start=&end=` (default: 1 January to today, as 案件统计); ValidationFailed on bad input."""
    default_start, default_end = default_period()
    errors, days = [], {}
    for name, label, default in (("start", _("Start date"), default_start), ("end", _("End date"), default_end)):
        text = (args.get(name) or "").strip()
        try:
            days[name] = dt.date.fromisoformat(text) if text else default
        except ValueError:
            errors.append(_("%(field)s is not a date (YYYY-MM-DD).", field=label))
    if not errors:
        if days["start"] > days["end"]:
            errors.append(_("The start date must not be after the end date."))
        elif (days["end"] - days["start"]).days > MAX_PERIOD_DAYS:
            errors.append(_("A report covers at most three years."))
    if errors:
        raise ValidationFailed(_("The figures were not counted:"), errors)
    return Period(days["start"], days["end"])


def figures(disputes_query: sa.Select) -> dict:
    """Counts for a unit or a court: received, resolved locally, not resolved, handed off,
    and what became of the handed-off cases (SPEC §5, for the statistics issue)."""
    sub = disputes_query.subquery()
    by_status = dict(db.session.execute(
        sa.select(sub.c.status, sa.func.count()).group_by(sub.c.status)).all())
    handed = dict(db.session.execute(
        sa.select(Case.status, sa.func.count()).where(Case.id.in_(sa.select(sub.c.case_id)))
        .group_by(Case.status)).all())
    count = lambda s: by_status.get(s, 0) + by_status.get(s.name, 0)  # noqa: E731 - enum or raw name
    return {
        "received": sum(by_status.values()),
        "processing": count(S.PROCESSING),
        "resolved": count(S.RESOLVED),
        "unresolved": count(S.UNRESOLVED),
        "handed_off": count(S.HANDED_OFF),
        "cases": {s: handed.get(s, 0) + handed.get(s.name, 0) for s in CaseStatus},
        "ended": handed.get(CaseStatus.ENDED, 0) + handed.get(CaseStatus.ENDED.name, 0),
        "terminated": handed.get(CaseStatus.TERMINATED, 0) + handed.get(CaseStatus.TERMINATED.name, 0),
    }
