"""Business rules, one module per process. Workflows flush, never commit.

A refusal is a `DomainError` carrying a translated message and the HTTP status
it maps to; the request edge (app/views/edge.py) rolls the transaction back
and turns it into a flash or a JSON error in one place.
"""
from __future__ import annotations


class DomainError(Exception):
    """A guard refused the operation; `message` is shown to the user as is."""

    status_code = 400
    #: the edge commits what the step recorded before refusing (a failed code attempt counts)
    keeps_changes = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


class NotAllowed(DomainError):
    """The actor may not do this (403)."""

    status_code = 403


class NotFound(DomainError):
    """Nothing the actor may see goes by that name (404)."""

    status_code = 404


class Conflict(DomainError):
    """Someone else changed the subject first, or it already happened (409)."""

    status_code = 409


class TooMany(DomainError):
    """Too many attempts; try later (429)."""

    status_code = 429


class ValidationFailed(DomainError):
    """Several problems found at once (e.g. the fields of a form, the rows of a bulk import)."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message)
        self.errors = [str(e) for e in errors]
