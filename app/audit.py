"""Append-only audit trail written from one session hook.

Every flush that creates, changes or deletes a model marked `__audited__`
adds an `AuditLog` row in the same transaction, so no code path (FAB view,
workflow, bulk import, CLI) can change audited data without a trace. The
actor and address come from the request when there is one. Secrets never reach
the trail: columns listed in `SECRET_COLUMNS` are recorded as changed, not
shown. Audit rows themselves cannot be updated or deleted.

Tamper evidence (issue 16 item 5): the rows form ONE hash chain. Each new row
gets the next `seq`, the previous row's hash (`prev_hash`) and
`row_hash = sha256(prev_hash + canonical JSON of its content)`, in the flush
that writes it, while the transaction holds the chain head
(`audit_chain_head`, one row): `SELECT … FOR UPDATE` on PostgreSQL; on SQLite
the writing transaction's IMMEDIATE lock already serialises writers (and a
read transaction that writes fails rather than fork the chain). So the chain
stays linear under concurrent writers, and a rolled-back transaction leaves
no gap. `verify_chain` walks it in `seq` order and names the first row whose
content, link or position is wrong (a rewritten, deleted or inserted row); an
anchor — the head's seq and hash, written to the log and exported by `flask
audit anchor` — catches what a chain alone cannot: deleting the newest rows
or rewriting the whole tail.

One chain rather than one per court: rows without a court (platform,
ministries, accounts) need a chain too, a transaction that touches two
courts would lock two heads (deadlock-prone order), and one head gives one
anchor to keep. The cost is that audited PostgreSQL transactions serialise
on the head from their first audited flush to commit; per-court chains with
ordered locking are the step if that ever limits throughput.
"""
from __future__ import annotations

import datetime as dt
import enum
import contextlib
import contextvars
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .clock import utcnow
from .enums import AuditAction
from .extensions import db
from .models import AuditChainHead, AuditLog
from .serving import client_ip

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


def act_as(user_id: int | None, name: str) -> None:
    """This request acts for the account `user_id` although nobody is logged in (a QR signing page:
    the token names the mediator), so its rows name that account, not an anonymous visitor."""
    if has_request_context():
        g.audit_actor = (user_id, name)


#: (user id, name) of the person a background job acts for (`acting_for_job`); None: nobody
_job_actor: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar("audit_job_actor",
                                                                                           default=None)
#: the `actor_name` prefix of a row a job wrote for the person who queued it: `import-job:<id>`
IMPORT_JOB = "import-job"


@contextlib.contextmanager
def acting_for_job(user_id: int | None, kind: str, job_id: int):
    """Rows written inside name `user_id`, the person who queued job `job_id`, as acting through a job of
    `kind` (`actor_name` `<kind>:<job_id>`; 操作记录 shows 「王立新（批量导入）」), not 系统: the worker only
    carries out what that person asked for."""
    token = _job_actor.set((user_id, f"{kind}:{job_id}"))
    try:
        yield
    finally:
        _job_actor.reset(token)


def current_actor() -> tuple[int | None, str | None, str | None]:
    """(user id, display name, IP) of whoever acts in this request, if anyone."""
    job_actor = _job_actor.get()
    if job_actor is not None:
        return *job_actor, None
    if not has_request_context():
        return None, "system", None
    user = getattr(g, "user", None)
    ip = client_ip()
    if getattr(g, "audit_actor", None) is not None:
        return *g.audit_actor, ip
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.username, ip
    return None, getattr(g, "audit_actor_name", None) or "anonymous", ip


def _actor_court_id() -> int | None:
    scope = getattr(g, "court_scope", None) if has_request_context() else None
    return getattr(scope, "court_id", None)


def _name(obj) -> str:
    """The object's own name; "" for a model without one (never `<app.models.X object at 0x…>`)."""
    if type(obj).__str__ is object.__str__ and type(obj).__repr__ is object.__repr__:
        return ""
    return str(obj)


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
        # a model whose name holds an enum label says it as a code (`audit_summary`): STYLE §6
        summary=(summary or getattr(obj, "audit_summary", None) or _name(obj))[:200],
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
    db.session.add(_row(
        obj, AuditAction.TRANSITION,
        {**(before or {}), "status": plain(from_state)},
        {**(after or {}), "status": plain(to_state) if to_state is not None else None,
         "machine": machine, "event": event, "reason": (reason or "").strip() or None},
        summary=f"{machine}.{event}"[:200],
    ))


def case_history(case_id: int) -> sa.Select:
    """A case's 操作记录, newest first: the rows about it since its own creation (finding H1).

    The first row written about a case is its CREATE row (written right after the case's insert,
    before anything else can name its id). Rows before it belong to an earlier object that had the
    same id — a deleted case whose id SQLite handed out again before migration 0011 made ids
    AUTOINCREMENT — so a new case never inherits them. A case without a CREATE row (written outside
    the ORM) shows every row.
    """
    created = (sa.select(sa.func.max(AuditLog.id))
               .where(AuditLog.entity == "mediation_case", AuditLog.entity_id == case_id,
                      AuditLog.action == AuditAction.CREATE)
               .scalar_subquery())
    return (sa.select(AuditLog)
            .where(AuditLog.case_id == case_id, AuditLog.id >= sa.func.coalesce(created, 0))
            .order_by(AuditLog.id.desc()))


def skip_generic_audit(obj) -> None:
    """This flush's changes to `obj` are already described by a transition row."""
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
    _link(session, [o for o in session.new if isinstance(o, AuditLog) and o.seq is None])


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


# --- the hash chain -----------------------------------------------------------

GENESIS = "0" * 64
CHAIN_FIELDS = ("seq", "at", "actor_id", "actor_name", "ip", "action", "entity", "entity_id", "court_id",
                "case_id", "summary", "before", "after")
_head = AuditChainHead.__table__
_log = AuditLog.__table__


def _json(value: Any) -> Any:
    """The value as the JSON column gives it back (tuples become lists, int keys strings)."""
    return None if value is None else json.loads(json.dumps(value))


def row_digest(values: dict, prev_hash: str) -> str:
    """sha256 over the previous hash and the row's canonical content (format v1)."""
    content = {"v": 1}
    for field in CHAIN_FIELDS:
        value = values.get(field)
        if isinstance(value, enum.Enum):
            value = value.name
        elif isinstance(value, dt.datetime):
            value = value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        elif field in ("before", "after"):
            value = _json(value)
        content[field] = value
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def _lock_head(session: Session) -> tuple[int, str]:
    """The chain head, locked until this transaction ends (PostgreSQL row lock; SQLite's write lock)."""
    head = session.execute(sa.select(_head.c.seq, _head.c.row_hash).where(_head.c.id == 1)
                           .with_for_update()).first()
    if head is not None:
        return head.seq, head.row_hash
    # The row is created by migration 0010; rebuilt from the newest link if someone removed it.
    last = session.execute(sa.select(_log.c.seq, _log.c.row_hash).where(_log.c.seq.is_not(None))
                           .order_by(_log.c.seq.desc()).limit(1)).first()
    seq, digest = (last.seq, last.row_hash) if last is not None else (0, GENESIS)
    session.execute(sa.insert(_head).values(id=1, seq=seq, row_hash=digest))
    return seq, digest


def _link(session: Session, rows: list[AuditLog]) -> None:
    """Give this flush's new audit rows their place in the chain (see the module docstring)."""
    if not rows:
        return
    seq, prev = _lock_head(session)
    for row in rows:
        seq += 1
        row.seq = seq
        if row.at is None:
            row.at = utcnow()
        row.prev_hash = prev
        row.row_hash = prev = row_digest({f: getattr(row, f) for f in CHAIN_FIELDS}, prev)
    session.execute(sa.update(_head).where(_head.c.id == 1).values(seq=seq, row_hash=prev))


@dataclass(frozen=True)
class Anchor:
    """A point of the chain kept outside the database: row `seq` had hash `row_hash`."""

    seq: int
    row_hash: str
    at: str | None = None

    def line(self) -> str:
        return json.dumps({"seq": self.seq, "row_hash": self.row_hash, "at": self.at}, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        data = json.loads(text)
        return cls(int(data["seq"]), str(data["row_hash"]), data.get("at"))


@dataclass(frozen=True)
class Broken:
    """The first place the chain is wrong: the row's id (None when the row is missing) and why."""

    row_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"audit_log id {self.row_id}" if self.row_id is not None else "no row"
        return f"{where} (seq {self.seq if self.seq is not None else '-'}): {self.reason}"


@dataclass(frozen=True)
class Verified:
    rows: int
    head: Anchor
    broken: Broken | None


def current_anchor(session: Session) -> Anchor:
    head = session.execute(sa.select(_head.c.seq, _head.c.row_hash).where(_head.c.id == 1)).first()
    seq, digest = (head.seq, head.row_hash) if head is not None else (0, GENESIS)
    return Anchor(seq, digest, utcnow().isoformat(timespec="seconds") + "Z")


def verify_chain(session: Session, anchors: Iterable[Anchor] = (), batch: int = 2000) -> Verified:
    """Walk the whole trail in chain order; the first broken row, if any.

    Catches a rewritten row (its hash), a deleted row (a gap in `seq` or a
    `prev_hash` that does not match), an inserted row (no place in the chain,
    or a link that does not match), a head that does not match the newest row,
    and — with `anchors` — rows missing or rewritten at or before an anchor.
    """
    by_seq = {a.seq: a for a in anchors}
    broken = None
    prev, expected, count = GENESIS, 1, 0
    columns = [_log.c.id, _log.c.prev_hash, _log.c.row_hash, *(_log.c[f] for f in CHAIN_FIELDS)]
    result = session.execute(sa.select(*columns).where(_log.c.seq.is_not(None)).order_by(_log.c.seq)
                             .execution_options(yield_per=batch))
    for row in result:
        if broken is not None:
            break
        count += 1
        values = row._mapping
        if row.seq != expected:
            broken = Broken(row.id, row.seq, f"expected seq {expected}: rows {expected}..{row.seq - 1} are missing")
        elif row.prev_hash != prev:
            broken = Broken(row.id, row.seq, "link to the previous row does not match")
        elif row_digest(values, prev) != row.row_hash:
            broken = Broken(row.id, row.seq, "content does not match its hash (rewritten)")
        elif row.seq in by_seq and by_seq[row.seq].row_hash != row.row_hash:
            broken = Broken(row.id, row.seq, "differs from the anchor")
        prev, expected = row.row_hash, expected + 1
    result.close()
    last_seq = expected - 1
    head = session.execute(sa.select(_head.c.seq, _head.c.row_hash).where(_head.c.id == 1)).first()
    if broken is None and head is not None and (head.seq, head.row_hash) != (last_seq, prev):
        broken = Broken(None, head.seq, f"the chain head (seq {head.seq}) does not match the newest row "
                        f"(seq {last_seq}): rows deleted or added at the end")
    if broken is None:
        unchained = session.execute(sa.select(_log.c.id).where(sa.or_(_log.c.seq.is_(None),
                                                                      _log.c.row_hash.is_(None)))
                                    .order_by(_log.c.id).limit(1)).scalar()
        if unchained is not None:
            broken = Broken(unchained, None, "row outside the chain (inserted without a link)")
    if broken is None:
        beyond = [a for a in by_seq.values() if a.seq > last_seq]
        if beyond:
            a = min(beyond, key=lambda x: x.seq)
            broken = Broken(None, a.seq, f"anchored row seq {a.seq} is missing: the chain ends at seq {last_seq}")
    return Verified(count, Anchor(last_seq, prev), broken)
