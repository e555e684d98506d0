"""API keys of the outside systems: the ministry platforms (总对总) and the court intranet [SPEC §7].

A key is shown once when it is made (`flask ministry-api-key`, `flask
intranet-api-key`) and stored only as its SHA-256; a request presents it in
the `X-Api-Key` header. A missing, unknown or revoked key is `UnknownKey`,
which the request edge answers with 401.
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

from .extensions import db
from .workflows import DomainError


class UnknownKey(DomainError):
    """No key, or one that is unknown or revoked (401)."""

    status_code = 401


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_from_header(model):
    """The unrevoked key row of `model` matching the request's X-Api-Key, or None."""
    key = request.headers.get("X-Api-Key", "")
    if not key:
        return None
    return db.session.scalar(sa.select(model).where(model.key_hash == hash_key(key), model.revoked_at.is_(None)))


def require_key(model):
    """The key row of `model` the request presents; `UnknownKey` when there is none."""
    api_key = key_from_header(model)
    if api_key is None:
        raise UnknownKey(_("Missing or unknown API key."))
    return api_key
