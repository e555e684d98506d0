"""多路视频申请: more than one person per side in a video room [FAQ 4.1 注意(3); SPEC §3.5].

    (new) ──提交申请 (the case's court admin; every party entered; a reason)──▶ 待审核
    待审核 ──通过 (platform staff, 平台后台)──────────────────────────────────▶ 通过
    待审核 ──驳回 (platform staff, with the reason)─────────────────────────▶ 驳回
    驳回: the court admin may submit a new application.

Until an application of the case is 通过, a room admits the mediator and one
person per side (app/workflows/hearings.py); once it is, every party and agent
of the case, up to `VIDEO_MAX_PARTICIPANTS`.

Sources: [FAQ 4.1 注意(3)] "先在当事人信息中填写所有当事人信息 … 在案件详情页中提交
'多路视频申请'，后台审核后即可"; SPEC §3.5.

`NEW` is the state of a row inside the transaction that submits it: the
submission is the `submit` transition, so it is audited like the review.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import utcnow
from ..enums import MultiVideoStatus as S
from ..extensions import db
from ..models import Case, MultiVideoRequest
from .actor import Actor
from .case_intake import missing_party_fields
from .engine import Hint, Machine, Transition

COURT_ADMIN = "court_admin"
PLATFORM = "platform"

ROLES = {
    COURT_ADMIN: lambda request, actor: actor.is_court_admin_of(request.case),
    PLATFORM: lambda request, actor: actor.scope.is_platform,
}


def _every_party_entered(request, actor, data) -> Optional[str]:
    """[FAQ 4.1 注意(3)]: all parties' information first."""
    case = request.case
    roles = {p.role.name for p in case.parties}
    if roles != {"APPLICANT", "RESPONDENT"}:
        return _("Enter every party of the case first.")
    problems = missing_party_fields(case)
    if problems:
        return _("Party information is incomplete: %(problems)s", problems="；".join(problems))
    return None


def _open_status(case_id: int, but: Optional[int] = None) -> Optional[S]:
    query = sa.select(MultiVideoRequest.status).where(
        MultiVideoRequest.case_id == case_id, MultiVideoRequest.status.in_([S.PENDING, S.APPROVED]))
    if but is not None:
        query = query.where(MultiVideoRequest.id != but)
    return db.session.scalar(query.limit(1))


def _no_open_request(request, actor, data) -> Optional[str]:
    other = _open_status(request.case_id, request.id)
    if other is not None:
        return _("The case already has a multi-party video application (%(status)s).", status=other.label)
    return None


def _reason_given(request, actor, data) -> Optional[str]:
    if not (data.get("reason") or "").strip():
        return _("Give the reason.")
    if len(data["reason"].strip()) > 500:
        return _("The reason is at most %(n)d characters.", n=500)
    return None


def _submit(request, actor, data):
    request.reason = data["reason"].strip()
    request.submitted_by_id = actor.user_id
    request.submitted_at = utcnow()


def _review(request, actor, data):
    request.reviewed_by_id = actor.user_id
    request.reviewed_at = utcnow()
    request.review_reason = (data.get("reason") or "").strip()[:500] or None


TRANSITIONS = [
    Transition(event="submit", label=_l("Apply for multi-party video"), sources=frozenset({S.NEW}),
               target=S.PENDING, who=frozenset({COURT_ADMIN}),
               guards=(_reason_given, _every_party_entered, _no_open_request), effect=_submit),
    Transition(event="approve", label=_l("Approve"), sources=frozenset({S.PENDING}), target=S.APPROVED,
               who=frozenset({PLATFORM}), effect=_review),
    Transition(event="reject", label=_l("Reject"), sources=frozenset({S.PENDING}), target=S.REJECTED,
               who=frozenset({PLATFORM}), guards=(_reason_given,), effect=_review),
]

HINTS = {
    "submit": Hint(fields=("reason",), css="btn-primary"),
    "approve": Hint(css="btn-primary"),
    "reject": Hint(fields=("reason",), css="btn-warning"),
}

MACHINE = Machine(name="multi_video", transitions=TRANSITIONS, roles=ROLES, hints=HINTS,
                  noun=_l("multi-party video application"))


def requests_of(case: Case) -> list[MultiVideoRequest]:
    return list(db.session.scalars(sa.select(MultiVideoRequest).where(MultiVideoRequest.case_id == case.id)
                                   .order_by(MultiVideoRequest.id.desc())))


def approved(case: Case) -> bool:
    return db.session.scalar(sa.select(MultiVideoRequest.id).where(
        MultiVideoRequest.case_id == case.id, MultiVideoRequest.status == S.APPROVED).limit(1)) is not None


def may_submit(case: Case, actor: Actor) -> bool:
    """Whether the 多路视频申请 button shows: the court admin of the case, and no open application."""
    return actor.is_court_admin_of(case) and _open_status(case.id) is None


def submit(case: Case, actor: Actor, reason: str) -> MultiVideoRequest:
    request = MultiVideoRequest(case=case, status=S.NEW, reason="")
    db.session.add(request)
    db.session.flush()
    MACHINE.apply(request, "submit", actor, reason=reason)
    return request


def review(request: MultiVideoRequest, event: str, actor: Actor, reason: str = "",
           expected_version: Optional[int] = None) -> MultiVideoRequest:
    return MACHINE.apply(request, event, actor, expected_version, reason=reason)


def available_events(request: MultiVideoRequest, actor: Actor):
    return MACHINE.available(request, actor)
