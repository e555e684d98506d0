"""Append-only audit trail written from one session hook.

Every flush that creates, changes or deletes a model marked `__audited__`
adds an `AuditLog` row in the same transaction, so no code path (FAB view,
workflow, bulk import, CLI) can change audited data without a trace. The
actor and address come from the request when there is one. Secrets never reach
the trail: columns listed in `SECRET_COLUMNS` are recorded as changed, not
shown. Audit rows themselves cannot be updated or deleted.
"""
from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .enums import AuditAction
from .models import AuditLog

SECRET_COLUMNS = {"password", "code_hash"}


class AuditTamperError(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


def plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return value


def _snapshot(obj) -> dict:
    state = inspect(obj)
    return {
        attr.key: ("***" if attr.key in SECRET_COLUMNS else plain(attr.value))
        for attr in state.attrs
        # deferred blobs (document bytes, signature images) are not loaded for the trail
        if attr.key in state.mapper.columns and attr.key not in state.unloaded
    }


def _changes(obj) -> tuple[dict, dict]:
    before, after = {}, {}
    state = inspect(obj)
    for attr in state.attrs:
        if attr.key not in state.mapper.columns:
            continue
        hist = attr.history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if plain(old) == plain(new):
            continue
        if attr.key in SECRET_COLUMNS:
            old, new = "***", "***(new)"
        before[attr.key], after[attr.key] = plain(old), plain(new)
    return before, after


def current_actor() -> tuple[int | None, str | None, str | None]:
    """(user id, display name, IP) of whoever acts in this request, if anyone."""
    if not has_request_context():
        return None, "system", None
    user = getattr(g, "user", None)
    ip = request.headers.get("X-Forwarded-For", request.remote_addr or "")
    ip = ip.split(",")[0].strip() or None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.username, ip
    return None, getattr(g, "audit_actor_name", None) or "anonymous", ip


def _actor_court_id() -> int | None:
    scope = getattr(g, "court_scope", None) if has_request_context() else None
    return getattr(scope, "court_id", None)


def _row(obj, action: AuditAction, before, after, summary=None) -> AuditLog:
    actor_id, actor_name, ip = current_actor()
    court_id = getattr(obj, "audit_court_id", None) or _actor_court_id()
    return AuditLog(
        actor_id=actor_id,
        actor_name=actor_name,
        ip=ip,
        action=action,
        entity=type(obj).__tablename__,
        entity_id=getattr(obj, "id", None),
        court_id=court_id,
        case_id=getattr(obj, "audit_case_id", None),
        summary=summary or str(obj)[:200],
        before=before,
        after=after,
    )


def record(session: Session, obj, action: AuditAction, summary: str, data: dict | None = None):
    """An explicit audit row for an event that is not a plain column change."""
    session.add(_row(obj, action, None, data or {}, summary=summary))


def record_transition(obj, machine: str, event: str, from_state, to_state, reason: str | None,
                      before: dict | None = None, after: dict | None = None) -> None:
    """The audit row of a workflow transition, stored as codes (STYLE §6).

    `summary` is `<machine>.<event>`; before/after hold the state's and the
    changed columns' codes. `describe_transition` turns them into Chinese on
    the screen, so a row written today reads right in any later language.
    """
    from .extensions import db

    db.session.add(_row(
        obj, AuditAction.TRANSITION,
        {**(before or {}), "status": plain(from_state)},
        {**(after or {}), "status": plain(to_state) if to_state is not None else None,
         "machine": machine, "event": event, "reason": (reason or "").strip() or None},
        summary=f"{machine}.{event}"[:200],
    ))


def skip_generic_audit(obj) -> None:
    """This flush's changes to `obj` are already described by a transition row."""
    from .extensions import db

    db.session.info.setdefault("audit_skip", set()).add(id(obj))


def _before_flush(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog):
            raise AuditTamperError("audit rows are append-only")
    pending_new = [o for o in session.new if getattr(o, "__audited__", False)]
    session.info.setdefault("audit_new", []).extend(pending_new)
    skip = session.info.pop("audit_skip", set())
    for obj in session.dirty:
        if id(obj) in skip:
            continue
        if getattr(obj, "__audited__", False) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                session.add(_row(obj, AuditAction.UPDATE, before, after))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            session.add(_row(obj, AuditAction.DELETE, _snapshot(obj), None))


def _after_flush_postexec(session: Session, flush_context) -> None:
    # New rows only have their primary key after the flush; the audit row for
    # them is added here and goes out with the next flush of this transaction
    # (the commit flushes it at the latest).
    new = session.info.pop("audit_new", [])
    for obj in new:
        session.add(_row(obj, AuditAction.CREATE, None, _snapshot(obj)))


def install(session_class) -> None:
    """Hook the audit into every session of `session_class` (idempotent)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush_postexec", _after_flush_postexec)
