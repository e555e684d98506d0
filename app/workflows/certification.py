"""Mediator ↔ court certification [FAQ 3.2].

    (none) ──apply──▶ 待认证 ──approve──▶ 已认证
                        │
                        └──reject(reason)──▶ 已驳回 ──apply──▶ 待认证

A mediator applies from 我的设置 › 认证法院 › 申请认证 (court + note); the court
admin of that court approves or rejects. A court only decides its own
applications; every step is audited by the session hook (status before/after).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from ..enums import CertificationStatus, SmsKind
from ..extensions import db
from ..models import Court, Mediator, MediatorCourt, utcnow
from ..security import Scope
from ..sms import send_sms
from . import DomainError


def apply(mediator: Mediator, court: Court | None, note: str | None) -> MediatorCourt:
    """申请认证: a new or re-submitted application to `court`."""
    if court is None:
        raise DomainError(_("Choose the court to apply to."))
    link = db.session.scalar(
        sa.select(MediatorCourt).where(
            MediatorCourt.mediator_id == mediator.id, MediatorCourt.court_id == court.id
        )
    )
    if link is not None and link.status is CertificationStatus.CERTIFIED:
        raise DomainError(_("You are already certified by %(court)s.", court=court.name))
    if link is not None and link.status is CertificationStatus.PENDING:
        raise DomainError(_("Your application to %(court)s is waiting for the court's decision.",
                            court=court.name))
    if link is None:
        link = MediatorCourt(mediator=mediator, court=court)
        db.session.add(link)
    link.status = CertificationStatus.PENDING
    link.note = (note or "").strip()[:500] or None
    link.applied_at = utcnow()
    link.decided_at = None
    link.decided_by_id = None
    link.reject_reason = None
    db.session.flush()
    return link


def _check_decidable(link: MediatorCourt, scope: Scope) -> None:
    if not scope.is_platform and link.court_id != scope.court_id:
        raise DomainError(_("This application was made to another court."))
    if link.status is not CertificationStatus.PENDING:
        raise DomainError(_("This application is already %(status)s.", status=link.status.label))


def approve(link: MediatorCourt, scope: Scope, actor_id: int | None) -> MediatorCourt:
    _check_decidable(link, scope)
    link.status = CertificationStatus.CERTIFIED
    link.decided_at = utcnow()
    link.decided_by_id = actor_id
    send_sms(
        link.mediator.phone,
        SmsKind.NOTICE,
        _("[Court Mediation Platform] %(court)s approved your certification.", court=link.court.name),
    )
    db.session.flush()
    return link


def reject(link: MediatorCourt, scope: Scope, actor_id: int | None, reason: str | None) -> MediatorCourt:
    _check_decidable(link, scope)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for rejecting."))
    link.status = CertificationStatus.REJECTED
    link.decided_at = utcnow()
    link.decided_by_id = actor_id
    link.reject_reason = reason[:500]
    send_sms(
        link.mediator.phone,
        SmsKind.NOTICE,
        _("[Court Mediation Platform] %(court)s rejected your certification: %(reason)s",
          court=link.court.name, reason=link.reject_reason),
    )
    db.session.flush()
    return link
