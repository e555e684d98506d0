"""推送监控: a court follows its own hand-overs to the intranet and the ministries [FAQ 3.4, 3.6, 6.3, 6.5].

The FAQ's answer to a push that never arrived is "call the hotline"; here the
court sees it itself. A push is an outbox row (app/outbox.py); its state is
read from the row, never stored twice:

    待推送 ──first failed attempt──▶ 推送失败 (retried with back-off; after
      │                               outbox.MAX_ATTEMPTS the worker stops)
      └──delivered──▶ 已送达 ──receipt──▶ 已回执 ──result──▶ 结果已返回

(with the local adapters delivery is the receipt: 已送达 is skipped).

- A court's pushes: intranet hand-overs to its intranet (`court_id`) and
  ministry pushes of its cases (`case_id`) — `court_pushes`.
- 需关注 (the court's list): 推送失败, or delivered without a receipt.
- 重新推送 (`resend`): staff of the push's court, never while it is 待推送
  (already queued) nor once the result is back; the receiver drops the
  duplicate by `message_id`. Audited with the code `PUSH_RESENT`.
- The last error is shown in Chinese (`error_label`): the adapters' texts
  are technical English (HTTP status, socket errors).
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit, outbox
from ..enums import AuditAction, Choice, LabelledEnum, OutboxStatus
from ..extensions import db
from ..models import Case, OutboxMessage
from . import Conflict, NotAllowed
from .actor import Actor

#: the audit summary of a 重新推送 (app/views/records.py reads it in Chinese)
PUSH_RESENT = "push.resent"


class PushState(LabelledEnum):
    WAITING = Choice("waiting", _l("Waiting to be pushed"))
    FAILING = Choice("failing", _l("Push failed"))
    DELIVERED = Choice("delivered", _l("Push delivered"))
    ACKNOWLEDGED = Choice("acknowledged", _l("Receipt acknowledged"))
    ANSWERED = Choice("answered", _l("Result returned"))


def state_of(message: OutboxMessage) -> PushState:
    if message.outcome_at is not None:
        return PushState.ANSWERED
    if message.status is OutboxStatus.SENT:
        return PushState.ACKNOWLEDGED if message.acknowledged_at is not None else PushState.DELIVERED
    if message.status is OutboxStatus.FAILED or message.attempts > 0:
        return PushState.FAILING
    return PushState.WAITING


def failing_clause():
    """推送失败 in SQL: given up, or pending after at least one failed attempt."""
    return sa.or_(OutboxMessage.status == OutboxStatus.FAILED,
                  sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0))


def attention_clause():
    """The court's list: 推送失败, or delivered with neither a receipt nor a result."""
    return sa.or_(failing_clause(), sa.and_(OutboxMessage.status == OutboxStatus.SENT,
                                            OutboxMessage.acknowledged_at.is_(None),
                                            OutboxMessage.outcome_at.is_(None)))


def court_pushes(query, court_id: int):
    """The pushes of one court: to its intranet, or about its cases."""
    return query.filter(sa.or_(OutboxMessage.court_id == court_id,
                               OutboxMessage.case_id.in_(sa.select(Case.id).where(Case.court_id == court_id))))


def case_pushes(case_id: int) -> list[OutboxMessage]:
    """Every push about one case, newest first (the case page's 推送记录)."""
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.case_id == case_id)
                              .options(sa.orm.lazyload(OutboxMessage.case))  # the page's case, loaded already
                              .order_by(OutboxMessage.id.desc())).all()


def court_of(message: OutboxMessage):
    return message.court_id or (message.case.court_id if message.case is not None else None)


_HTTP = re.compile(r"^HTTP (\d{3})")
_TIMEOUT = re.compile(r"timed? ?out", re.IGNORECASE)
_REFUSED = re.compile(r"refused|unreachable|No route|Name or service not known|getaddrinfo|nodename",
                      re.IGNORECASE)
_NO_URL = re.compile(r"^no (intranet|platform) URL configured")


def error_label(text: str | None) -> str:
    """The adapter's last error in Chinese, with the technical text kept after it for support."""
    if not text:
        return ""
    if match := _HTTP.match(text):
        reason = _("The receiving system answered with an error (HTTP %(code)s).", code=match.group(1))
    elif _NO_URL.match(text):
        reason = _("No address of the receiving system is configured; tell the platform's support.")
    elif _TIMEOUT.search(text):
        reason = _("The receiving system did not answer in time.")
    elif _REFUSED.search(text):
        reason = _("The receiving system could not be reached.")
    else:
        reason = _("The receiving system did not take the push.")
    return f"{reason}（{text}）"


def resend_refusal(message: OutboxMessage, actor: Actor) -> str | None:
    """Why `actor` may not 重新推送 `message` now, or None."""
    if actor.scope.court_id is None or actor.scope.court_id != court_of(message):
        return _("Only the court this push belongs to may push it again.")
    state = state_of(message)
    if state is PushState.WAITING:
        return _("This push is already waiting to be sent; the worker delivers it shortly.")
    if state is PushState.ANSWERED:
        return _("The receiving system has already returned its result; there is nothing to push again.")
    return None


def can_resend(message: OutboxMessage, actor: Actor) -> bool:
    return resend_refusal(message, actor) is None


def resend(message: OutboxMessage, actor: Actor) -> None:
    """重新推送 by the court (see the module docstring); flushes, the request edge commits."""
    refusal = resend_refusal(message, actor)
    if refusal is not None:
        raise (NotAllowed if actor.scope.court_id != court_of(message) else Conflict)(refusal)
    before = {"status": message.status.code, "attempts": message.attempts, "last_error": message.last_error}
    outbox.resend(message)
    audit.record(db.session, message, AuditAction.UPDATE, PUSH_RESENT,
                 {"message_id": message.message_id, "topic": message.topic, "before": before})
    db.session.flush()
