"""Failed-login counts in the app's own database (app/rate_limits.py, issue 17 item 3): the `courtdb://`
storage counts atomically across connections and processes, windows pass and their rows are cleaned up,
it is the default when no RATELIMIT_STORAGE_URI is given, and its writes are never part of the request's
transaction. Run on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from limits import parse
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.extensions import db
from app.models import Court, RateLimitCount
from app.rate_limits import DatabaseStorage
from app.transactions import reading

from .helpers import PASSWORD, app_ctx, login, make_app, text

ADMIN, JUDGE = "13800000001", "13800000002"


@pytest.fixture()
def storage(db_url):
    store = storage_from_string("courtdb://", url=db_url)
    yield store
    store.engine.dispose()


@pytest.fixture()
def shared_app(db_url):
    """An app with no RATELIMIT_STORAGE_URI: the counts go to its database."""
    app = make_app(db_url, RATELIMIT_STORAGE_URI=None, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    yield app
    app.appbuilder.sm.limiter.limiter.storage.engine.dispose()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rows(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(RateLimitCount.key, RateLimitCount.count)).all())


def test_the_scheme_is_registered_and_needs_the_database_url(db_url):
    assert isinstance(storage_from_string("courtdb://", url=db_url), DatabaseStorage)
    with pytest.raises(ConfigurationError):
        storage_from_string("courtdb://")
    with pytest.raises(ConfigurationError):
        storage_from_string("courtdb://", url="mysql+pymysql://nobody@127.0.0.1/none")


def test_increments_count_within_the_window_and_start_again_after_it(storage):
    assert storage.get("k") == 0
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.get("k") == 5
    assert time.time() + 55 < storage.get_expiry("k") <= time.time() + 60
    assert storage.incr("short", 1) == 1
    time.sleep(1.1)
    assert storage.get("short") == 0  # the window has passed
    assert storage.incr("short", 1) == 1  # and the next hit starts a new one
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()


def test_two_connections_counting_at_once_lose_no_increment(storage, db_url):
    other = DatabaseStorage("courtdb://", url=db_url)  # a second server: its own engine and pool
    errors = []

    def hammer(store):
        try:
            for _ in range(25):
                store.incr("login-account/both", 600)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in (storage, other, storage, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.engine.dispose()
    assert not errors
    assert storage.get("login-account/both") == 100


def test_expired_rows_are_cleaned_up(storage, monkeypatch):
    storage.incr("gone", 1)
    storage.incr("kept", 600)
    assert storage.clean_up(time.time() + 2) == 1
    assert _rows(storage) == {"kept": 1}
    monkeypatch.setattr("app.rate_limits.CLEANUP_EVERY", 2)
    storage.incr("gone-too", 1)
    time.sleep(1.1)
    storage.incr("kept", 600)  # every second increment of the process cleans up
    assert _rows(storage) == {"kept": 2}
    assert storage.reset() == 1 and _rows(storage) == {}


def test_the_fixed_window_limiter_runs_on_it(storage):
    limiter, limit = FixedWindowRateLimiter(storage), parse("2 per minute")
    assert limiter.hit(limit, "a") and limiter.hit(limit, "a")
    assert not limiter.hit(limit, "a") and not limiter.test(limit, "a")
    assert limiter.test(limit, "b")
    reset_at, remaining = limiter.get_window_stats(limit, "a")
    assert remaining == 0 and reset_at > time.time() + 50


def test_the_database_is_the_default_storage_and_memory_stays_possible(shared_app, db_url):
    limiter = shared_app.appbuilder.sm.limiter.limiter
    assert isinstance(limiter.storage, DatabaseStorage) and isinstance(limiter, FixedWindowRateLimiter)
    memory = make_app(db_url, RATELIMIT_STORAGE_URI="memory://")
    assert isinstance(memory.appbuilder.sm.limiter.limiter.storage, MemoryStorage)


def test_failed_logins_are_counted_in_the_database_and_lock_the_account_in_chinese(shared_app):
    for _ in range(3):
        resp = login(shared_app.test_client(), ADMIN, password="Wrong-pass1")
        assert resp.status_code == 200 and "密码" in text(resp)
    storage = shared_app.appbuilder.sm.limiter.limiter.storage
    counts = _rows(storage)
    assert [v for k, v in counts.items() if ADMIN in k] == [3]
    locked = login(shared_app.test_client(), ADMIN)  # the right password, from another browser
    assert locked.status_code == 429 and "登录失败次数过多" in text(locked)
    assert int(locked.headers["Retry-After"]) > 60
    assert login(shared_app.test_client(), JUDGE, password=PASSWORD).status_code == 302


def test_the_count_is_committed_on_its_own_not_with_the_request(shared_app):
    """The limiter's write is its own transaction: it stays when the session's transaction rolls back,
    and it commits none of the session's changes (PostgreSQL: beside a flushed change; SQLite, whose one
    write lock a flushed change would hold, beside a read transaction — app/sessions.py login_failed)."""
    storage = shared_app.appbuilder.sm.limiter.limiter.storage
    with app_ctx(shared_app), reading():
        court = db.session.scalar(sa.select(Court).where(Court.code == "京0105"))
        name = court.name
        if db.engine.dialect.name != "sqlite":
            court.name = "改名未提交"
            db.session.flush()
        storage.incr("login-account/side", 600)
        db.session.rollback()
        assert db.session.scalar(sa.select(Court.name).where(Court.code == "京0105")) == name
    assert storage.get("login-account/side") == 1
