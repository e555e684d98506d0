"""The end of every state-changing request (Indico's `RH.process`).

A handler decorated with `@edge` does its work through workflows, which flush
and never commit. The edge then commits once. If a workflow refuses — any
`DomainError` — it rolls the whole request back and answers in one place:

- a page gets the Chinese message as a flash (and each listed problem of a
  `ValidationFailed`), then either the handler's `refused(exc, …)` response
  (typically the same form again, with what was typed) or a redirect back to
  the page the request came from;
- an API (`@edge(api=True)`) gets `{"status": "error", "reason": …}` with the
  error's status code (400, 403, 404, 409, 429).

Anything else that escapes rolls back and propagates. No view commits or
catches a `DomainError` itself; FAB's own CRUD commit is the one other
commit, for the generated add/edit/delete screens.
"""
from __future__ import annotations

import functools
from typing import Callable, Optional
from urllib.parse import urlparse

from flask import flash, jsonify, redirect, request

from ..extensions import db
from ..workflows import DomainError, ValidationFailed


def refusal_json(exc: DomainError):
    """The one JSON error shape of every API."""
    body = {"status": "error", "reason": exc.message}
    if isinstance(exc, ValidationFailed) and exc.errors:
        body["errors"] = exc.errors
    return jsonify(body), exc.status_code


def flash_refusal(exc: DomainError) -> None:
    flash(exc.message, "danger")
    if isinstance(exc, ValidationFailed):
        for problem in exc.errors:
            flash(problem, "danger")


def _back():
    """Where the request came from, when that is this site; else the same URL."""
    ref = request.referrer
    if ref:
        parsed = urlparse(ref)
        if parsed.netloc in ("", request.host):
            return redirect(ref)
    return redirect(request.url)


def edge(handler: Optional[Callable] = None, *, refused: Optional[str | Callable] = None, api: bool = False):
    """Commit once after `handler`, or roll back and answer its refusal.

    `refused` is a method name (on the view the handler belongs to) or a
    function called with the handler's arguments plus `exc=`; its response
    replaces the default redirect back.
    """

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                response = fn(*args, **kwargs)
            except DomainError as exc:
                if exc.keeps_changes:
                    db.session.commit()
                else:
                    db.session.rollback()
                if api:
                    return refusal_json(exc)
                flash_refusal(exc)
                if refused is None:
                    return _back()
                answer = getattr(args[0], refused) if isinstance(refused, str) else refused
                bound = args[1:] if isinstance(refused, str) else args
                return answer(*bound, exc=exc, **kwargs)
            except BaseException:
                db.session.rollback()
                raise
            db.session.commit()
            return response

        return run

    return wrap(handler) if handler is not None else wrap
