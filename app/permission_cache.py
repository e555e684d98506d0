"""The acting user's permissions and sidebar, computed once per role set and kept per process
(issue 17 item 5).

FAB answers `has_access` by walking the user's roles to their permissions (an ORM query per
role, every permission row built as objects), and the sidebar asks it once per menu leaf with
a `url_for` each: a fixed cost on every page that changes only when roles or permissions do.
So both are kept in a process-wide dict, keyed on the acting roles (after the portal narrowed
them, app/security.py) and on the newest `security_version` token.

Any flush that adds, changes or deletes a role, a permission, a view menu or a
permission-on-view (the 角色 screen, `flask fab`, `seed-roles`) adds a `security_version` row
in the same transaction (`install`), so the next request of every app server reads a new
token and misses its cache. A rolled-back change leaves a token nobody reads again. A change
made behind the ORM's back (raw SQL on `ab_*`) needs a restart or a new row.
"""
from __future__ import annotations

import uuid
from itertools import chain

import sqlalchemy as sa
from flask import g, has_request_context
from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu
from sqlalchemy import event

from .models import SecurityVersion

_SECURITY_MODELS = (Role, Permission, PermissionView, ViewMenu)
#: entries per cache before it starts again (role sets × portals × languages is small)
MAX_ENTRIES = 512


def _before_flush(session, flush_context, instances) -> None:
    if any(isinstance(obj, _SECURITY_MODELS) for obj in chain(session.new, session.dirty, session.deleted)):
        session.add(SecurityVersion(token=uuid.uuid4().hex))
        if has_request_context():
            g.pop("_security_token", None)
            g.pop("_permissions", None)
            g.pop("_access", None)


def install(session_class) -> None:
    """Add a version row to every flush that changes roles or permissions (idempotent)."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)


def newest_token():
    """`token` as a column of a statement the request runs anyway (app/security.py `load_user`)."""
    return sa.select(SecurityVersion.token).order_by(SecurityVersion.id.desc()).limit(1).scalar_subquery()


def remember(value: str | None) -> None:
    """The security version this request read with its account: `token` asks no more."""
    g._security_token = value


def token(session) -> str | None:
    """The newest security version (read once per request); None before any change."""
    if has_request_context() and "_security_token" in g:
        return g._security_token
    value = session.scalar(sa.select(SecurityVersion.token).order_by(SecurityVersion.id.desc()).limit(1))
    if has_request_context():
        g._security_token = value
    return value


class Cache(dict):
    """A dict that starts again instead of growing past MAX_ENTRIES."""

    def put(self, key, value):
        if len(self) >= MAX_ENTRIES:
            self.clear()
        self[key] = value
        return value
