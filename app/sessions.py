"""Sessions that end, and logins that cannot be guessed at (findings M1 and M2).

Session generations (M2). Flask's session is a signed cookie: the server
cannot delete it. So each account has a generation (`account_session`, 0
when there is no row). A login writes the current generation into the
session (`GENERATION_KEY`) and into an API token (claim `gen`); loading the
user on each request (app/security.py `load_user`, `load_user_jwt`)
compares it with the database and treats a stale one as logged out. Logout,
a password change and a password reset call `end_sessions`, which adds one:
every browser and token of that account is logged out at its next request.
The session that changed its password is stamped again (`stamp`) and stays.

Login limits (M1), with Flask-Limiter's storage and strategy (the limiter
FAB creates; `RATELIMIT_STORAGE_URI`: unset, the counts live in the app's
database and every server and worker shares them — app/rate_limits.py;
`memory://` counts per process; `redis://host:6379/0` shares them through
Redis, with the `redis` package installed): failed logins are counted per account
(`LOGIN_LIMIT_PER_ACCOUNT`) and per client address (`LOGIN_LIMIT_PER_IP`),
for the login form and `/api/v1/security/login` together, and for a wrong
current password on 修改密码. Once either is reached every further attempt —
the right password too — is answered 429 with a Chinese message until the
window has passed. Only failures count, so people behind one office address
are not locked out by each other's successful logins.
"""
from __future__ import annotations

import math
import time
from contextlib import nullcontext

import sqlalchemy as sa
from flask import current_app, session
from flask_babel import gettext as _
from limits import parse
from werkzeug.exceptions import TooManyRequests

from .clock import utcnow
from .extensions import db
from .models import AccountSession
from .rate_limits import DatabaseStorage
from .serving import client_ip
from .transactions import outside_transaction

GENERATION_KEY = "_court_gen"


# --- session generations (M2) ------------------------------------------------------

def generation(user_id: int) -> int:
    value = db.session.scalar(sa.select(AccountSession.generation).where(AccountSession.user_id == user_id))
    return value or 0


def stamp(user_id: int) -> None:
    """This session belongs to the account's current generation (at login, after a password change)."""
    session[GENERATION_KEY] = generation(user_id)


def generation_of(user_id_column):
    """`generation` as a column of a statement that loads the account (app/security.py `load_user`)."""
    return sa.func.coalesce(sa.select(AccountSession.generation).where(AccountSession.user_id == user_id_column)
                            .scalar_subquery(), 0)


def is_current(user_id: int, stamped) -> bool:
    return matches(stamped, generation(user_id))


def matches(stamped, current: int) -> bool:
    """Whether a session or token stamped with `stamped` belongs to the account's `current` generation."""
    return stamped is not None and stamped == current


def end_sessions(user_id: int | None) -> None:
    """Every session and API token of the account ends at its next request (flushes, never commits)."""
    if user_id is None:
        return
    row = db.session.get(AccountSession, user_id)
    if row is None:
        db.session.add(AccountSession(user_id=user_id, generation=1, changed_at=utcnow()))
    else:
        row.generation += 1
        row.changed_at = utcnow()
    db.session.flush()


# --- login limits (M1) -------------------------------------------------------------

class LoginLocked(TooManyRequests):
    """429: too many failed logins for the account or the address; says how long to wait."""

    def __init__(self, seconds: int):
        minutes = max(1, math.ceil(seconds / 60))
        super().__init__(description=_("Too many failed logins for this account or from this address. "
                                       "Try again in %(m)d minutes.", m=minutes))
        self.retry_after = max(1, int(seconds))
        self.court_message = self.description

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


def _keys(account: str) -> list[tuple[object, tuple[str, str]]]:
    config = current_app.config
    return [
        (parse(config.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")), ("login-account", account.lower())),
        (parse(config.get("LOGIN_LIMIT_PER_IP", "30 per 15 minutes")), ("login-ip", client_ip() or "-")),
    ]


def _limiter():
    return current_app.appbuilder.sm.limiter


def check_login_allowed(account: str) -> None:
    """Raise `LoginLocked` while the account or this address has used up its failed attempts."""
    limiter = _limiter()
    if not limiter.enabled:
        return
    for limit, keys in _keys(account):
        if not limiter.limiter.test(limit, *keys):
            reset_at, _remaining = limiter.limiter.get_window_stats(limit, *keys)
            raise LoginLocked(reset_at - time.time())


def login_failed(account: str) -> None:
    """Count one failed attempt against the account and this address.

    Counted in the database (app/rate_limits.py) on SQLite, the request's read transaction ends first:
    a POST's transaction holds the one write lock, which the storage's own connection would wait for.
    """
    limiter = _limiter()
    if not limiter.enabled:
        return
    storage = limiter.limiter.storage
    shares_sqlite = isinstance(storage, DatabaseStorage) and storage.engine.dialect.name == "sqlite"
    with outside_transaction() if shares_sqlite else nullcontext():
        for limit, keys in _keys(account):
            limiter.limiter.hit(limit, *keys)
