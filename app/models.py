"""Every table of the platform, one heading per area in SPEC order.

    courts and organisations · accounts and identities · rosters and certification ·
    cases, parties and agents · agreements, transcripts and signatures ·
    after mediation · hearings · 总对总, the outbox and the outside systems ·
    grassroots resolution · statistics and exports · audit, SMS and operations

The enum column type and the mixins the tables share (where a row's audit
entry is filed, the columns of a certification) are in app/model_support.py;
the enums with their Chinese labels in app/enums.py. A state column changes
only in its process module under app/workflows/ (each model's docstring names
it).

Accounts are FAB's `ab_user` rows whose username is the mobile number
[FAQ 2.1]. What a person *is* lives in our tables and points at that account:
`CourtStaff` (法院端), `Mediator` (调解员端), `MinistryAccount` (部委端),
`GrassrootsUnit.liaison_user` (基层治理端). One phone may hold several
identities (SPEC §1); the portal chosen at login decides which one acts.

Models marked `__audited__` get an audit row per create/update/delete from the
session hook in `app/audit.py`, whatever code path changed them.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .clock import today, utcnow
from .enums import (
    AgentType,
    ApplicationKind,
    ApplicationStatus,
    AuditAction,
    CaseSource,
    CaseStatus,
    CaseType,
    CertificationPath,
    CertificationStatus,
    CourtLevel,
    DisputeStatus,
    DisputeType,
    DocumentKind,
    EvidenceStatus,
    ExportStatus,
    ImportStatus,
    HandlingPlatform,
    HearingRole,
    HearingStatus,
    IdentityStatus,
    MessageAuthor,
    InternetStatus,
    MediatorChangeStatus,
    MediatorIdentity,
    MultiVideoStatus,
    OrganisationType,
    OutboxStatus,
    PartyKind,
    PartyRole,
    RecordingSource,
    RecordingStatus,
    SignerRole,
    SmsKind,
    SmsStatus,
    TerminationReason,
)
from .extensions import db
from .model_support import CertificationLink, InCase, InCourt, coded, db_enum

Model = db.Model


# ==================================================================================================
# Courts and organisations (SPEC §2; FAQ 2.2, 6.1, 6.7, 7.1, 7.2)
# ==================================================================================================


class Court(Model):
    """法院. `code` is the court code used in case numbers, e.g. 京0105 [FAQ 5.2]."""

    __tablename__ = "court"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    level: Mapped[CourtLevel] = mapped_column(db_enum(CourtLevel, "court_level"))
    parent_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("court.id"), index=True)
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[Optional[str]] = mapped_column(sa.String(32))

    parent: Mapped[Optional["Court"]] = relationship(remote_side=[id], lazy="joined")

    def __str__(self) -> str:
        return self.name


class Tribunal(InCourt, Model):
    """人民法庭 [FAQ 7.1]; its admin is one of the court's users."""

    __tablename__ = "tribunal"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("court_id", "name", name="uq_tribunal_court_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    admin_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("court_staff.id"))
    address: Mapped[Optional[str]] = mapped_column(sa.String(200))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(32))

    court: Mapped[Court] = relationship(lazy="joined")
    admin: Mapped[Optional[CourtStaff]] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name


class GrassrootsUnit(InCourt, Model):
    """基层治理单位 with its 司法联络员, who logs into 基层治理端 [FAQ 7.2]."""

    __tablename__ = "grassroots_unit"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("court_id", "name", name="uq_grassroots_court_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), index=True)
    tribunal_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("tribunal.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    address: Mapped[Optional[str]] = mapped_column(sa.String(200))
    liaison_name: Mapped[str] = mapped_column(sa.String(64))
    liaison_phone: Mapped[str] = mapped_column(sa.String(16), unique=True)
    liaison_user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)

    court: Mapped[Court] = relationship(lazy="joined")
    tribunal: Mapped[Optional[Tribunal]] = relationship(lazy="joined")
    liaison_user: Mapped[User] = relationship(User)

    def __str__(self) -> str:
        return self.name


class Ministry(Model):
    """部委 of 总对总 [FAQ 6.7]; `certification_path` is data, not name checks."""

    __tablename__ = "ministry"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    certification_path: Mapped[CertificationPath] = mapped_column(
        db_enum(CertificationPath, "certification_path")
    )
    #: [FAQ 6.2] 工商联: platform staff reset organisation passwords (after a work ID check);
    #: other ministries: their provincial ministry account does
    password_reset_by_platform: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.name


class Organisation(Model):
    """调解组织. Bound to at most one ministry: the FK column makes that structural."""

    __tablename__ = "organisation"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    org_type: Mapped[OrganisationType] = mapped_column(db_enum(OrganisationType, "organisation_type"))
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[Optional[str]] = mapped_column(sa.String(32))
    address: Mapped[Optional[str]] = mapped_column(sa.String(200))
    contact_name: Mapped[str] = mapped_column(sa.String(64))
    contact_phone: Mapped[str] = mapped_column(sa.String(16))
    ministry_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ministry.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    ministry: Mapped[Optional[Ministry]] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.name


# ==================================================================================================
# Accounts and identities (SPEC §1; FAQ 1.2–1.4, 2.1): an identity points at its FAB `ab_user` login
# ==================================================================================================


class CourtStaff(InCourt, Model):
    """本院用户: a court user's identity; `is_admin` makes a 法院管理员 [FAQ 2.1]."""

    __tablename__ = "court_staff"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(16), unique=True)
    position: Mapped[Optional[str]] = mapped_column(sa.String(64))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    court: Mapped[Court] = relationship(lazy="joined")
    user: Mapped[User] = relationship(User)

    def __str__(self) -> str:
        return f"{self.name}（{self.phone}）"


class MinistryAccount(Model):
    """部委用户: one ministry, one province (and optionally city) [FAQ 6.x]."""

    __tablename__ = "ministry_account"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)
    ministry_id: Mapped[int] = mapped_column(sa.ForeignKey("ministry.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(16), unique=True)
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[Optional[str]] = mapped_column(sa.String(32))

    ministry: Mapped[Ministry] = relationship(lazy="joined")
    user: Mapped[User] = relationship(User)

    def __str__(self) -> str:
        return f"{self.ministry} {self.province}{self.city or ''} {self.name}"


class SmsCode(Model):
    """An SMS code: stored hashed, 5 minutes, 5 attempts, single use; a newer one voids it.

    `purpose` says what it proves (忘记密码 `reset`, 验证码登录 `login`, 调解员注册
    `register`); `ip` is the address that asked for it, for the per-address send limit
    (app/workflows/sms_codes.py).
    """

    __tablename__ = "sms_code"
    __table_args__ = (sa.Index("ix_sms_code_ip_created", "ip", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(16), index=True)
    portal: Mapped[str] = mapped_column(sa.String(16))
    code_hash: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[Optional[dt.datetime]]
    purpose: Mapped[str] = mapped_column(sa.String(16), default="reset", server_default="reset")
    ip: Mapped[Optional[str]] = mapped_column(sa.String(64))


class AccountSession(Model):
    """An account's session generation (finding M2, app/sessions.py).

    A login stamps the current generation into the session (and into an API
    token); every request compares it with this row. Logout and a password
    change or reset add one, so every session and token issued before ends.
    No row means generation 0.
    """

    __tablename__ = "account_session"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE",
                                                       name="fk_account_session_user"),
                                         primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    changed_at: Mapped[Optional[dt.datetime]]



class RateLimitCount(Model):
    """One rate-limit window shared by every app server (app/rate_limits.py): the key's count until
    `expires_at` (seconds since the epoch, UTC)."""

    __tablename__ = "rate_limit"

    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    count: Mapped[int] = mapped_column(default=0, server_default="0")
    expires_at: Mapped[float] = mapped_column(sa.Float, index=True)


class SecurityVersion(Model):
    """One row per change of roles or permissions (app/permission_cache.py): every app server's
    cached permission sets and sidebars are keyed on the newest row's `token`, so an edit on
    the 角色 screen reaches every server's next request. A random token, not the row id: an id
    can come back after a rolled-back change, a token cannot."""

    __tablename__ = "security_version"
    __table_args__ = {"sqlite_autoincrement": True}  # as migration 0021 builds it: no id comes back

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))


class IdentityVerification(Model):
    """实名认证 of one person, i.e. of their login [FAQ 3.13, Rules art 17]; `status` changes only
    in app/workflows/identity.py. The ID card's two sides and the photo holding it live in the file
    store under the `*_key` columns (never in a row) until the retention after review deletes them
    (`images_purged_at`); the name and ID number stay, to bind signatures to the case."""

    __tablename__ = "identity_verification"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE",
                                                       name="fk_identity_verification_user"), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(64))
    id_number: Mapped[str] = mapped_column(sa.String(18))
    status: Mapped[IdentityStatus] = mapped_column(db_enum(IdentityStatus, "identity_status"), index=True)
    front_key: Mapped[Optional[str]] = mapped_column(sa.String(200))
    back_key: Mapped[Optional[str]] = mapped_column(sa.String(200))
    holding_key: Mapped[Optional[str]] = mapped_column(sa.String(200))
    submitted_at: Mapped[Optional[dt.datetime]]
    #: who decided: platform staff (人工审核), or None when the face-verification adapter did
    reviewed_by_id: Mapped[Optional[int]]
    reviewed_at: Mapped[Optional[dt.datetime]] = mapped_column(index=True)
    review_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    images_purged_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.name


# ==================================================================================================
# Rosters and certification (SPEC §2; FAQ 2.2, 3.2, 6.7)
# ==================================================================================================


class Mediator(Model):
    """调解员, platform-wide: the phone is unique across all courts [FAQ 3.2]."""

    __tablename__ = "mediator"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(16), unique=True)
    id_number: Mapped[Optional[str]] = mapped_column(sa.String(18))
    identity: Mapped[MediatorIdentity] = mapped_column(db_enum(MediatorIdentity, "mediator_identity"))
    organisation_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    expertise: Mapped[Optional[str]] = mapped_column(sa.String(200))
    #: the public profile (Rules art 5): 受理范围 and 是否收费
    scope_of_work: Mapped[Optional[str]] = mapped_column(sa.String(200))
    charges: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Optional[Organisation]] = relationship(lazy="joined")
    user: Mapped[User] = relationship(User)

    def __str__(self) -> str:
        return f"{self.name}（{self.phone}）"


class MediatorCourt(CertificationLink, Model):
    """A mediator's certification by a court (特邀调解员 of that court) [FAQ 3.2]."""

    __tablename__ = "mediator_court"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("mediator_id", "court_id", name="uq_mediator_court"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediator.id", ondelete="CASCADE"), index=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), index=True)
    status: Mapped[CertificationStatus] = mapped_column(db_enum(CertificationStatus, "mediator_court_status"))
    note: Mapped[Optional[str]] = mapped_column(sa.String(500))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[Optional[dt.datetime]]
    decided_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id"))
    reject_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    mediator: Mapped[Mediator] = relationship(lazy="joined")
    court: Mapped[Court] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class OrganisationCourt(CertificationLink, Model):
    """An organisation's certification by a court (特邀调解组织) [FAQ 2.2, 6.7]."""

    __tablename__ = "organisation_court"
    __audited__ = True
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "court_id", name="uq_organisation_court"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), index=True)
    status: Mapped[CertificationStatus] = mapped_column(
        db_enum(CertificationStatus, "organisation_court_status")
    )
    note: Mapped[Optional[str]] = mapped_column(sa.String(500))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[Optional[dt.datetime]]
    decided_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id"))
    reject_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    court: Mapped[Court] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


# ==================================================================================================
# Cases, parties and agents (SPEC §3; FAQ 3.1, 3.8, 5.2; CPL arts 61, 62)
# ==================================================================================================


class CaseSequence(Model):
    """The last number issued per court, type code and year [FAQ 5.2]."""

    __tablename__ = "case_sequence"

    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), primary_key=True)
    type_code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


#: the partial index of open cases (the names db_enum stores; statistics.OPEN)
OPEN_CASES_SQL = "status IN ('TO_ASSIGN', 'TO_ACCEPT', 'MEDIATING', 'CLOSE_REQUESTED')"


class Case(Model):
    """A mediation case (SPEC §3). `status` changes only in app/workflows/case_lifecycle.py."""

    __tablename__ = "mediation_case"
    __audited__ = True
    __table_args__ = (
        sa.Index("ix_case_court_type_status", "court_id", "case_type", "status"),
        # a case list: one court's cases of one type, newest first, without a sort. On PostgreSQL it also
        # carries the party names, so 当事人 包含 one character (a surname: no bigram, app/name_grams.py)
        # reads the court's index entries, not one heap page per case (migration 0026)
        sa.Index("ix_case_court_type_id", "court_id", "case_type", "id", postgresql_include=["party_names"]),
        # covers every statistics query: the court and period seek, the group keys and
        # the columns the figures read, so a report never touches the table (SPEC §6)
        sa.Index("ix_case_report", "court_id", "received_on", "case_type", "status", "mediator_id",
                 "organisation_id", "closed_at", "deadline"),
        # 逾期数 and the dashboard's overdue figures: open cases only, which do not accumulate with history
        sa.Index("ix_case_open", "court_id", "deadline", "mediator_id", "organisation_id", "received_on",
                 "case_type", postgresql_where=sa.text(OPEN_CASES_SQL), sqlite_where=sa.text(OPEN_CASES_SQL)),
        # a report's earlier months' cases that concluded in its last, partial month (statistics.Plan):
        # the month's conclusions, not every case of the months before it; covering, as ix_case_report
        sa.Index("ix_case_court_closed", "court_id", "closed_at", "received_on", "case_type", "status",
                 "mediator_id", "organisation_id", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[CaseType] = mapped_column(db_enum(CaseType, "case_type"))
    number: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    intranet_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    court_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("court.id"), index=True)
    tribunal_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("tribunal.id"))
    cause: Mapped[str] = mapped_column(sa.String(100))
    claim_amount: Mapped[Optional[float]] = mapped_column(sa.Numeric(14, 2))
    source: Mapped[CaseSource] = mapped_column(db_enum(CaseSource, "case_source"))
    has_ministry: Mapped[bool] = mapped_column(default=False)
    ministry_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ministry.id"))
    simple_procedure: Mapped[bool] = mapped_column(default=False)
    #: the grassroots unit a handed-over dispute came from (SPEC §5)
    grassroots_unit_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("grassroots_unit.id", name="fk_case_grassroots_unit"))
    summary: Mapped[Optional[str]] = mapped_column(sa.Text)
    plan: Mapped[Optional[str]] = mapped_column(sa.Text)
    party_names: Mapped[str] = mapped_column(sa.String(500), default="")
    mediator_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("mediator.id"), index=True)
    organisation_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(db_enum(CaseStatus, "case_status"), index=True)
    termination_reason: Mapped[Optional[TerminationReason]] = mapped_column(
        db_enum(TerminationReason, "termination_reason")
    )
    termination_note: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    received_on: Mapped[dt.date] = mapped_column(default=today)
    assigned_at: Mapped[Optional[dt.datetime]]
    # The day the current clock (designation, acceptance or mediation) started.
    clock_started_on: Mapped[Optional[dt.date]]
    deadline: Mapped[Optional[dt.date]] = mapped_column(index=True)
    extended_days: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1)

    court: Mapped[Optional[Court]] = relationship(lazy="joined")
    tribunal: Mapped[Optional[Tribunal]] = relationship(lazy="joined")
    ministry: Mapped[Optional[Ministry]] = relationship(lazy="joined")
    mediator: Mapped[Optional[Mediator]] = relationship(lazy="joined")
    organisation: Mapped[Optional[Organisation]] = relationship(lazy="joined")
    grassroots_unit: Mapped[Optional[GrassrootsUnit]] = relationship(lazy="joined")
    parties: Mapped[list["CaseParty"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseParty.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_court_id(self) -> Optional[int]:
        return self.court_id

    @property
    def audit_case_id(self) -> Optional[int]:
        return self.id

    def __str__(self) -> str:
        return self.number or f"{self.case_type.label}#{self.id}"

    @property
    def audit_summary(self) -> str:
        return self.number or f"{coded(self.case_type)}#{self.id}"


def case_shallow() -> tuple:
    """Loader options for one case or a few read by id: the case's own relations joined, theirs (the
    tribunal's court and admin, the unit's tribunal, the mediator's organisation, each with its court or
    ministry) only when used. The default cascade makes one statement of 17 joins, whose planning costs
    PostgreSQL 3-5 ms whatever it returns; what it loads is mostly in the session already (the case's
    own court, organisation, ministry). A function: options configure the mappers, which must wait
    until every model is defined."""
    return (
        sa.orm.defaultload(Case.tribunal).lazyload("*"),
        sa.orm.defaultload(Case.grassroots_unit).lazyload("*"),
        sa.orm.defaultload(Case.mediator).lazyload("*"),
        sa.orm.defaultload(Case.organisation).lazyload("*"),
    )


class CaseNameGram(Model):
    """A bigram of a case's 当事人 (app/name_grams.py): the index of the party-name contains-search."""

    __tablename__ = "case_name_gram"
    __table_args__ = (sa.Index("ix_case_name_gram_case", "case_id"),
                      # a court's search reads only its own cases' grams (a common name is common everywhere)
                      sa.Index("ix_case_name_gram_court", "court_id", "gram", "case_id"))

    gram: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE"), primary_key=True)
    #: the case's court, copied (kept with the grams by app/name_grams.py; no FK: the case's own is the rule)
    court_id: Mapped[Optional[int]]


class CaseParty(InCase, Model):
    """申请人/被申请人 (原告/被告): a natural person or an organisation [FAQ 3.1, 3.8]."""

    __tablename__ = "case_party"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(db_enum(PartyRole, "party_role"))
    kind: Mapped[PartyKind] = mapped_column(db_enum(PartyKind, "party_kind"))
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(16), index=True)
    id_number: Mapped[Optional[str]] = mapped_column(sa.String(18))
    credit_code: Mapped[Optional[str]] = mapped_column(sa.String(18))
    legal_representative: Mapped[Optional[str]] = mapped_column(sa.String(64))
    address: Mapped[Optional[str]] = mapped_column(sa.String(200))

    case: Mapped[Case] = relationship(back_populates="parties")
    agents: Mapped[list["CaseAgent"]] = relationship(
        back_populates="party", cascade="all, delete-orphan", order_by="CaseAgent.id", lazy="selectin"
    )

    def __str__(self) -> str:
        return self.name


class CaseAgent(Model):
    """代理人 of a party: at most two (CPL art 61); 一般 or 特别授权 (CPL art 62)."""

    __tablename__ = "case_agent"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"), index=True)
    agent_type: Mapped[AgentType] = mapped_column(db_enum(AgentType, "agent_type"))
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(16), index=True)
    id_number: Mapped[Optional[str]] = mapped_column(sa.String(18))
    law_firm: Mapped[Optional[str]] = mapped_column(sa.String(100))

    party: Mapped[CaseParty] = relationship(back_populates="agents")

    @property
    def audit_court_id(self) -> Optional[int]:
        party = self.party
        return party.case.court_id if party is not None and party.case is not None else None

    @property
    def audit_case_id(self) -> Optional[int]:
        return self.party.case_id if self.party is not None else None

    def __str__(self) -> str:
        return self.name


class CaseMessage(InCase, Model):
    """留言 on a case by its mediator, a party or an agent (app/workflows/messages.py); append-only."""

    __tablename__ = "case_message"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE",
                                                       name="fk_case_message_case"), index=True)
    author_id: Mapped[Optional[int]]
    author_role: Mapped[MessageAuthor] = mapped_column(db_enum(MessageAuthor, "message_author"))
    author_name: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()

    def __str__(self) -> str:
        return self.author_name


# ==================================================================================================
# 互联网调解: the party's application, evidence, conflicts, changing the mediator
# (SPEC §3; FAQ 5.1(3); Rules arts 4, 5, 8, 12–14, 25)
# ==================================================================================================


class InternetApplication(InCase, Model):
    """A party's 互联网调解 application: its case (待受理, no court, no number until the mediator
    accepts), the region, the 请求事项, the consent to online mediation (Rules art 4) and the
    mediators who declined it. `status` changes only in app/workflows/internet.py."""

    __tablename__ = "internet_application"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="CASCADE", name="fk_internet_application_case"), unique=True)
    applicant_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ab_user.id", name="fk_internet_application_user"), index=True)
    status: Mapped[InternetStatus] = mapped_column(db_enum(InternetStatus, "internet_status"), index=True)
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[Optional[str]] = mapped_column(sa.String(32))
    claims: Mapped[str] = mapped_column(sa.Text)
    consented_at: Mapped[dt.datetime]
    #: the mediators who declined it (or let the 3 working days pass): not recommended again
    declined_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    respondent_decided_at: Mapped[Optional[dt.datetime]]
    respondent_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"internet#{self.id}"


class Evidence(InCase, Model):
    """证据 of a case, uploaded by a party (with the application or later) and 已核验 by the
    mediator. The bytes are in the file store (app/storage.py); the row keeps the key, size and
    hash. `status` changes only in app/workflows/evidence.py."""

    __tablename__ = "evidence"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="CASCADE", name="fk_evidence_case"), index=True)
    party_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("case_party.id", ondelete="SET NULL", name="fk_evidence_party"))
    status: Mapped[EvidenceStatus] = mapped_column(db_enum(EvidenceStatus, "evidence_status"))
    file_key: Mapped[str] = mapped_column(sa.String(200))
    file_name: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[Optional[int]]
    uploaded_by_name: Mapped[str] = mapped_column(sa.String(100), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[Optional[int]]
    verified_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    party: Mapped[Optional[CaseParty]] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.file_name


class ConflictDeclaration(InCase, Model):
    """A mediator's declaration on a case (Rules art 13): no conflict of interest, or the one disclosed."""

    __tablename__ = "conflict_declaration"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("case_id", "mediator_id", name="uq_conflict_declaration"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="CASCADE", name="fk_conflict_declaration_case"), index=True)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediator.id", name="fk_conflict_declaration_mediator"))
    has_conflict: Mapped[bool] = mapped_column(default=False)
    disclosure: Mapped[Optional[str]] = mapped_column(sa.String(500))
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    mediator: Mapped[Mediator] = relationship(lazy="joined")


class MediatorChange(InCase, Model):
    """A party's request, with its reason, for another mediator (Rules art 14).
    `status` changes only in app/workflows/mediator_change.py."""

    __tablename__ = "mediator_change"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="CASCADE", name="fk_mediator_change_case"), index=True)
    party_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("case_party.id", ondelete="SET NULL", name="fk_mediator_change_party"))
    status: Mapped[MediatorChangeStatus] = mapped_column(db_enum(MediatorChangeStatus, "mediator_change_status"),
                                                         index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    old_mediator_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("mediator.id", name="fk_mediator_change_old"))
    new_mediator_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("mediator.id", name="fk_mediator_change_new"))
    requested_by_id: Mapped[Optional[int]]
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[Optional[int]]
    decided_at: Mapped[Optional[dt.datetime]]
    decision_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()
    party: Mapped[Optional[CaseParty]] = relationship()
    old_mediator: Mapped[Optional[Mediator]] = relationship(foreign_keys=[old_mediator_id])
    new_mediator: Mapped[Optional[Mediator]] = relationship(foreign_keys=[new_mediator_id])

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"mediator_change#{self.id}"


# ==================================================================================================
# Agreements, transcripts and signatures (SPEC §3.2; FAQ 3.9–3.11, 3.14)
# ==================================================================================================


class Agreement(InCase, Model):
    """调解协议, one row per version: generated from the case or uploaded [FAQ 3.9, 3.11].

    The bytes are in the file store (app/storage.py) under `file_key`; a
    version and its signatures are deleted together (继续调解 [FAQ 3.9(4)]),
    their files once that commits; `sha256` is what a signature is bound to.
    """

    __tablename__ = "agreement"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("case_id", "version", name="uq_agreement_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    generated: Mapped[bool] = mapped_column(default=True)
    content: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    file_name: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    file_key: Mapped[str] = mapped_column(sa.String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]]
    pushed_at: Mapped[Optional[dt.datetime]]
    for_signature_at: Mapped[Optional[dt.datetime]]

    case: Mapped[Case] = relationship()
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    def __str__(self) -> str:
        return f"{self.file_name} v{self.version}"


class Transcript(InCase, Model):
    """调解笔录, uploaded while 调解中 [FAQ 3.10]; the bytes are in the file store under `file_key`."""

    __tablename__ = "transcript"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    file_key: Mapped[str] = mapped_column(sa.String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmation_started_at: Mapped[Optional[dt.datetime]]

    case: Mapped[Case] = relationship()
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    def __str__(self) -> str:
        return self.file_name


class Signature(Model):
    """Who signed which exact bytes, when, from where [FAQ 3.9(3), 3.14; SPEC §8 evidence]."""

    __tablename__ = "signature"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("agreement.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    role: Mapped[SignerRole] = mapped_column(db_enum(SignerRole, "signer_role"))
    mediator_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("mediator.id"))
    party_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"))
    agent_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("case_agent.id", ondelete="CASCADE"))
    signer_name: Mapped[str] = mapped_column(sa.String(100))
    image_key: Mapped[str] = mapped_column(sa.String(200))  # the drawn PNG, in the file store
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip: Mapped[Optional[str]] = mapped_column(sa.String(64))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.String(300))
    document_sha256: Mapped[str] = mapped_column(sa.String(64))

    agreement: Mapped[Optional[Agreement]] = relationship(back_populates="signatures")
    transcript: Mapped[Optional[Transcript]] = relationship(back_populates="signatures")
    party: Mapped[Optional[CaseParty]] = relationship()

    @property
    def document(self):
        return self.agreement or self.transcript

    @property
    def audit_court_id(self) -> Optional[int]:
        doc = self.document
        return doc.case.court_id if doc is not None and doc.case is not None else None

    @property
    def audit_case_id(self) -> Optional[int]:
        doc = self.document
        return doc.case_id if doc is not None else None

    def __str__(self) -> str:
        return f"{self.role.label} {self.signer_name}"

    @property
    def audit_summary(self) -> str:
        return f"{coded(self.role)} {self.signer_name}"


class SigningToken(Model):
    """The mediator's QR code: single use, 10 minutes, bound to one document version."""

    __tablename__ = "signing_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE"), index=True)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediator.id"))
    kind: Mapped[DocumentKind] = mapped_column(db_enum(DocumentKind, "document_kind"))
    document_id: Mapped[int]
    document_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[Optional[dt.datetime]]


# ==================================================================================================
# After mediation: 司法确认, 调解书, 在线立案 (SPEC §3.3; FAQ 3.4–3.6, 3.15, 3.16; CPL art 205)
# ==================================================================================================


class CourtApplication(InCase, Model):
    """After mediation: 司法确认, 出具调解书 or 在线立案 of one case [SPEC §3.3, §8].

    `status` changes only in app/workflows/after_mediation.py. `number` is the
    司法确认's own 调确 number (given on acceptance); `result_number` is what the
    intranet returned (the ruling's number, the 民初 number of a filing, the
    调解书's number). The clocks (SPEC §8): `accept_deadline` runs from the day
    the application became 待受理, `ruling_deadline` from acceptance; both are
    empty until their clock starts.
    """

    __tablename__ = "court_application"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="CASCADE", name="fk_court_application_case"), index=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id", name="fk_court_application_court"),
                                          index=True)
    kind: Mapped[ApplicationKind] = mapped_column(db_enum(ApplicationKind, "application_kind"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(db_enum(ApplicationStatus, "application_status"),
                                                      index=True)
    number: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    applicant_party_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("case_party.id", ondelete="SET NULL", name="fk_court_application_party"))
    applicant_name: Mapped[str] = mapped_column(sa.String(100))
    #: who submitted it: the party, its agent, the mediator on the party's behalf [FAQ 3.15], or the court (转在线立案)
    applied_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("ab_user.id", name="fk_court_application_applied_by"))
    applied_via: Mapped[str] = mapped_column(sa.String(16))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    pending_since: Mapped[Optional[dt.date]]
    accept_deadline: Mapped[Optional[dt.date]] = mapped_column(index=True)
    ruling_deadline: Mapped[Optional[dt.date]] = mapped_column(index=True)
    #: 在线立案: the filing information completed by the plaintiff or the court [FAQ 3.5, 3.16]
    claims: Mapped[Optional[str]] = mapped_column(sa.Text)
    facts: Mapped[Optional[str]] = mapped_column(sa.Text)
    handling_platform: Mapped[Optional[HandlingPlatform]] = mapped_column(
        db_enum(HandlingPlatform, "handling_platform"))
    accepted_at: Mapped[Optional[dt.datetime]]
    accepted_by_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("ab_user.id", name="fk_court_application_accepted_by"))
    outbox_message_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="SET NULL", name="fk_court_application_outbox"))
    decided_at: Mapped[Optional[dt.datetime]]
    result_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    result_note: Mapped[Optional[str]] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship(lazy="joined")
    court: Mapped[Court] = relationship(lazy="joined")
    applicant_party: Mapped[Optional[CaseParty]] = relationship()
    outbox_message: Mapped[Optional[OutboxMessage]] = relationship(lazy="joined")
    consents: Mapped[list["ApplicationConsent"]] = relationship(
        back_populates="application", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ApplicationConsent.id", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return self.status.label_for(self.kind)

    def __str__(self) -> str:
        return self.number or f"{self.kind.label}#{self.id}"

    @property
    def audit_summary(self) -> str:
        return self.number or f"{coded(self.kind)}#{self.id}"


class ApplicationConsent(Model):
    """One party's consent to a joint 司法确认 application (CPL art 205) [FAQ 3.15]."""

    __tablename__ = "application_consent"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("application_id", "party_id", name="uq_application_consent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("court_application.id", ondelete="CASCADE", name="fk_application_consent_application"),
        index=True)
    party_id: Mapped[int] = mapped_column(
        sa.ForeignKey("case_party.id", ondelete="CASCADE", name="fk_application_consent_party"))
    agent_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("case_agent.id", ondelete="SET NULL", name="fk_application_consent_agent"))
    #: party (itself), agent (its special agent), mediator (applied on its behalf)
    given_via: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id", name="fk_application_consent_user"))
    consented_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip: Mapped[Optional[str]] = mapped_column(sa.String(64))

    application: Mapped[CourtApplication] = relationship(back_populates="consents")
    party: Mapped[CaseParty] = relationship(lazy="joined")

    @property
    def audit_court_id(self) -> Optional[int]:
        return self.application.court_id if self.application is not None else None

    @property
    def audit_case_id(self) -> Optional[int]:
        return self.application.case_id if self.application is not None else None

    def __str__(self) -> str:
        return f"{self.party.name if self.party else ''}"


# ==================================================================================================
# Hearings: video rooms, signals, recordings, 多路视频 (SPEC §3.5; FAQ 4.1, 4.2)
# ==================================================================================================


class Hearing(InCase, Model):
    """A video room of a case (视频调解). Its status changes only in app/workflows/hearings.py."""

    __tablename__ = "hearing"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE",
                                                       name="fk_hearing_case"), index=True)
    status: Mapped[HearingStatus] = mapped_column(db_enum(HearingStatus, "hearing_status"))
    #: the sides invited (APPLICANT, RESPONDENT codes)
    sides: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]]
    ended_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1)
    #: VIDEO_BACKEND=janus: the hearing's VideoRoom room, its random secret and pin (app/janus.py)
    sfu_room: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    sfu_secret: Mapped[Optional[str]] = mapped_column(sa.String(64))
    sfu_pin: Mapped[Optional[str]] = mapped_column(sa.String(64))

    case: Mapped[Case] = relationship()
    participants: Mapped[list["HearingParticipant"]] = relationship(
        back_populates="hearing", cascade="all, delete-orphan", passive_deletes=True,
        order_by="HearingParticipant.id")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"hearing#{self.id}"


class HearingParticipant(Model):
    """One invited person of a room (the mediator, a party, an agent) and their presence.

    `session` is the id of the signal that announced their latest entry: a
    reconnecting browser gets a new one, so the others drop the old connection.
    """

    __tablename__ = "hearing_participant"
    __table_args__ = (sa.Index("ix_hearing_participant_hearing_user", "hearing_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearing.id", ondelete="CASCADE",
                                                          name="fk_hearing_participant_hearing"), index=True)
    role: Mapped[HearingRole] = mapped_column(db_enum(HearingRole, "hearing_role"))
    #: APPLICANT / RESPONDENT for a party or agent; None for the mediator
    side: Mapped[Optional[str]] = mapped_column(sa.String(16))
    user_id: Mapped[Optional[int]]
    phone: Mapped[Optional[str]] = mapped_column(sa.String(16))
    party_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE",
                                                                  name="fk_hearing_participant_party"))
    agent_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("case_agent.id", ondelete="CASCADE",
                                                                  name="fk_hearing_participant_agent"))
    name: Mapped[str] = mapped_column(sa.String(100))
    invited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    session: Mapped[Optional[int]]
    joined_at: Mapped[Optional[dt.datetime]]
    last_seen_at: Mapped[Optional[dt.datetime]]
    left_at: Mapped[Optional[dt.datetime]]
    #: VIDEO_BACKEND=janus: the Janus token of the current entry (`session`), revoked when it ends
    sfu_token: Mapped[Optional[str]] = mapped_column(sa.String(64))

    hearing: Mapped[Hearing] = relationship(back_populates="participants")


class HearingSignal(Model):
    """A WebRTC signaling message (offer, answer, ICE candidate, entry, exit) between two browsers.

    Kept in the database, so every app process and server sees the same room.
    `to_session` None is for everyone in the room.
    """

    __tablename__ = "hearing_signal"
    __table_args__ = (sa.Index("ix_hearing_signal_hearing_id", "hearing_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearing.id", ondelete="CASCADE",
                                                          name="fk_hearing_signal_hearing"))
    from_participant_id: Mapped[int]
    from_session: Mapped[Optional[int]]
    to_session: Mapped[Optional[int]]
    kind: Mapped[str] = mapped_column(sa.String(16))
    payload: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Recording(InCase, Model):
    """录音录像 of a case: recorded in a hearing or uploaded [FAQ 4.1(2), 4.2].

    The bytes live in the file store (app/storage.py) under `file_key`, never in
    the database; size and content hash are kept here.
    """

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE",
                                                       name="fk_recording_case"), index=True)
    hearing_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("hearing.id", ondelete="SET NULL",
                                                                    name="fk_recording_hearing"))
    status: Mapped[RecordingStatus] = mapped_column(db_enum(RecordingStatus, "recording_status"))
    source: Mapped[RecordingSource] = mapped_column(db_enum(RecordingSource, "recording_source"))
    file_key: Mapped[str] = mapped_column(sa.String(200))
    file_name: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    sha256: Mapped[Optional[str]] = mapped_column(sa.String(64))
    duration_ms: Mapped[Optional[int]]
    chunks: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]]
    created_by_name: Mapped[str] = mapped_column(sa.String(100), default="")
    finished_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1)
    #: recorded by Janus (VIDEO_BACKEND=janus): its folder under JANUS_RECORDINGS_DIR until the worker has
    #: converted it, and {feed: name} of the streams in it
    sfu_dir: Mapped[Optional[str]] = mapped_column(sa.String(200))
    sfu_feeds: Mapped[Optional[dict]] = mapped_column(sa.JSON)

    case: Mapped[Case] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.file_name


class MultiVideoRequest(InCase, Model):
    """多路视频申请: the court admin asks, platform staff review [FAQ 4.1 注意(3)]."""

    __tablename__ = "multi_video_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_case.id", ondelete="CASCADE",
                                                       name="fk_multi_video_request_case"), index=True)
    status: Mapped[MultiVideoStatus] = mapped_column(db_enum(MultiVideoStatus, "multi_video_status"),
                                                     index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    submitted_by_id: Mapped[Optional[int]]
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[Optional[int]]
    reviewed_at: Mapped[Optional[dt.datetime]]
    review_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"multi_video#{self.id}"


# ==================================================================================================
# 总对总, the outbox and the outside systems (SPEC §4, §7; FAQ 3.4, 3.6, 6.3, 6.5)
# ==================================================================================================


class OutboxMessage(Model):
    """A message to an outside system, written in the transaction that causes it (SPEC §7).

    The worker (`flask worker`) delivers due messages with retries and
    back-off; platform staff see failures and resend. `message_id` lets the
    receiver drop duplicates.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    topic: Mapped[str] = mapped_column(sa.String(64))
    ministry_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ministry.id"), index=True)
    case_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[OutboxStatus] = mapped_column(db_enum(OutboxStatus, "outbox_status"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[dt.datetime]]
    acknowledged_at: Mapped[Optional[dt.datetime]]
    outcome_at: Mapped[Optional[dt.datetime]]
    #: the court an intranet hand-over goes to (its intranet); None for ministry pushes
    court_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("court.id", name="fk_outbox_message_court"), index=True)
    #: the worker's claim (app/claims.py): who took the message and until when; an expired lease is taken
    #: over by another worker. `claimed_by` stays after delivery: it names who delivered it.
    claimed_by: Mapped[Optional[str]] = mapped_column(sa.String(64))
    lease_until: Mapped[Optional[dt.datetime]]

    ministry: Mapped[Optional[Ministry]] = relationship(lazy="joined")
    case: Mapped[Optional[Case]] = relationship(lazy="joined")
    court: Mapped[Optional[Court]] = relationship(lazy="joined")

    @property
    def target(self) -> str:
        """Which outside system receives it: the topic's first part (ministry, intranet)."""
        return self.topic.split(".", 1)[0]

    @property
    def audit_court_id(self) -> Optional[int]:
        return self.court_id or (self.case.court_id if self.case is not None else None)

    @property
    def audit_case_id(self) -> Optional[int]:
        return self.case_id


class MinistryApiKey(Model):
    """The key an outside ministry platform presents to the inbound API (stored hashed)."""

    __tablename__ = "ministry_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    ministry_id: Mapped[int] = mapped_column(sa.ForeignKey("ministry.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[Optional[dt.datetime]]


class InboundMessage(Model):
    """Every message a ministry platform sent us, once: the replay guard and the trail."""

    __tablename__ = "inbound_message"
    __table_args__ = (sa.UniqueConstraint("ministry_id", "message_id", name="uq_inbound_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ministry_id: Mapped[int] = mapped_column(sa.ForeignKey("ministry.id"))
    message_id: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    result: Mapped[str] = mapped_column(sa.String(200))


class IntranetApiKey(Model):
    """The key the court intranet presents to the result API (stored hashed); court None: every court."""

    __tablename__ = "intranet_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("court.id", name="fk_intranet_api_key_court"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[Optional[dt.datetime]]


class IntranetResult(Model):
    """Every receipt or result the intranet sent for a hand-over, once: the replay guard and the trail."""

    __tablename__ = "intranet_result"
    __table_args__ = (sa.UniqueConstraint("message_id", "kind", name="uq_intranet_result"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the hand-over's outbox message_id
    message_id: Mapped[str] = mapped_column(sa.String(36))
    #: receipt | result
    kind: Mapped[str] = mapped_column(sa.String(16))
    channel: Mapped[str] = mapped_column(sa.String(16))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    result: Mapped[str] = mapped_column(sa.String(200))


class SimulatedIntranetInbox(Model):
    """The simulated 内网办案系统 (COURT_INTRANET = "local"): what reached it, deduped by message_id.

    It stands for a system outside the platform: the adapter writes here in
    its own transaction, as a remote receiver would.
    """

    __tablename__ = "simulated_intranet_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    court_code: Mapped[str] = mapped_column(sa.String(16), index=True)
    topic: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deliveries: Mapped[int] = mapped_column(default=1)
    result: Mapped[Optional[str]] = mapped_column(sa.String(200))
    returned_at: Mapped[Optional[dt.datetime]]


# ==================================================================================================
# Grassroots resolution, 纠纷化解 (SPEC §5; FAQ 7.4)
# ==================================================================================================


class Dispute(InCourt, Model):
    """纠纷化解: a grassroots unit's quick record, closed locally or handed to online mediation."""

    __tablename__ = "dispute"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("grassroots_unit.id"), index=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id"), index=True)
    tribunal_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("tribunal.id"), index=True)
    dispute_type: Mapped[DisputeType] = mapped_column(db_enum(DisputeType, "dispute_type"))
    place: Mapped[Optional[str]] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    action_taken: Mapped[Optional[str]] = mapped_column(sa.Text)
    status: Mapped[DisputeStatus] = mapped_column(db_enum(DisputeStatus, "dispute_status"), index=True)
    result_note: Mapped[Optional[str]] = mapped_column(sa.String(500))
    case_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("mediation_case.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1)

    unit: Mapped[GrassrootsUnit] = relationship(lazy="joined")
    case: Mapped[Optional[Case]] = relationship(lazy="joined")
    parties: Mapped[list["DisputeParty"]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeParty.id", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return f"{self.dispute_type.label}#{self.id}"

    @property
    def audit_summary(self) -> str:
        return f"{coded(self.dispute_type)}#{self.id}"


class DisputeParty(Model):
    __tablename__ = "dispute_party"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(sa.ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(db_enum(PartyRole, "dispute_party_role"))
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(16))
    id_number: Mapped[Optional[str]] = mapped_column(sa.String(18))

    dispute: Mapped[Dispute] = relationship(back_populates="parties")

    @property
    def audit_court_id(self) -> Optional[int]:
        return self.dispute.court_id if self.dispute is not None else None

    def __str__(self) -> str:
        return self.name


# ==================================================================================================
# Statistics and exports (SPEC §6; FAQ 2.4)
# ==================================================================================================


class ExportJob(Model):
    """A large export, written by the worker in the background; only its owner downloads it."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE", name="fk_export_job_user"),
                                         index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    params: Mapped[dict] = mapped_column(sa.JSON)
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[ExportStatus] = mapped_column(db_enum(ExportStatus, "export_status"), index=True)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    path: Mapped[Optional[str]] = mapped_column(sa.String(300))
    error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: the running worker's claim (app/claims.py); renewed with each batch, taken over once expired
    claimed_by: Mapped[Optional[str]] = mapped_column(sa.String(64))
    lease_until: Mapped[Optional[dt.datetime]]
    #: claims so far: given up after WORKER_MAX_ATTEMPTS (app/claims.py)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}


class ImportJob(InCourt, Model):
    """批量导入 of court users, checked in the request and run by the worker in one transaction [FAQ 2.1].

    `rows` holds the checked rows (name, phone, position, admin flag, row number), never a password.
    """

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("court.id", name="fk_import_job_court"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE", name="fk_import_job_user"),
                                         index=True)
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    rows: Mapped[list] = mapped_column(sa.JSON)
    status: Mapped[ImportStatus] = mapped_column(db_enum(ImportStatus, "import_status"), index=True)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    #: why the run failed: a translated problem list (JSON list of strings) for the page
    errors: Mapped[Optional[list]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[Optional[dt.datetime]]
    finished_at: Mapped[Optional[dt.datetime]]
    claimed_by: Mapped[Optional[str]] = mapped_column(sa.String(64))
    lease_until: Mapped[Optional[dt.datetime]]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: claims so far: given up after WORKER_MAX_ATTEMPTS (app/claims.py)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    court: Mapped[Court] = relationship()

    __mapper_args__ = {"version_id_col": version}


# ==================================================================================================
# Audit, SMS and operations (SPEC §3.1, §7, §8)
# ==================================================================================================


class AuditLog(Model):
    """Append-only trail: who, when, from where, what, before/after (SPEC §3.1, §8).

    Updates and deletes are refused by the ORM hook and, underneath, by
    database triggers created in the migration.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[Optional[int]]
    actor_name: Mapped[Optional[str]] = mapped_column(sa.String(64))
    ip: Mapped[Optional[str]] = mapped_column(sa.String(64))
    action: Mapped[AuditAction] = mapped_column(db_enum(AuditAction, "audit_action"))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[Optional[int]]
    court_id: Mapped[Optional[int]] = mapped_column(index=True)
    case_id: Mapped[Optional[int]] = mapped_column(index=True)
    summary: Mapped[Optional[str]] = mapped_column(sa.String(200))
    before: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    after: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    #: the hash chain (app/audit.py): position, the previous row's hash, this row's hash
    seq: Mapped[Optional[int]]
    prev_hash: Mapped[Optional[str]] = mapped_column(sa.String(64))
    row_hash: Mapped[Optional[str]] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_log_entity", "entity", "entity_id"),
                      sa.Index("ix_audit_log_seq", "seq", unique=True))


class AuditChainHead(Model):
    """The audit chain's newest link, one row: locked by each transaction that appends (app/audit.py)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    row_hash: Mapped[str] = mapped_column(sa.String(64))


class SmsOutbox(Model):
    """Every SMS the platform sends; the local adapter stops here (SPEC §7)."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    phone: Mapped[str] = mapped_column(sa.String(16), index=True)
    kind: Mapped[SmsKind] = mapped_column(db_enum(SmsKind, "sms_kind"))
    body: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[SmsStatus] = mapped_column(db_enum(SmsStatus, "sms_status"), default=SmsStatus.QUEUED)
    sent_at: Mapped[Optional[dt.datetime]]


class Holiday(Model):
    """A public holiday, or (is_workday) a weekend day worked in lieu (调休).

    An override of the official calendar (app/workdays.py): the working-day
    clocks (SPEC §8) read this table first.
    """

    __tablename__ = "holiday"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    is_workday: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class WorkerHeartbeat(Model):
    """`flask worker` writes its row after every round; /health reads it (app/operations.py)."""

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(sa.String(128))
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime]
    rounds: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    last_error_at: Mapped[Optional[dt.datetime]]


# ==================================================================================================
# Statistics summary (issue 17 item 6): app/workflows/stat_summary.py keeps it
# ==================================================================================================

class CaseStatMonth(Model):
    """Additive figures of the cases received in one Beijing month (`month`, 'YYYY-MM') by one court,
    per case type × mediator × organisation × current status × Beijing month of 结案时间. Rebuilt per
    (court, month) bucket from the case rows; never edited."""

    __tablename__ = "case_stat_month"
    __table_args__ = (sa.Index("ix_case_stat_month_bucket", "month", "court_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[Optional[int]]
    month: Mapped[str] = mapped_column(sa.String(7))
    case_type: Mapped[CaseType] = mapped_column(db_enum(CaseType, "stat_case_type"))
    mediator_id: Mapped[Optional[int]]
    organisation_id: Mapped[Optional[int]]
    status: Mapped[CaseStatus] = mapped_column(db_enum(CaseStatus, "stat_case_status"))
    closed_month: Mapped[Optional[str]] = mapped_column(sa.String(7))
    cases: Mapped[int]
    #: days from 收案 to 结案 summed over the cases with a 结案时间 (the report's 平均调解时长)
    days: Mapped[float] = mapped_column(sa.Float)
    confirmed: Mapped[int]
    filed: Mapped[int]


#: a report's read of the rollup is an index-only scan on PostgreSQL (migration 0025 names the same)
ROLLUP_READ_INCLUDES = ["case_type", "mediator_id", "organisation_id", "cases", "still_open", "ended",
                        "terminated", "days", "confirmed", "filed", "received_until", "closed_until"]


class CaseStatRollup(Model):
    """case_stat_month folded per report dimension (`dim`): one row per (court, received month) and
    mediator, organisation or case type, or the bucket's total (`dim` 'court'), without 结案 month. Exact
    for a period that ends once every case of the month had been received and concluded so far (the
    default report period and the dashboard, which end today): then every concluded case counts as
    concluded. The bucket's total row holds the latest 收案日期 and 结案时间 that check rests on."""

    __tablename__ = "case_stat_rollup"
    __table_args__ = (sa.Index("ix_case_stat_rollup_read", "dim", "month", "court_id",
                               postgresql_include=ROLLUP_READ_INCLUDES),
                      sa.Index("ix_case_stat_rollup_bucket", "month", "court_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[Optional[int]]
    month: Mapped[str] = mapped_column(sa.String(7))
    #: 'court' (the bucket's total), 'mediator', 'organisation' or 'case_type': which key column applies
    dim: Mapped[str] = mapped_column(sa.String(12))
    case_type: Mapped[Optional[CaseType]] = mapped_column(db_enum(CaseType, "rollup_case_type"))
    mediator_id: Mapped[Optional[int]]
    organisation_id: Mapped[Optional[int]]
    cases: Mapped[int]
    #: still open (待分配 … 申请结案)
    still_open: Mapped[int]
    #: concluded with or without agreement (with a 结案时间)
    ended: Mapped[int]
    terminated: Mapped[int]
    #: days from 收案 to 结案 summed over the concluded cases
    days: Mapped[float] = mapped_column(sa.Float)
    confirmed: Mapped[int]
    filed: Mapped[int]
    #: the bucket's latest 收案日期 and 结案时间 (total rows only)
    received_until: Mapped[Optional[dt.date]]
    closed_until: Mapped[Optional[dt.datetime]]


class CaseStatDirty(Model):
    """A (court, month) bucket whose summary rows are stale: marked in the transaction that changed a
    case, cleared by the worker's refresh. Reports read a dirty month from the case rows."""

    __tablename__ = "case_stat_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[Optional[int]]
    month: Mapped[str] = mapped_column(sa.String(7), index=True)


# H1 (issue 16): ids are never reused on SQLite
def _ids_never_reused(metadata) -> None:
    """H1: on SQLite a table's integer `id` is AUTOINCREMENT, so the id of a deleted row is never handed
    to a new one (without it SQLite reuses the highest id after a delete, and a new case showed the
    deleted case's 操作记录). Migration 0011 rebuilt the existing tables; this keeps new ones so.
    PostgreSQL's sequences never reuse a value."""
    for table in metadata.tables.values():
        key = list(table.primary_key.columns)
        if len(key) == 1 and key[0].name == "id" and isinstance(key[0].type, sa.Integer):
            table.dialect_options["sqlite"]["autoincrement"] = True


_ids_never_reused(Model.metadata)
