"""Court certification of mediators and of mediation organisations — one process, two link rows.

A court's roster is who it certified: `MediatorCourt` (特邀调解员 of that court)
and `OrganisationCourt` (特邀调解组织). Both links run through the one
machine below; only who applies differs.

    (none) ──申请认证 (applicant: court, note)──▶ 待认证 ──通过 (court admin)──────▶ 已认证
    (none) ──新增调解员 / 新增调解组织 (court admin, own roster)──────────────────────▶ 已认证
                                        待认证 ──驳回 (court admin, reason)──▶ 已驳回
                                        已驳回 ──申请认证 (applicant, again)──▶ 待认证

Who applies:
- a mediator, for itself: 我的设置 › 认证法院 › 申请认证 — also how a mediator
  already registered on the platform (self-registered or added by another
  court) joins a further court, since adding their phone again is refused
  [FAQ 3.2, SPEC §2];
- the ministry account an organisation is bound to, inside its region, and
  only for ministries whose `Ministry.certification_path` says the ministry
  side applies (工商联, and 人民银行 the same way): 名册管理 › 调解组织名册管理 ›
  申请法院认证 [FAQ 6.7(1), SPEC §4];
- for the other ministries (总工会, 发改委, 知识产权局, 银保监会, 侨联) the court
  admin adds the organisation to its roster, which certifies it directly, and
  the ministry then binds it (app/workflows/ministry.py) [FAQ 6.7(3)]. A court
  adding a new mediator to its roster certifies them the same way [FAQ 2.2].
Who decides: the court admin of the court applied to, under 特邀调解员认证 /
特邀调解组织认证 › [ministry] › 待认证 [FAQ 3.2, 6.7(2)]; a rejection needs its
reason, which the applicant sees. A decided application is not decided again;
a rejected one may be applied for again.

The rows below run on the one engine (app/workflows/engine.py): state, who,
every guard, then the effect and one audit row; the link's version column
turns a second decision on a stale page into `Conflict`. A link comes into
being in its first state through the rows whose source is the engine's `NEW`
— 申请认证 (待认证) and 新增 (已认证, the court's own addition) — run by
`Machine.create`: a concurrent second first application to the same court
meets the pair's unique key and is a `Conflict`. Nothing translated is
stored: a link the court added has no note (the screens say so: `CertificationLink.note_text`).
"""
from __future__ import annotations

from typing import Optional, Union

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import utcnow
from ..enums import CertificationPath, SmsKind
from ..enums import CertificationStatus as S
from ..extensions import db
from ..models import Court, Mediator, MediatorCourt, Organisation, OrganisationCourt
from ..sms import send_sms
from . import DomainError, NotAllowed
from .actor import Actor
from .engine import NEW, Hint, Machine, Transition
from .ministry import speaks_for

Link = Union[MediatorCourt, OrganisationCourt]
Applicant = Union[Mediator, Organisation]

# the names `who` uses, and who holds them
MEDIATOR = "mediator"  # the mediator of a MediatorCourt, for itself
MINISTRY = "ministry"  # the ministry account an organisation is bound to, in its region
COURT_ADMIN = "court_admin"  # the admin of the court applied to

ROLES = {
    MEDIATOR: lambda link, actor: (isinstance(link, MediatorCourt) and actor.scope.mediator_id is not None
                                   and link.mediator_id == actor.scope.mediator_id),
    MINISTRY: lambda link, actor: isinstance(link, OrganisationCourt) and speaks_for(link.organisation, actor),
    COURT_ADMIN: lambda link, actor: actor.is_court_admin_of(link),
}


# --- guards: each returns None or a translated reason -------------------------

def _ministry_side_applies(link, actor, data) -> Optional[str]:
    """[FAQ 6.7(1), (3)]: only a ministry whose path is "the ministry side applies" applies."""
    if not isinstance(link, OrganisationCourt):
        return None
    ministry = link.organisation.ministry
    if ministry is not None and ministry.certification_path is not CertificationPath.MINISTRY_APPLIES:
        return _("For %(ministry)s the court adds the organisation to its roster; the ministry then "
                 "binds it.", ministry=ministry.name)
    return None


def _reason_given(link, actor, data) -> Optional[str]:
    if not (data.get("reason") or "").strip():
        return _("Give the reason for rejecting.")
    return None


# --- effects -------------------------------------------------------------------

def _applied(link, actor, data):
    link.note = (data.get("note") or "").strip()[:500] or None
    link.applied_at = utcnow()
    link.decided_at = None
    link.decided_by_id = None
    link.reject_reason = None


def _enrolled(link, actor, data):
    link.applied_at = link.decided_at = utcnow()
    link.decided_by_id = actor.user_id


def _approved(link, actor, data):
    link.decided_at = utcnow()
    link.decided_by_id = actor.user_id
    if isinstance(link, MediatorCourt):
        send_sms(link.mediator.phone, SmsKind.NOTICE,
                 _("%(court)s approved your certification.", court=link.court.name))


def _rejected(link, actor, data):
    link.decided_at = utcnow()
    link.decided_by_id = actor.user_id
    link.reject_reason = data["reason"].strip()[:500]
    if isinstance(link, MediatorCourt):
        send_sms(link.mediator.phone, SmsKind.NOTICE,
                 _("%(court)s rejected your certification: %(reason)s",
                   court=link.court.name, reason=link.reject_reason))


TRANSITIONS = [
    Transition(event="apply", label=_l("Apply for certification"), sources=frozenset({NEW, S.REJECTED}),
               target=S.PENDING, who=frozenset({MEDIATOR, MINISTRY}), guards=(_ministry_side_applies,),
               effect=_applied),
    Transition(event="enrol", label=_l("Add to the court's roster"), sources=frozenset({NEW}), target=S.CERTIFIED,
               who=frozenset({COURT_ADMIN}), effect=_enrolled),
    Transition(event="approve", label=_l("Approve"), sources=frozenset({S.PENDING}), target=S.CERTIFIED,
               who=frozenset({COURT_ADMIN}), effect=_approved),
    Transition(event="reject", label=_l("Reject"), sources=frozenset({S.PENDING}), target=S.REJECTED,
               who=frozenset({COURT_ADMIN}), guards=(_reason_given,), effect=_rejected),
]

# how each event looks: the button on the application's page and the form it needs
HINTS = {
    "approve": Hint(css="btn-success"),
    "reject": Hint(fields=("reason",), css="btn-danger"),
    "apply": Hint(fields=("court_id", "note"), css="btn-primary"),
}

MACHINE = Machine(name="certification", transitions=TRANSITIONS, roles=ROLES, hints=HINTS,
                  noun=_l("certification application"))


def available(link: Link, actor: Actor):
    """What this actor may do to this application now: the buttons of its page."""
    return MACHINE.available(link, actor)


def apply(link: Link, event: str, actor: Actor, expected_version: Optional[int] = None, **data) -> Link:
    """Run `event` (approve, reject, apply) on a stored link; DomainError, nothing changed, when refused."""
    return MACHINE.apply(link, event, actor, expected_version, **data)


def link_of(subject: Applicant, court: Court) -> Optional[Link]:
    """The stored link of a mediator or an organisation with `court`, if any."""
    if isinstance(subject, Mediator):
        return db.session.scalar(sa.select(MediatorCourt).where(
            MediatorCourt.mediator_id == subject.id, MediatorCourt.court_id == court.id))
    return db.session.scalar(sa.select(OrganisationCourt).where(
        OrganisationCourt.organisation_id == subject.id, OrganisationCourt.court_id == court.id))


def links_of(subject: Applicant) -> list[Link]:
    if isinstance(subject, Mediator):
        query = sa.select(MediatorCourt).where(MediatorCourt.mediator_id == subject.id)
        order = MediatorCourt.applied_at.desc()
    else:
        query = sa.select(OrganisationCourt).where(OrganisationCourt.organisation_id == subject.id)
        order = OrganisationCourt.applied_at.desc()
    return list(db.session.scalars(query.order_by(order)))


def apply_for(subject: Applicant, court: Optional[Court], actor: Actor, note: Optional[str] = None,
              expected_version: Optional[int] = None) -> Link:
    """申请认证: a first application of `subject` to `court`, or again after a rejection."""
    if court is None:
        raise DomainError(_("Choose the court to apply to."))
    link = link_of(subject, court)
    if link is not None:
        return MACHINE.apply(link, "apply", actor, expected_version, note=note)
    return MACHINE.create(_new_link(subject, court), "apply", actor, note=note,
                          duplicate=_("The application to %(court)s is waiting for the court's decision.",
                                      court=court.name))


def may_apply(subject: Applicant, actor: Actor) -> bool:
    """Whether `actor` applies for `subject` at all (the 申请法院认证 button) [FAQ 3.2, 6.7(1)]."""
    link = _new_link(subject, None)
    return MACHINE.may(MACHINE["apply"], link, actor) and not _guard_problems(link, actor, {})


def courts_open_to(subject: Applicant, actor: Actor) -> list[Court]:
    """The courts `actor` may apply to for `subject` now: no link yet, or a rejected one."""
    if not may_apply(subject, actor):
        return []
    links = {link.court_id: link for link in links_of(subject)}
    courts = db.session.scalars(sa.select(Court).order_by(Court.code)).all()
    return [c for c in courts if c.id not in links
            or any(a.event == "apply" for a in MACHINE.available(links[c.id], actor))]


def enrol(subject: Applicant, actor: Actor) -> Link:
    """新增调解员 / 新增调解组织: a court adding a new entry to its own roster certifies it
    directly [FAQ 2.2, 6.7(3)]. The link is stored with the subject, before FAB's commit."""
    if actor.scope.court_id is None:
        raise NotAllowed(_("Only a court can add mediators to its roster.") if isinstance(subject, Mediator)
                         else _("Only a court can add organisations to its roster."))
    court = db.session.get(Court, actor.scope.court_id)
    return MACHINE.create(_new_link(subject, court), "enrol", actor)


# --- inside -------------------------------------------------------------------

def _new_link(subject: Applicant, court: Optional[Court]) -> Link:
    """A link not yet stored (and not in the session): the subject `Machine.create` stores."""
    court_id = court.id if court is not None else None
    if isinstance(subject, Mediator):
        return MediatorCourt(mediator_id=subject.id, mediator=subject, court_id=court_id, court=court)
    return OrganisationCourt(organisation_id=subject.id, organisation=subject, court_id=court_id, court=court)


def _guard_problems(link: Link, actor: Actor, data: dict) -> list[str]:
    return [str(p) for p in (guard(link, actor, data) for guard in MACHINE["apply"].guards) if p]
