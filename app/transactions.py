"""Which transactions write: SQLite begins those IMMEDIATE, every other one DEFERRED.

SQLite has one write lock per database. Until issue 16 every transaction
began `BEGIN IMMEDIATE`, reads included, so a page view queued behind any
writer (a 14 KB import froze the site for 18.7 s). Now, in WAL mode, readers
never wait for the writer, and only a transaction that will write asks for
the write lock up front:

- a request with a writing method (POST, PUT, PATCH, DELETE) writes;
- a GET/HEAD/OPTIONS request reads, unless its view is marked `@writes`
  (a GET that issues something, e.g. the signing QR's token);
- outside a request — CLI commands, `flask worker`, scripts, tests' own
  transactions — a transaction writes (the safe default);
- `reading()` / `writing()` override it for a block of code;
- `outside_transaction()` ends the request's transaction (it must hold no
  changes yet) and runs a block of heavy work — parsing an upload, building
  a signed document — with no transaction open, so no other writer waits
  for it (issue 16 item 3); the next statement begins a fresh one.

Side effects outside the database follow its transaction through two hooks:
`after_commit(session, fn)` runs `fn` once the session's transaction has
committed (a file whose row was deleted is removed), `on_rollback(session,
fn)` once it has rolled back (a file, a Janus room or an entry token made for
rows that never came to exist is undone). A SAVEPOINT released or rolled back
is not the transaction's end; a hook that fails is logged and the others
still run.

Why IMMEDIATE for writers at all: a DEFERRED transaction that reads then
writes fails at once with "database is locked" when another writer committed
in between (WAL snapshots cannot be upgraded); IMMEDIATE takes the lock first
and queues on the busy timeout instead (case numbering, transitions). Why
DEFERRED for reads: they need no lock and, in WAL, see a consistent snapshot.

A read transaction that flushes anyway is logged as a warning naming the
endpoint (it works when nobody else writes, and fails under contention), so a
GET that writes is found and marked. PostgreSQL needs none of this: its MVCC
readers never wait for writers.

The decision is taken when the transaction begins (the engine's "begin"
event), from the request the thread is serving — no hook order to get right.
The tests' conftest opens one connection per test, outside any request, so
that outer transaction is IMMEDIATE and every session joins it through
SAVEPOINTs, exactly as before.
"""
from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from typing import Callable

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger("court.transactions")

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: an explicit choice for the current context: True writes, False reads, None decides by the request
_MODE: contextvars.ContextVar[bool | None] = contextvars.ContextVar("court_tx_writes", default=None)


def writes(view: Callable) -> Callable:
    """Mark a GET view that writes: its transactions begin IMMEDIATE like a POST's."""
    view.writes = True
    return view


def _view_writes() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes", False))


def is_writing() -> bool:
    """Does a transaction beginning now intend to write?"""
    mode = _MODE.get()
    if mode is not None:
        return mode
    if has_request_context():
        return request.method not in READING_METHODS or _view_writes()
    return True


@contextmanager
def _mode(value: bool):
    token = _MODE.set(value)
    try:
        yield
    finally:
        _MODE.reset(token)


def reading():
    """Transactions begun in this block read (e.g. a long report in a CLI command)."""
    return _mode(False)


def writing():
    """Transactions begun in this block write."""
    return _mode(True)


@contextmanager
def outside_transaction():
    """Run the block with no database transaction held (see the module docstring).

    The session's transaction ends first — it may only have read (a pending
    change would be lost, so that is an error) — and anything the block reads
    begins a read transaction. The session's objects are expired and reload
    on their next use, in the transaction that follows.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
        raise RuntimeError("outside_transaction() after changes: they would be lost")
    session.rollback()
    with reading():
        try:
            yield
        finally:
            session.rollback()


_FLUSHED = "court_flushed"


@event.listens_for(Session, "after_flush")
def _flushed(session, _flush_context) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _ended(session, *_args) -> None:
    session.info.pop(_FLUSHED, None)


_HOOKS = "court_transaction_hooks"


def _hooks(session) -> dict:
    return session.info.setdefault(_HOOKS, {"commit": [], "rollback": []})


def after_commit(session, fn: Callable[[], None]) -> None:
    """Run `fn()` once this session's transaction commits; forgotten if it rolls back."""
    _hooks(session)["commit"].append(fn)


def on_rollback(session, fn: Callable[[], None]) -> None:
    """Run `fn()` if this session's transaction rolls back; forgotten if it commits."""
    _hooks(session)["rollback"].append(fn)


def _run_hooks(session, which: str) -> None:
    hooks = session.info.get(_HOOKS)
    if not hooks or session.in_nested_transaction():  # a SAVEPOINT's end is not the transaction's
        return
    todo, hooks["commit"], hooks["rollback"] = hooks[which], [], []
    for fn in todo:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the transaction is over; the others must still run
            log.exception("a %s hook failed", which)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    _run_hooks(session, "commit")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    _run_hooks(session, "rollback")


def end_request(exc: BaseException | None) -> None:
    """The request's transaction, if it wrote nothing, ends with COMMIT rather than the session's ROLLBACK.

    For the database the two are the same when nothing was written. But psycopg forgets every prepared
    statement of a connection at each ROLLBACK (`_rollback_gen`: a rolled-back transaction may have
    created objects they refer to), and reading requests end by the session's close, which rolls back:
    PostgreSQL parsed and planned every statement of every page anew, although a page runs the same
    few statements request after request. Ending with COMMIT keeps the connection's cache, so psycopg
    prepares a statement once it has run five times on that connection (`prepare_threshold`).

    Only a reading request's (GET, HEAD, OPTIONS, not `@writes`) transaction with nothing pending,
    nothing flushed and no commit or rollback hook waiting is committed here; anything else — a
    writing request (its edge commits), a failed request, a room to undo — ends as before. Runs before
    Flask-SQLAlchemy removes the session (teardown_request comes before teardown_appcontext)."""
    if exc is not None or "sqlalchemy" not in current_app.extensions or is_writing():
        return
    registry = db.session
    if not registry.registry.has():
        return
    session = registry()
    hooks = session.info.get(_HOOKS) or {}
    if (not session.in_transaction() or session.in_nested_transaction() or session.new or session.dirty
            or session.deleted or session.info.get(_FLUSHED) or hooks.get("commit") or hooks.get("rollback")):
        return
    try:
        session.commit()
    except Exception:  # noqa: BLE001 - the page was sent; the session's close rolls back as before
        log.exception("ending a reading request's transaction failed")
        session.rollback()


_warned: set[str] = set()


def _flush_in_read_transaction(session, _flush_context, _instances) -> None:
    if not (session.new or session.dirty or session.deleted) or is_writing():
        return
    if not has_request_context() or session.get_bind().dialect.name != "sqlite":
        return
    endpoint = request.endpoint or request.path
    if endpoint not in _warned:
        _warned.add(endpoint)
        log.warning("%s %s writes inside a read transaction: mark its view @writes", request.method, endpoint)


def configure_sqlite(app: Flask, engine) -> None:
    """WAL, foreign keys, and IMMEDIATE only for writing transactions (see the module docstring)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # SQLAlchemy's pysqlite recipe: we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if app.config.get("SQLITE_WAL", True):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if is_writing() else "BEGIN")

    if not event.contains(Session, "before_flush", _flush_in_read_transaction):
        event.listen(Session, "before_flush", _flush_in_read_transaction)
