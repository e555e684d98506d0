"""WTForms validators with Chinese messages. A form that fails keeps the input.

They stop the chain on failure (StopValidation), so FAB's generic validators
appended after them do not add a second, vaguer message for the same field.

They normalise the field in place (full-width digits, +86, lower-case x), so
what is saved is what was checked.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation as ValidationError

from . import validation
from .extensions import db
from .validation import password_problem

MOBILE_MESSAGE = _l("Enter a mobile number: 11 digits starting with 1.")
ID_MESSAGE = _l("The resident ID number is invalid (check its 18 characters, birth date and check digit).")
USCC_MESSAGE = _l(
    "The unified social credit code is invalid (18 characters; check the last character)."
)
MEDIATOR_EXISTS_MESSAGE = _l(
    "This phone number is already registered as a mediator on the platform, either by the "
    "mediator or by another court. If the number is really the mediator's, ask them to log in "
    "(use Forgot password if needed), open My settings › Certified courts and apply for "
    "certification to this court."
)


class Mobile:
    """Mobile number: 1 + 10 digits [FAQ 3.1]; placeholders are accepted."""

    def __call__(self, form, field):
        if not field.data:
            return
        field.data = validation.normalize_phone(field.data)
        if not validation.is_mobile(field.data):
            raise ValidationError(str(MOBILE_MESSAGE))


class ResidentId:
    """GB 11643 resident ID with its check digit."""

    def __call__(self, form, field):
        if not field.data:
            return
        field.data = validation.normalize_id_number(field.data)
        if not validation.is_id_number(field.data):
            raise ValidationError(str(ID_MESSAGE))


class CreditCode:
    """GB 32100 unified social credit code with its check character."""

    def __call__(self, form, field):
        if not field.data:
            return
        field.data = validation.normalize_credit_code(field.data)
        if not validation.is_credit_code(field.data):
            raise ValidationError(str(USCC_MESSAGE))


class StrongPassword:
    """The platform's password rule (app/validation.py `password_problem`)."""

    def __call__(self, form, field):
        if field.data:
            problem = password_problem(field.data)
            if problem:
                raise ValidationError(problem)


class UniqueValue:
    """The value is not used by another row of `column`'s table.

    On edit forms FAB puts the row's key in `form._id`; that row is ignored.
    """

    def __init__(self, column, message):
        self.column = column
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            return
        table = self.column.class_
        query = sa.select(table.id).where(self.column == field.data)
        own_id = getattr(form, "_id", None)
        if own_id is not None:
            query = query.where(table.id != int(own_id))
        if db.session.scalar(query.limit(1)) is not None:
            raise ValidationError(str(self.message))
