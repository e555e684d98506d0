"""Business rules, one module per process. Workflows flush, never commit.

A refusal is a `DomainError` carrying a translated message; views turn it into
a flash (or an HTTP status) in one place and roll the transaction back.
"""
from __future__ import annotations


class DomainError(Exception):
    """A guard refused the operation; `message` is shown to the user as is."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Several problems found at once (e.g. the rows of a bulk import)."""

    def __init__(self, message: str, errors: list[str]):
        super().__init__(message)
        self.errors = errors
