"""Enumerations with their Chinese labels next to them (STYLE §2).

The database stores the member name (an ASCII code) behind a CHECK constraint;
`str(member)` is the translated label, so FAB lists, selects and templates show
Chinese without a formatter per column. FAB's EnumField labels a choice with
`str(member.value)`, which is why the value is a `Choice` (a str whose `str()`
is the label) rather than a plain string.
"""
from __future__ import annotations

import enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l


class Choice(str):
    """A code string whose `str()` is its translated label."""

    def __new__(cls, code: str, label):
        obj = str.__new__(cls, code)
        obj.label = label
        return obj

    def __str__(self) -> str:
        return str(self.label)


class LabelledEnum(enum.Enum):
    @property
    def label(self) -> str:
        return str(self.value.label)

    def __str__(self) -> str:
        return self.label

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self.label))


def db_enum(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column type: VARCHAR + CHECK on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
    )


class CourtLevel(LabelledEnum):
    SUPREME = Choice("supreme", _l("Supreme court"))
    HIGH = Choice("high", _l("High court"))
    INTERMEDIATE = Choice("intermediate", _l("Intermediate court"))
    BASIC = Choice("basic", _l("Basic court"))


class MediatorIdentity(LabelledEnum):
    INVITED = Choice("invited", _l("Invited mediator"))
    JUDGE = Choice("judge", _l("Judge"))
    OTHER = Choice("other", _l("Other"))


class OrganisationType(LabelledEnum):
    PEOPLES = Choice("peoples", _l("People's mediation committee"))
    INDUSTRY = Choice("industry", _l("Industry or professional mediation organisation"))
    COMMERCIAL = Choice("commercial", _l("Commercial mediation organisation"))
    LAWYER = Choice("lawyer", _l("Lawyer mediation organisation"))
    OTHER = Choice("other", _l("Other"))


class CertificationStatus(LabelledEnum):
    """Mediator↔court and organisation↔court certification [FAQ 3.2, 6.7]."""

    PENDING = Choice("pending", _l("Pending certification"))
    CERTIFIED = Choice("certified", _l("Certified"))
    REJECTED = Choice("rejected", _l("Rejected"))


class CertificationPath(LabelledEnum):
    """Who starts an organisation's court certification for a ministry [FAQ 6.7]."""

    MINISTRY_APPLIES = Choice("ministry_applies", _l("Ministry side applies to the court"))
    COURT_ADDS = Choice("court_adds", _l("Court adds, ministry binds"))


class AuditAction(LabelledEnum):
    CREATE = Choice("create", _l("Create"))
    UPDATE = Choice("update", _l("Update"))
    DELETE = Choice("delete", _l("Delete"))
    PASSWORD = Choice("password", _l("Password set"))
    LOGIN = Choice("login", _l("Login"))
    TRANSITION = Choice("transition", _l("Status change"))


class SmsStatus(LabelledEnum):
    QUEUED = Choice("queued", _l("Queued"))
    SENT = Choice("sent", _l("Sent"))
    FAILED = Choice("failed", _l("Failed"))


class SmsKind(LabelledEnum):
    INITIAL_PASSWORD = Choice("initial_password", _l("Initial password"))
    RESET_CODE = Choice("reset_code", _l("Password reset code"))
    PASSWORD_CHANGED = Choice("password_changed", _l("Password changed"))
    NOTICE = Choice("notice", _l("Notice"))
