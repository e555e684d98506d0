"""How a request's transaction ends (app/transactions.py `end_request`).

A reading request that wrote nothing ends with COMMIT: for the database the same as the session's
ROLLBACK, but psycopg keeps its prepared statements across a COMMIT and forgets them at a ROLLBACK,
so PostgreSQL re-planned every statement of every page (issue 17 item 7). Anything that wrote, or
means to undo something, or failed, must still end as before."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Court
from app.transactions import end_request, on_rollback

from .helpers import app_ctx, counted_commits


def _court_name(app, code="京0105"):
    with app_ctx(app):
        return db.session.scalar(sa.select(Court.name).where(Court.code == code))


def test_a_page_that_only_read_ends_its_transaction_with_a_commit(app, login_as):
    c = login_as("13800000001")
    with counted_commits() as seen:
        assert c.get("/cases/pre-litigation/list/").status_code == 200
    assert len(seen) == 1  # the page's read transaction, committed at the end (nothing else commits)


def test_a_reading_request_that_changed_something_is_not_committed_here(app):
    before = _court_name(app)
    for how in ("pending", "flushed"):
        with app.test_request_context("/", method="GET"):
            court = db.session.scalar(sa.select(Court).where(Court.code == "京0105"))
            court.name = "不应保存的法院名"
            if how == "flushed":
                db.session.flush()
            with counted_commits() as seen:
                end_request(None)
            assert seen == [], how
            db.session.remove()
        assert _court_name(app) == before, how


def test_a_pending_undo_a_failure_or_a_write_request_ends_as_before(app):
    undone = []
    with app.test_request_context("/", method="GET"):
        db.session.scalar(sa.select(Court.id).limit(1))
        on_rollback(db.session(), lambda: undone.append("room"))
        with counted_commits() as seen:
            end_request(None)
        assert seen == [] and db.session().in_transaction()
        db.session.rollback()  # what the edge does with it
        assert undone == ["room"]
        db.session.remove()
    for method, exc in (("GET", RuntimeError("the page failed")), ("POST", None)):
        with app.test_request_context("/", method=method):
            db.session.scalar(sa.select(Court.id).limit(1))
            with counted_commits() as seen:
                end_request(exc)
            assert seen == [] and db.session().in_transaction(), method
            db.session.remove()
