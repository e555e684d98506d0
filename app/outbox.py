"""Outgoing messages to outside systems: the adapters, and the worker that delivers the outbox (SPEC §7).

A message is written in the transaction that causes it (`enqueue`); `deliver_due`
(run by `flask worker`) sends due messages one by one: success marks it
delivered; a failure is retried with exponential back-off and, after
`MAX_ATTEMPTS`, shown as failed to platform staff, who can resend it
[FAQ 3.4, 3.6, 6.3, 6.5]. Receivers dedupe by `message_id`, so a message
delivered twice (a worker that crashed after sending but before recording it,
a 重新推送) has one effect.

No database transaction is held while a receiver is called: the message is
read, the transaction ends, the adapter delivers, and a new transaction
records the outcome. A crash in between leaves the message pending; the next
round delivers it again and the receiver drops the duplicate.

The topic's first part picks the receiving system and its adapter:

- `ministry.*` — 总对总 platforms, `MINISTRY_PLATFORM`: "local" (default: the
  ministry platform inside this app, delivery is the acknowledgement) or
  "http" (posts JSON to the URL per ministry code in `MINISTRY_PLATFORM_URLS`).
- `intranet.*` — the court intranet (内网办案系统), `COURT_INTRANET`: "local"
  (default: the simulated intranet inside this app, which records receipt in
  its own inbox, deduped by message_id) or "http" (posts JSON to
  `COURT_INTRANET_URL`; the intranet acknowledges and answers through
  /api/v1/intranet/results).

Tests pass an object with `deliver(envelope)` instead of a name.
"""
from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from .enums import OutboxStatus
from .extensions import db
from .models import OutboxMessage, SimulatedIntranetInbox, utcnow

MAX_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


class DeliveryError(Exception):
    """The receiving system did not take the message; the text is shown to platform staff."""


@dataclass(frozen=True)
class Envelope:
    """What a receiver gets: plain values read from the message, no ORM object."""

    message_id: str
    topic: str
    payload: dict
    ministry_code: str | None = None
    court_code: str | None = None

    def body(self) -> bytes:
        return json.dumps({"message_id": self.message_id, "topic": self.topic, **self.payload},
                          ensure_ascii=False).encode()


def _post_json(url: str, envelope: Envelope, timeout: float) -> None:
    request = urllib.request.Request(url, data=envelope.body(), method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - configured URL
            if resp.status >= 300:
                raise DeliveryError(f"HTTP {resp.status}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(str(exc)[:400]) from exc


class LocalMinistryPlatform:
    """The ministry side lives in this app (部委端): delivery is the acknowledgement."""

    def deliver(self, envelope: Envelope) -> bool:
        return True


class HttpMinistryPlatform:
    def __init__(self, urls: dict[str, str], timeout: float = 10):
        self.urls = urls
        self.timeout = timeout

    def deliver(self, envelope: Envelope) -> bool:
        url = self.urls.get(envelope.ministry_code or "")
        if not url:
            raise DeliveryError(f"no platform URL configured for {envelope.ministry_code or '-'}")
        _post_json(url, envelope, self.timeout)
        return False  # the ministry platform acknowledges through the inbound API


class LocalIntranet:
    """The simulated 内网办案系统: records what arrived, once per message_id, in its own transaction."""

    def deliver(self, envelope: Envelope) -> bool:
        with Session(db.engine) as session, session.begin():
            seen = session.scalar(sa.select(SimulatedIntranetInbox).where(
                SimulatedIntranetInbox.message_id == envelope.message_id))
            if seen is not None:
                seen.deliveries += 1  # a duplicate: counted, not applied again
            else:
                session.add(SimulatedIntranetInbox(message_id=envelope.message_id, topic=envelope.topic,
                                                   court_code=envelope.court_code or "", payload=envelope.payload))
        return True


class HttpIntranet:
    def __init__(self, url: str | None, timeout: float = 10):
        self.url = url
        self.timeout = timeout

    def deliver(self, envelope: Envelope) -> bool:
        if not self.url:
            raise DeliveryError("no intranet URL configured (COURT_INTRANET_URL)")
        _post_json(self.url, envelope, self.timeout)
        return False  # the intranet acknowledges through /api/v1/intranet/results


def adapter_for(topic: str):
    """The adapter of the system a topic goes to."""
    config = current_app.config
    if topic.startswith("intranet."):
        configured = config.get("COURT_INTRANET", "local")
        if configured == "local":
            return LocalIntranet()
        if configured == "http":
            return HttpIntranet(config.get("COURT_INTRANET_URL"))
        return configured
    configured = config.get("MINISTRY_PLATFORM", "local")
    if configured == "local":
        return LocalMinistryPlatform()
    if configured == "http":
        return HttpMinistryPlatform(config.get("MINISTRY_PLATFORM_URLS", {}))
    return configured


def platform():
    """The ministry adapter (kept for callers that predate the intranet)."""
    return adapter_for("ministry.")


def enqueue(topic: str, ministry_id: int | None, case_id: int | None, payload: dict,
            court_id: int | None = None) -> OutboxMessage:
    message = OutboxMessage(message_id=str(uuid.uuid4()), topic=topic, ministry_id=ministry_id, case_id=case_id,
                            court_id=court_id, payload=payload, status=OutboxStatus.PENDING,
                            next_attempt_at=utcnow())
    db.session.add(message)
    return message


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


def _envelope(message: OutboxMessage) -> Envelope:
    return Envelope(message.message_id, message.topic, dict(message.payload),
                    message.ministry.code if message.ministry else None,
                    message.court.code if message.court else None)


def deliver_due(now: dt.datetime | None = None, limit: int = 50) -> dict:
    """Try every due message once; returns counts by outcome.

    `now` decides which messages are due; each message records the time its own delivery ended
    (finding L6: a round that delivers several messages gave them all the round's start time),
    counted from `now` when a caller passes one.
    """
    started = utcnow()
    now = now or started

    def clock() -> dt.datetime:
        return now + (utcnow() - started)

    ids = db.session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING,
                                          OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)).all()
    db.session.commit()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for pk in ids:
        message = db.session.get(OutboxMessage, pk)
        if message is None or message.status is not OutboxStatus.PENDING:
            db.session.rollback()
            continue
        envelope = _envelope(message)
        db.session.rollback()  # hold no lock while the receiver works
        error, acknowledged = None, False
        try:
            acknowledged = adapter_for(envelope.topic).deliver(envelope)
        except DeliveryError as exc:
            error = str(exc)[:500]
        message = db.session.get(OutboxMessage, pk)
        if message is None or message.status is not OutboxStatus.PENDING:
            db.session.rollback()
            continue
        message.attempts += 1
        at = clock()
        if error is not None:
            message.last_error = error
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                counts["failed"] += 1
            else:
                message.next_attempt_at = at + backoff(message.attempts)
                counts["retry"] += 1
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = at
            if acknowledged and message.acknowledged_at is None:
                message.acknowledged_at = at
            counts["sent"] += 1
        db.session.commit()
    return counts


def resend(message: OutboxMessage) -> None:
    """重新推送: deliver again now; the receiver dedupes by message_id."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = utcnow()
    message.attempts = 0
