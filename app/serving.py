"""Serving like production: proxies, request ids, structured logs, TLS headers, the refusal to start unsafe.

- `PROXY_COUNT` trusted proxies in front (nginx: 1) → Werkzeug's `ProxyFix`
  takes the client address, scheme, host and prefix from their
  `X-Forwarded-*` headers; with 0 (development) those headers are ignored.
- Every request gets an id: the proxy's `X-Request-Id` when it looks like one
  (nginx `$request_id`), else a new one. It is on the response, in every log
  line of the request and on the error pages, so a user's "请求编号" finds the
  log lines.
- `LOG_FORMAT=json` (the production default) writes one JSON object per line
  (time, level, logger, message, request id, and for the access line method,
  path, status, duration and client); "text" is for a terminal.
- Behind TLS (`request.is_secure`, i.e. https or the proxy said so) every
  response carries `Strict-Transport-Security`; the production profile marks
  the session and remember cookies Secure (config.py).
- `external_url(endpoint)` is the address someone else's device opens (the
  signing QR): `EXTERNAL_BASE_URL` when configured, else the request's host.
- `client_ip()` is the client's address as ProxyFix left it in
  `remote_addr` (finding M6): a raw `X-Forwarded-For` is never read, so a
  client cannot write any address it likes into the audit trail or a
  signature.
- Security headers on every response (finding L1): a Content-Security-Policy
  whose scripts are the app's own files or inline blocks carrying this
  request's nonce (`csp_nonce()` in templates — FAB's templates already ask
  for it), `frame-ancestors 'none'` and `X-Frame-Options: DENY` (no page, the
  signing pad above all, can be framed by another site), `nosniff`,
  `Referrer-Policy: same-origin` (`no-referrer` on pages marked `@sensitive`:
  their URL carries a signing token), and `Cache-Control: no-store` on
  everything but static files. gunicorn's own `Server` header is dropped in
  deploy/gunicorn.conf.py.
- Files the process creates (the SQLite database, exports, recordings,
  backups, the generated secret key) are readable by its own user only
  (`FILE_UMASK`, default 0o077: finding L7).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import sys
import time
import uuid
from typing import Callable

from flask import Flask, current_app, g, has_request_context, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

access_log = logging.getLogger("court.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site ("/cases/…?page=2"), else None: no "//host", "/\\host" or scheme."""
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    return target


def request_id() -> str | None:
    return getattr(g, "request_id", None) if has_request_context() else None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields given with `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(rid)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.rid = getattr(record, "request_id", None) or "-"
        text = super().format(record)
        fields = getattr(record, "fields", None)
        return f"{text} {json.dumps(fields, ensure_ascii=False, default=str)}" if fields else text


def configure_logging(app: Flask) -> None:
    """One handler on the root logger, JSON or text; the test suite keeps pytest's own."""
    if app.testing:
        return
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "court", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.court = True
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if app.config.get("LOG_FORMAT") == "json" else TextFormatter())
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # FAB narrates every permission it adds and every view it registers at INFO.
    logging.getLogger("flask_appbuilder").setLevel(logging.WARNING)


def client_ip() -> str | None:
    """The client's address: what the trusted proxies said (ProxyFix, `PROXY_COUNT`), else the peer's."""
    return (request.remote_addr or None) if has_request_context() else None


def sensitive(view: Callable) -> Callable:
    """Mark a view whose URL or page must not leak: no Referer at all leaves it (signing pages)."""
    view.sensitive_page = True
    return view


def csp_nonce() -> str:
    """This request's script nonce (templates: `nonce="{{ csp_nonce() }}"`)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; connect-src 'self'{connect}; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
STATIC_ENDPOINTS = {"static", "appbuilder.static"}


def _janus_origin() -> str:
    """VIDEO_BACKEND=janus with JANUS_URL on another origin: the room page's script may call it."""
    url = current_app.config.get("JANUS_URL") or ""
    if current_app.config.get("VIDEO_BACKEND") != "janus" or "://" not in url:
        return ""
    scheme, rest = url.split("://", 1)
    return f" {scheme}://{rest.split('/', 1)[0]}"


def security_headers(response):
    """The L1 headers (see the module docstring); a header a view set itself is kept."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce(), connect=_janus_origin()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    view = current_app.view_functions.get(request.endpoint or "")
    headers.setdefault("Referrer-Policy", "no-referrer" if getattr(view, "sensitive_page", False) else "same-origin")
    if request.endpoint not in STATIC_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def install(app: Flask) -> None:
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count,
                                x_prefix=count)
    configure_logging(app)
    umask = app.config.get("FILE_UMASK", 0o077)
    if umask is not None:
        os.umask(umask)
    # a global, not a context processor: FAB's macros (imported without context) ask for it too
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        rid = request_id()
        if rid:
            response.headers["X-Request-Id"] = rid
        security_headers(response)
        if request.is_secure and app.config.get("HSTS_SECONDS"):
            response.headers.setdefault("Strict-Transport-Security",
                                        f"max-age={int(app.config['HSTS_SECONDS'])}; includeSubDomains")
        started = getattr(g, "request_started", None)
        user = getattr(g, "user", None)
        access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": {
            "method": request.method, "path": request.path, "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "client": request.remote_addr,
            "user_id": getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None,
        }})
        return response


def external_url(endpoint: str, **values) -> str:
    """An absolute URL that another device can open: `EXTERNAL_BASE_URL` + path, else the request's host."""
    base = (current_app.config.get("EXTERNAL_BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
