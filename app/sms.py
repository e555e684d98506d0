"""SMS behind one small interface (SPEC §7).

`send_sms` writes the message to `sms_outbox` in the caller's transaction, so
a rolled-back change sends nothing. The local default backend stops there:
platform staff read the outbox under 平台后台 › 短信记录. A real gateway would
be a worker delivering queued rows; it plugs in through `SMS_BACKEND`.
"""
from __future__ import annotations

from flask import current_app

from .clock import utcnow
from .enums import SmsKind, SmsStatus
from .extensions import db
from .models import SmsOutbox


def send_sms(phone: str, kind: SmsKind, body: str) -> SmsOutbox:
    """Queue an SMS in the current transaction; the outbox backend marks it sent."""
    msg = SmsOutbox(phone=phone, kind=kind, body=body[:500], status=SmsStatus.QUEUED)
    if current_app.config.get("SMS_BACKEND", "outbox") == "outbox":
        msg.status = SmsStatus.SENT
        msg.sent_at = utcnow()
    db.session.add(msg)
    return msg
