"""Error answers in Chinese with the request id: an HTML page, or JSON under /api/.

Every HTTP error the app raises (abort, Werkzeug routing, Flask-WTF's CSRF
refusal, Flask-Limiter's 429, an unhandled exception's 500) ends here:

- pages get `court/error.html`: a standalone page (it renders even when the
  database or the login state is what broke), the Chinese message and the
  request id to quote to support;
- paths under /api/ get the one JSON error shape of the request edge,
  `{"status": "error", "reason": …, "request_id": …}`.

Refusals of a workflow (`DomainError`) never get here: the request edge answers
those itself (app/views/edge.py).
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .serving import request_id

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


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle)
    app.register_error_handler(InternalServerError, handle)
