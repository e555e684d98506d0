"""Outgoing messages to ministry platforms: the adapter, and the worker that delivers the outbox.

A message is written in the transaction that causes it (`enqueue`); `deliver_due`
(run by `flask worker`) sends due messages one by one, each in its own
transaction: success marks it delivered; a failure is retried with
exponential back-off and, after `MAX_ATTEMPTS`, shown as failed to platform
staff, who can resend it [FAQ 6.3, 6.5]. Receivers dedupe by `message_id`.

The adapter is chosen by `MINISTRY_PLATFORM`: "local" (default) is the
ministry platform inside this app — ministry staff work the case in 部委端,
so delivery is an acknowledgement; "http" posts JSON to the URL configured per
ministry code in `MINISTRY_PLATFORM_URLS`; tests pass an object with `deliver`.
"""
from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
import uuid

import sqlalchemy as sa
from flask import current_app

from .enums import OutboxStatus
from .extensions import db
from .models import OutboxMessage, utcnow

MAX_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600


class DeliveryError(Exception):
    """The receiving platform did not take the message; the text is shown to platform staff."""


class LocalMinistryPlatform:
    def deliver(self, message: OutboxMessage) -> None:
        return None


class HttpMinistryPlatform:
    def __init__(self, urls: dict[str, str], timeout: float = 10):
        self.urls = urls
        self.timeout = timeout

    def deliver(self, message: OutboxMessage) -> None:
        url = self.urls.get(message.ministry.code) if message.ministry else None
        if not url:
            raise DeliveryError(f"no platform URL configured for {message.ministry.code if message.ministry else '-'}")
        body = json.dumps({"message_id": message.message_id, "topic": message.topic,
                           **message.payload}, ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 - configured URL
                if resp.status >= 300:
                    raise DeliveryError(f"HTTP {resp.status}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(str(exc)[:400]) from exc


def platform():
    configured = current_app.config.get("MINISTRY_PLATFORM", "local")
    if configured == "local":
        return LocalMinistryPlatform()
    if configured == "http":
        return HttpMinistryPlatform(current_app.config.get("MINISTRY_PLATFORM_URLS", {}))
    return configured


def enqueue(topic: str, ministry_id: int | None, case_id: int | None, payload: dict) -> OutboxMessage:
    message = OutboxMessage(message_id=str(uuid.uuid4()), topic=topic, ministry_id=ministry_id, case_id=case_id,
                            payload=payload, status=OutboxStatus.PENDING, next_attempt_at=utcnow())
    db.session.add(message)
    return message


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


def deliver_due(now: dt.datetime | None = None, limit: int = 50) -> dict:
    """Try every due message once; returns counts by outcome."""
    now = now or utcnow()
    adapter = platform()
    ids = db.session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING,
                                          OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)).all()
    db.session.commit()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for message_id in ids:
        message = db.session.get(OutboxMessage, message_id)
        if message is None or message.status is not OutboxStatus.PENDING:
            db.session.rollback()
            continue
        try:
            adapter.deliver(message)
        except DeliveryError as exc:
            message.attempts += 1
            message.last_error = str(exc)[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                counts["failed"] += 1
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                counts["retry"] += 1
        else:
            message.attempts += 1
            message.status = OutboxStatus.SENT
            message.sent_at = now
            if isinstance(adapter, LocalMinistryPlatform):
                message.acknowledged_at = now
            counts["sent"] += 1
        db.session.commit()
    return counts


def resend(message: OutboxMessage) -> None:
    """重新推送: deliver again now; the receiver dedupes by message_id."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = utcnow()
    message.attempts = 0
