"""SMS behind one small interface (SPEC §7).

`send_sms` writes the message to `sms_outbox` in the caller's transaction, so
a rolled-back change sends nothing. The local default backend stops there:
platform staff read the outbox under 平台后台 › 短信记录. A real gateway would
be a worker delivering queued rows; it plugs in through `SMS_BACKEND`.

A message that carries a credential — an initial password, a verification
code — names it as `secret` (finding M8). The 短信记录 row keeps the message
with the credential masked: support staff see the template, the phone and the
delivery status, never a code or password they could use. The full text goes
only to the adapter: the local one writes it to the log (`court.sms`, the
terminal of `make run`) while `SMS_LOG_TEXT` is on — the development default,
so a developer or a demo finds the codes there; the production profile turns
it off. A real gateway gets the full text from `send_sms` and would deliver it
there and then.

Every text carries the platform's brand once, at its start: callers write the
message, `send_sms` adds 【人民法院调解平台】 (one msgid, so no message can
carry another spelling of it or carry it twice).
"""
from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _

from .clock import utcnow
from .enums import SmsKind, SmsStatus
from .extensions import db
from .models import SmsOutbox

log = logging.getLogger("court.sms")

MASK = "******"


def masked(body: str, secret: str | None) -> str:
    """`body` with the credential replaced by asterisks."""
    return body.replace(secret, MASK) if secret else body


def branded(text: str) -> str:
    """`text` as it goes out: the brand first, once."""
    return _("[Court Mediation Platform] %(text)s", text=text)


def send_sms(phone: str, kind: SmsKind, body: str, secret: str | None = None) -> SmsOutbox:
    """Queue an SMS in the current transaction; the outbox backend marks it sent.
    `body` is the message without the brand (`branded` adds it)."""
    body = branded(body)
    msg = SmsOutbox(phone=phone, kind=kind, body=masked(body, secret)[:500], status=SmsStatus.QUEUED)
    if current_app.config.get("SMS_BACKEND", "outbox") == "outbox":
        msg.status = SmsStatus.SENT
        msg.sent_at = utcnow()
        if current_app.config.get("SMS_LOG_TEXT", False):
            log.info("SMS to %s (%s): %s", phone, kind.name, body, extra={"fields": {"sms_to": phone}})
    db.session.add(msg)
    return msg
