"""Error answers in Chinese with the request id: an HTML page, or JSON under /api/.

Every HTTP error the app raises (abort, Werkzeug routing, Flask-WTF's CSRF
refusal, Flask-Limiter's 429, an unhandled exception's 500) ends here:

- pages get `court/error.html`: a standalone page (it renders even when the
  database or the login state is what broke), the Chinese message and the
  request id to quote to support;
- paths under /api/ get the one JSON error shape of the request edge,
  `{"status": "error", "reason": …, "request_id": …}`. So do the answers
  that never raise here: FAB's API refusals (`{"message": …}` from
  `protect()`, `response_404`, …) and Flask-JWT-Extended's token errors
  (`{"msg": …}`, 401/422) are rewritten after the request (`api_error_shape`),
  the token errors with their own Chinese reason (`JWT_MESSAGES`).

Refusals of a workflow (`DomainError`) never get here: the request edge answers
those itself (app/views/edge.py).

Malformed input answers 400, never 500 (finding L2), on every FAB list view
and API:
- before any view runs, `check_arguments` refuses FAB's list parameters
  that FAB would choke on (`page_<View>` not a number, `psize_<View>` not
  1–`MAX_PAGE_SIZE`,
  `_od_` not asc/desc, `_oc_` not a column the view orders by), a rison `q`
  under /api/ that does not parse, and an id in the path beyond what an id
  column holds (`MAX_ID`: the 32-bit integer of PostgreSQL's `integer`);
- a value the database layer cannot take — an unknown enum code in a
  filter, a number too large, PostgreSQL's "invalid input" — is turned into
  a 400 where SQLAlchemy reports it (the engine's `handle_error`), whichever
  view or API ran the query (FAB's API `@safe` answers a `BadRequest` with
  400 too). It is logged as a warning with the original error.
"""
from __future__ import annotations

import json
import logging
import re

import prison
import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from .extensions import db
from .serving import request_id

log = logging.getLogger("court.errors")

#: the largest id an id column holds (PostgreSQL `integer`); a larger one in a URL is malformed
MAX_ID = 2 ** 31 - 1
_NUMBER = re.compile(r"^[0-9]{1,9}$")
#: FAB's page-size menu offers 25 to 100; 0 would divide by zero in its template, a million read a table
MAX_PAGE_SIZE = 100

TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Upload too large"),
    429: _l("Too many requests"),
    500: _l("Server error"),
}

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to do this."),
    404: _l("The page you asked for does not exist or has been removed."),
    405: _l("This address does not accept that kind of request."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on our side. The error has been logged; try again later."),
}

#: Flask-JWT-Extended's refusals, by the loader that answers them (`register_jwt_answers`)
JWT_MESSAGES = {
    "unauthorized": _l("This API needs an access token: log in through /api/v1/security/login first."),
    "invalid": _l("The access token is not valid. Log in again."),
    "expired": _l("The access token has expired. Log in again or use the refresh token."),
    "user": _l("The account of this access token is no longer logged in. Log in again."),
    "fresh": _l("This needs a freshly issued access token. Log in again."),
}

#: an API refusal that came without a reason of ours (FAB's English `message`, JWT's `msg`)
API_MESSAGES = {
    401: JWT_MESSAGES["unauthorized"],
    422: JWT_MESSAGES["invalid"],
}

# Flask-WTF's reasons (flask_wtf/csrf.py), in the words a user can act on.
CSRF_MESSAGES = {
    "The CSRF token is missing.": _l("The form is missing its security token. Reload the page and try again."),
    "The CSRF session token is missing.": _l("Your session has expired. Reload the page and try again."),
    "The CSRF token has expired.": _l("The form has expired. Reload the page and try again."),
    "The CSRF token is invalid.": _l("The form's security token is invalid. Reload the page and try again."),
    "The CSRF tokens do not match.": _l("The form's security token is invalid. Reload the page and try again."),
    "The referrer header is missing.": _l("The request did not say which page it came from."),
    "The referrer does not match the host.": _l("The request came from another site."),
}


def message_for(error: HTTPException) -> str:
    if getattr(error, "court_message", None):  # an error that carries its own Chinese message (a login lock)
        return str(error.court_message)
    if isinstance(error, CSRFError):
        return str(CSRF_MESSAGES.get(error.description, MESSAGES[400]))
    if error.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return _("The upload is larger than %(mb)d MB.", mb=limit)
    code = error.code or 500
    return str(MESSAGES.get(code) or MESSAGES[500 if code >= 500 else 400])


def wants_json() -> bool:
    return request.path.startswith("/api/")


def handle(error: HTTPException):
    code = error.code or 500  # an unhandled exception was logged by Flask, with the request id
    message = message_for(error)
    if wants_json():
        response = jsonify(status="error", reason=message, request_id=request_id())
    else:
        response = current_app.make_response(render_template(
            "court/error.html", code=code, title=str(TITLES.get(code) or TITLES[500 if code >= 500 else 400]),
            message=message, request_id=request_id()))
    response.status_code = code
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    for name, value in (error.get_headers() if code == 429 else []):
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


def api_refusal(code: int, reason):
    response = jsonify(status="error", reason=str(reason), request_id=request_id())
    response.status_code = code
    return response


def api_error_shape(response):
    """After every /api/ request: an error answer in any other JSON shape gets ours, same status and headers."""
    if response.status_code < 400 or not request.path.startswith("/api/") or not response.is_json:
        return response
    body = response.get_json(silent=True)
    if isinstance(body, dict) and body.get("status") == "error" and "reason" in body:
        return response
    code = response.status_code
    reason = API_MESSAGES.get(code) or MESSAGES.get(code) or MESSAGES[500 if code >= 500 else 400]
    response.set_data(json.dumps({"status": "error", "reason": str(reason), "request_id": request_id()},
                                 ensure_ascii=False))
    response.mimetype = "application/json"
    return response


def register_jwt_answers(jwt_manager) -> None:
    """Flask-JWT-Extended's token refusals in the one shape, each with what the client should do."""
    jwt_manager.unauthorized_loader(lambda _reason: api_refusal(401, JWT_MESSAGES["unauthorized"]))
    jwt_manager.invalid_token_loader(lambda _reason: api_refusal(422, JWT_MESSAGES["invalid"]))
    jwt_manager.expired_token_loader(lambda _header, _data: api_refusal(401, JWT_MESSAGES["expired"]))
    jwt_manager.revoked_token_loader(lambda _header, _data: api_refusal(401, JWT_MESSAGES["user"]))
    jwt_manager.user_lookup_error_loader(lambda _header, _data: api_refusal(401, JWT_MESSAGES["user"]))
    jwt_manager.needs_fresh_token_loader(lambda _header, _data: api_refusal(401, JWT_MESSAGES["fresh"]))


class Malformed(BadRequest):
    """A request whose parameters cannot be understood (finding L2)."""

    def __init__(self):
        super().__init__(description=str(MESSAGES[400]))


def _views_by_name() -> dict:
    views = current_app.extensions.get("court_views_by_name")
    if views is None:
        views = {type(v).__name__: v for v in current_app.appbuilder.baseviews}
        current_app.extensions["court_views_by_name"] = views
    return views


def _id_like(name: str) -> bool:
    return name in ("pk", "id") or name.endswith("_id")


def check_arguments() -> None:
    """Refuse malformed list parameters and ids with 400 before a view runs (see the module docstring)."""
    for name, value in request.args.items(multi=True):
        if name.startswith("page_"):
            if not _NUMBER.match(value):
                raise Malformed()
        elif name.startswith("psize_"):
            if not _NUMBER.match(value) or not 1 <= int(value) <= MAX_PAGE_SIZE:
                raise Malformed()
        elif name.startswith("_od_"):
            if value not in ("asc", "desc"):
                raise Malformed()
        elif name.startswith("_oc_"):
            view = _views_by_name().get(name[4:])
            if view is not None and value not in (getattr(view, "order_columns", None) or ()):
                raise Malformed()
    if request.path.startswith("/api/") and "q" in request.args:
        try:
            prison.loads(request.args["q"])
        except Exception:  # prison raises several kinds on garbage
            raise Malformed() from None
    for name, value in (request.view_args or {}).items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise Malformed()
        if isinstance(value, str) and _id_like(name) and value.isdigit() and (len(value) > 10 or int(value) > MAX_ID):
            raise Malformed()


#: what the database layer raises for a value it cannot take (not a failure of the database itself)
_CONVERSION = (LookupError, ValueError, TypeError, OverflowError)


def _malformed_value(context) -> BaseException | None:
    """The engine's `handle_error`: a parameter the database cannot take becomes a 400 (module docstring)."""
    original = context.original_exception
    if not has_request_context():
        return None
    if isinstance(original, _CONVERSION) or isinstance(context.sqlalchemy_exception, sa.exc.DataError):
        log.warning("malformed value in %s %s: %s", request.method, request.path, original)
        return Malformed()
    return None


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle)
    app.register_error_handler(InternalServerError, handle)
    app.before_request(check_arguments)
    app.after_request(api_error_shape)
    register_jwt_answers(app.appbuilder.sm.jwt_manager)
    with app.app_context():
        engine = db.engine
    if not event.contains(engine, "handle_error", _malformed_value):
        event.listen(engine, "handle_error", _malformed_value)
