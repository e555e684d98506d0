"""调解组织端: the organisation's own cases, 分派, its mediators, its password rule (SPEC §1; FAQ 6.2, 3.2).

- Its cases are those assigned to it (`Case.organisation_id`); app/views/scope.py
  `visible_cases` gives an organisation's account exactly those.
- 分派 is the case machine's `dispatch` transition (app/workflows/case_lifecycle.py):
  one of its own mediators; the case stays the organisation's.
- Its roster: `add_mediator` enters a mediator of the organisation (a platform
  account, its initial password by SMS [FAQ 2.1]), who then applies to courts
  under 我的设置 › 认证法院 [FAQ 3.2]. A phone that already is a mediator is
  refused with the FAQ's explanation: that mediator registered before.
- Its figures: 质效指标 with `statistics.reach_for` limited to the organisation.
- Its password [FAQ 6.2]: 工商联 organisations through platform support (with a
  work ID), other ministries' through their provincial ministry account
  (app/workflows/ministry.py `password_refusals`) — `password_rule` says which;
  修改密码 when logged in.

Adding a mediator creates rows that the roster and certification processes own;
there is no state to move here (plain functions that flush).
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from ..enums import CertificationStatus, MediatorIdentity, SmsKind
from ..extensions import db
from ..models import Case, Mediator, MediatorCourt, Organisation
from ..roles import MEDIATOR
from ..sms import send_sms
from ..validation import is_mobile, normalize_id_number, normalize_phone
from . import NotAllowed, ValidationFailed, case_lifecycle
from .accounts import ensure_account
from .actor import Actor
from .engine import insert_or_conflict
from .self_service import registration_problems


def organisation_of(actor: Actor) -> Organisation:
    """The acting organisation; 403 for anyone else."""
    org_id = actor.scope.organisation_id
    org = db.session.get(Organisation, org_id) if org_id else None
    if org is None:
        raise NotAllowed(_("Only a mediation organisation's account may do this."))
    return org


def cases_of(actor: Actor) -> list[Case]:
    org = organisation_of(actor)
    return db.session.scalars(sa.select(Case).where(Case.organisation_id == org.id).order_by(Case.id.desc())).all()


def mediators_of(org: Organisation) -> list[Mediator]:
    return db.session.scalars(sa.select(Mediator).where(Mediator.organisation_id == org.id)
                              .order_by(Mediator.name)).all()


def dispatch_candidates(org: Organisation, case: Case) -> list[tuple[Mediator, bool]]:
    """The organisation's mediators for 分派, each with whether the case's court certified them: only those
    may work its cases (issue 14 item 8: a mediator of the organisation "then applies to courts")."""
    certified = set(db.session.scalars(sa.select(MediatorCourt.mediator_id).where(
        MediatorCourt.court_id == case.court_id, MediatorCourt.status == CertificationStatus.CERTIFIED)))
    return [(m, m.id in certified) for m in mediators_of(org)]


def available_dispatch(case: Case, actor: Actor):
    """The 分派 button of a case row, when the organisation may 分派 it now."""
    return [a for a in case_lifecycle.available_events(case, actor) if a.event == "dispatch"]


def dispatch(case: Case, actor: Actor, mediator_id: Optional[int], expected_version: Optional[int] = None):
    """分派 the case to one of the organisation's mediators (the case machine checks who and whom)."""
    return case_lifecycle.apply(case, "dispatch", actor, expected_version, mediator_id=mediator_id)


def add_mediator(actor: Actor, raw_phone: str, name: str, id_number: str, expertise: str) -> Mediator:
    """新增调解员 of the organisation: every bad field listed at once, nothing saved on refusal."""
    org = organisation_of(actor)
    phone = normalize_phone(raw_phone or "")
    problems = [] if is_mobile(phone) else [_("Enter a mobile number: 11 digits starting with 1.")]
    problems += registration_problems(name, id_number, expertise)
    if not problems:
        holder = db.session.scalar(sa.select(Mediator).where(Mediator.phone == phone))
        if holder is not None and holder.organisation_id == org.id:
            problems.append(_("%(phone)s is already a mediator of this organisation.", phone=phone))
        elif holder is not None:
            problems.append(_("%(phone)s is already registered as a mediator on the platform (by the mediator or "
                              "by a court) and cannot be added again.", phone=phone))
    if problems:
        raise ValidationFailed(_("The mediator was not added:"), problems)
    user, created = ensure_account(phone, name.strip(), [MEDIATOR])
    mediator = Mediator(user=user, name=name.strip(), phone=phone, id_number=normalize_id_number(id_number),
                        identity=MediatorIdentity.INVITED, organisation=org, expertise=expertise.strip())
    insert_or_conflict(mediator, _("%(phone)s is already registered as a mediator on the platform (by the "
                                   "mediator or by a court) and cannot be added again.", phone=phone))
    send_sms(phone, SmsKind.NOTICE,
             _("%(organisation)s added you as its mediator. Log in through the mediator "
               "portal and apply to courts under My settings › Certified courts.", organisation=org.name))
    db.session.flush()
    return mediator


def password_rule(org: Organisation) -> str:
    """Who resets this organisation's password [FAQ 6.2]."""
    if org.ministry is not None and org.ministry.password_reset_by_platform:
        return _("Your password is reset by the platform's online support: contact them with a valid work ID "
                 "(%(ministry)s).", ministry=org.ministry.name)
    if org.ministry is not None:
        return _("Your password is reset by your provincial %(ministry)s account under Organisation management "
                 "› Mediation organisation management.", ministry=org.ministry.name)
    return _("Your organisation is not bound to a ministry yet: contact the platform's online support about "
             "its password.")
