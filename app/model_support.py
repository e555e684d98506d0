"""What the models of app/models.py share: the enum column type and the mixins.

- `db_enum`: every state and kind column — VARCHAR + CHECK on SQLite and
  PostgreSQL alike, storing the member's name (STYLE §2).
- `InCourt`, `InCase`: where a row's audit entry is filed (its court, its case),
  read by the session hook in app/audit.py.
- `coded`: an enum member as a token an audit summary stores (`{CaseType.INTERNET}`),
  which the screen reading the row translates (app/views/records.py).
- `CertificationLink`: the columns a court's certification of a mediator or an
  organisation has in common (the one process of app/workflows/certification.py),
  and its note as the screens show it.

Nothing here is a table; app/models.py holds every table, by area.
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped

from .enums import CertificationStatus


def coded(member: enum.Enum) -> str:
    """`{EnumClass.NAME}`: an enum value inside a stored text, translated where it is shown (STYLE §6)."""
    return "{%s.%s}" % (type(member).__name__, member.name)


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


class InCourt:
    """Audit placement of a row that belongs to a court (its `court_id`)."""

    @property
    def audit_court_id(self) -> Optional[int]:
        return self.court_id


class InCase:
    """Audit placement of a row that belongs to a case (party, agreement, transcript, hearing …)."""

    @property
    def audit_court_id(self) -> Optional[int]:
        return self.case.court_id if self.case is not None else None

    @property
    def audit_case_id(self) -> Optional[int]:
        return self.case_id


class CertificationLink(InCourt):
    """A court's certification of a mediator (`MediatorCourt`) or an organisation (`OrganisationCourt`)."""

    status: Mapped[CertificationStatus]
    note: Mapped[Optional[str]]
    applied_at: Mapped[dt.datetime]
    decided_at: Mapped[Optional[dt.datetime]]
    decided_by_id: Mapped[Optional[int]]
    reject_reason: Mapped[Optional[str]]

    @property
    def added_by_court(self) -> bool:
        """新增调解员 / 新增调解组织: certified the moment it was entered, no application before [FAQ 2.2]."""
        return (self.status is CertificationStatus.CERTIFIED and self.decided_at is not None
                and self.decided_at == self.applied_at)

    @property
    def note_text(self) -> str:
        """The applicant's note, or that the court added it (computed: nothing translated is stored)."""
        if self.note:
            return self.note
        return str(_l("Added by the court")) if self.added_by_court else ""
