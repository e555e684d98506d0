"""Outgoing messages to outside systems: the adapters, and the worker that delivers the outbox (SPEC §7).

A message is written in the transaction that causes it (`enqueue`); `deliver_due`
(run by `flask worker`) sends due messages one by one: success marks it
delivered; a failure is retried with exponential back-off and, after
`MAX_ATTEMPTS`, shown as failed to platform staff, who can resend it
[FAQ 3.4, 3.6, 6.3, 6.5]. An attempt counts when its delivery starts, so a
message that kills the worker delivering it (a receiver that hangs it, a
payload that crashes it) is given up after `MAX_ATTEMPTS` too, instead of
being claimed again by every worker that comes along. Receivers dedupe by `message_id`, so a message
delivered twice (a worker that crashed after sending but before recording it,
a 重新推送) has one effect.

No database transaction is held while a receiver is called: the message is
claimed (app/claims.py: a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL, a
conditional claim on SQLite), the transaction ends, the adapter delivers, and
a new transaction records the outcome under that claim only. Two or more
workers share the outbox this way, each message delivered by one of them. A
crash in between leaves the message pending with a lease that runs out; the
next worker delivers it again and the receiver drops the duplicate by
`message_id` — delivered at least once, recorded exactly once.

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
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from . import claims
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


def claim_due(token: str, now: dt.datetime, limit: int) -> list[int]:
    """Claim up to `limit` due messages for `token` and commit; their ids, oldest first (app/claims.py).

    Due: pending, its next attempt reached, and nobody's lease running (never claimed, or the claimant's
    lease expired: it died or stalled). PostgreSQL skips the rows another worker is claiming right now;
    on SQLite the claim is a conditional UPDATE counted by its rowcount.
    """
    unleased = sa.or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now)
    _give_up_abandoned(unleased)
    claimable = sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now,
                        unleased)
    candidates = db.session.scalars(
        sa.select(OutboxMessage.id).where(claimable).order_by(OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    claimed = []
    for pk in candidates:
        taken = db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == pk, claimable)
            .values(claimed_by=token, lease_until=claims.lease_until(now))
            .execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            claimed.append(pk)
    db.session.commit()
    return claimed


def _give_up_abandoned(unleased) -> None:
    """Fail the pending messages whose last allowed delivery started and never ended (its worker died):
    a delivery that ends records its outcome, so a pending message nobody holds with its attempts used up
    is one that kills its worker. Platform staff see why and can 重新推送 it."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts >= MAX_ATTEMPTS, unleased)
        .values(status=OutboxStatus.FAILED, claimed_by=None, lease_until=None, last_error=_(
            "The process delivering this message stopped during delivery %(n)d times; it is no longer "
            "retried automatically. Check the receiving system, then resend it from this record.",
            n=MAX_ATTEMPTS))
        .execution_options(synchronize_session=False))


def deliver_due(now: dt.datetime | None = None, limit: int = 50, worker: str | None = None) -> dict:
    """Claim the due messages and try each once; returns counts by outcome.

    Several workers may run this at once: each message is claimed by one of them
    (`claim_due`), and its outcome is recorded only under that claim — a message
    whose lease ran out and was taken over is recorded by the worker that took it,
    never twice. `now` decides which messages are due; each message records the
    time its own delivery ended (finding L6), counted from `now` when a caller
    passes one.
    """
    started = utcnow()
    now = now or started

    def clock() -> dt.datetime:
        return now + (utcnow() - started)

    token = claims.new_token(worker)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    claimed = claim_due(token, now, limit)
    try:
        for pk in claimed:
            outcome = _deliver_one(pk, token, clock)
            if outcome:
                counts[outcome] += 1
    except Exception:
        # The round failed in this process (the process lives on): give back what it had not marked, so
        # the next round retries at once instead of after the lease. A process that dies keeps its
        # leases; they run out.
        _release(token)
        raise
    return counts


def _deliver_one(pk: int, token: str, clock) -> str | None:
    """Deliver claimed message `pk` and record the outcome under `token`; None when it was taken over."""
    message = db.session.get(OutboxMessage, pk)
    if message is None or message.claimed_by != token:
        db.session.rollback()
        return None
    envelope, attempts = _envelope(message), message.attempts + 1
    db.session.rollback()
    claims.crash_point("outbox.claimed")
    started = db.session.execute(  # the attempt counts from here, even if this process dies delivering it
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == pk, OutboxMessage.claimed_by == token,
               OutboxMessage.status == OutboxStatus.PENDING)
        .values(attempts=attempts).execution_options(synchronize_session=False))
    db.session.commit()  # and no lock is held while the receiver works
    if started.rowcount != 1:
        return None  # our lease ran out before we began and another worker took it
    error, acknowledged = None, False
    try:
        acknowledged = adapter_for(envelope.topic).deliver(envelope)
    except DeliveryError as exc:
        error = str(exc)[:500]
    claims.crash_point("outbox.delivered")
    at = clock()
    values = {"lease_until": None}
    if error is not None:
        values["last_error"] = error
        if attempts >= MAX_ATTEMPTS:
            values["status"], outcome = OutboxStatus.FAILED, "failed"
        else:
            values["next_attempt_at"], outcome = at + backoff(attempts), "retry"
    else:
        values.update(status=OutboxStatus.SENT, sent_at=at)
        if acknowledged:
            values["acknowledged_at"] = sa.func.coalesce(OutboxMessage.acknowledged_at, at)
        outcome = "sent"
    marked = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == pk, OutboxMessage.claimed_by == token,
               OutboxMessage.status == OutboxStatus.PENDING)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return outcome if marked.rowcount == 1 else None  # 0: our lease ran out and another worker took it


def _release(token: str) -> None:
    try:
        db.session.rollback()
        db.session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.claimed_by == token, OutboxMessage.status == OutboxStatus.PENDING)
            .values(lease_until=None).execution_options(synchronize_session=False))
        db.session.commit()
    except sa.exc.SQLAlchemyError:  # the database is away: the leases run out instead
        db.session.rollback()


def resend(message: OutboxMessage) -> None:
    """重新推送: deliver again now; the receiver dedupes by message_id."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = utcnow()
    message.attempts = 0
    message.claimed_by = message.lease_until = None
