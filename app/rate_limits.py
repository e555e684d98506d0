"""Rate-limit counts kept in the app's own database, so every app server shares them (issue 17 item 3).

Flask-Limiter counts in a `limits` storage. `memory://` is one process's
count: behind two app servers (or two gunicorn workers) each would allow the
full number of failed logins. This storage (`courtdb://`, the default when
`RATELIMIT_STORAGE_URI` is not set — app/__init__.py) keeps the counts in the
`rate_limit` table of the database the app already has, so no extra service
is needed; `redis://host:6379/0` remains the choice for large deployments.

It implements the fixed-window interface (`incr`, `get`, `get_expiry`): one
row per key with its count and the moment its window ends. An increment is
one statement — `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING count` on
SQLite (3.35+) and PostgreSQL — so two servers counting at once never lose a
hit, and a window that has passed starts again at the same statement.

The storage has an engine of its own (same URL, its own pool): each
increment is its own short transaction, committed at once, never part of the
request's transaction — a request that rolls back keeps its failed login
counted, and the limiter never commits the request's changes. On SQLite a
write waits for the one write lock, so a caller holding it in the same thread
must end its transaction first (app/sessions.py `login_failed` does).
Expired rows are deleted every `CLEANUP_EVERY` increments of a process.
"""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from limits.errors import ConfigurationError
from limits.storage import Storage

from .models import RateLimitCount

SCHEME = "courtdb"
CLEANUP_EVERY = 200

_TABLE = RateLimitCount.__table__


def _upsert(dialect: str):
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise ConfigurationError(f"courtdb:// rate limits need SQLite or PostgreSQL, not {dialect}")
    return insert


class DatabaseStorage(Storage):
    """`courtdb://` — the counts in the app database's `rate_limit` table (see the module docstring).

    Options (Flask-Limiter's RATELIMIT_STORAGE_OPTIONS): `url`, the database URL (create_app passes
    SQLALCHEMY_DATABASE_URI), and `engine_options` for `sqlalchemy.create_engine`.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, url: str | None = None,
                 engine_options: dict | None = None, **_options):
        if not url:
            raise ConfigurationError("courtdb:// needs the database url (RATELIMIT_STORAGE_OPTIONS url)")
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        options = dict(engine_options or {})
        if url.startswith("sqlite"):
            options.setdefault("connect_args", {"timeout": 30})
        self._insert = _upsert(sa.engine.make_url(url).get_backend_name())
        self.engine = sa.create_engine(url, **options)
        self._increments = 0
        self._lock = threading.Lock()

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the key's window (a new one of `expiry` seconds once it has passed); its count."""
        now = time.time()
        ended = _TABLE.c.expires_at <= now
        statement = self._insert(_TABLE).values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[_TABLE.c.key],
            set_={"count": sa.case((ended, amount), else_=_TABLE.c.count + amount),
                  "expires_at": sa.case((ended, now + expiry), else_=_TABLE.c.expires_at)},
        ).returning(_TABLE.c.count)
        with self.engine.begin() as conn:
            count = conn.execute(statement).scalar_one()
        self._maybe_clean_up(now)
        return count

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            count = conn.scalar(sa.select(_TABLE.c.count).where(_TABLE.c.key == key,
                                                               _TABLE.c.expires_at > time.time()))
        return count or 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self.engine.connect() as conn:
            expires_at = conn.scalar(sa.select(_TABLE.c.expires_at).where(_TABLE.c.key == key,
                                                                         _TABLE.c.expires_at > now))
        return expires_at or now

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(_TABLE))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_TABLE)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_TABLE).where(_TABLE.c.key == key))

    def clean_up(self, now: float | None = None) -> int:
        """Delete the rows whose window has passed; how many."""
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_TABLE).where(_TABLE.c.expires_at <= (now or time.time()))).rowcount

    def _maybe_clean_up(self, now: float) -> None:
        with self._lock:
            self._increments += 1
            due = self._increments % CLEANUP_EVERY == 0
        if due:
            self.clean_up(now)


def configure(config) -> None:
    """No RATELIMIT_STORAGE_URI given: count in the app's database (fixed windows, shared by every server)."""
    if config.get("RATELIMIT_STORAGE_URI"):
        return
    config["RATELIMIT_STORAGE_URI"] = f"{SCHEME}://"
    config["RATELIMIT_STORAGE_OPTIONS"] = {"url": config["SQLALCHEMY_DATABASE_URI"],
                                           **config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    config["RATELIMIT_STRATEGY"] = "fixed-window"
