"""What the models of app/models.py share: the enum column type and the mixins.

- `db_enum`: every state and kind column — VARCHAR + CHECK on SQLite and
  PostgreSQL alike, storing the member's name (STYLE §2).
- `InCourt`, `InCase`: where a row's audit entry is filed (its court, its case),
  read by the session hook in app/audit.py.
- `CertificationLink`: the columns a court's certification of a mediator or an
  organisation has in common (the one process of app/workflows/certification.py).

Nothing here is a table; app/models.py holds every table, by area.
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped

from .enums import CertificationStatus


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
