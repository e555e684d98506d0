"""The two apps `benchmarks.concurrency` serves with gunicorn.

`after()` is the app as it is. `before()` reproduces main until issue 16:
every transaction begins IMMEDIATE (reads included) — the request-independent
choice `app.transactions.writing()` makes for the worker process's whole
life — on a database the harness switched back to the rollback journal.
"""
from __future__ import annotations

from app import create_app
from app.transactions import writing


def after():
    return create_app()


#: kept referenced: a dropped context manager would reset the mode when it is collected
_ALWAYS_WRITING = writing()


def before():
    _ALWAYS_WRITING.__enter__()  # this process's context writes: every BEGIN is IMMEDIATE, as before issue 16
    return create_app({"SQLITE_WAL": False})
