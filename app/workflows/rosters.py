"""Court users and rosters: what happens around a FAB add/edit/delete [FAQ 2.1–2.3, 7.1–7.3].

Input has already passed the form validators (format, check digits,
uniqueness); these functions create the accounts that go with the rows, keep
roles in step with flags, and refuse deletions that would break links. Each
guard raises `DomainError` before anything changes. A mediator or
organisation a court adds is certified by that court directly
(app/workflows/certification.py `enrol`). There is no state here to move
along a table: these are FAB's own add/edit/delete, and FAB commits.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from ..audit import record
from ..enums import AuditAction, MediatorIdentity, SmsKind
from ..extensions import db
from ..models import CourtStaff, GrassrootsUnit, Mediator, Organisation, Tribunal
from ..roles import COURT_ADMIN, COURT_USER, LIAISON, MEDIATOR
from ..security import Scope
from ..sms import send_sms
from . import DomainError, certification
from .accounts import InitialPassword, ensure_account, find_user, remove_roles, set_password
from .actor import Actor


#: the code of the audit row (app/views/records.py reads it back)
LIAISON_PASSWORD_SET = "roster.liaison_password_set"


def court_roles(is_admin: bool) -> list[str]:
    return [COURT_USER, COURT_ADMIN] if is_admin else [COURT_USER]


def court_id_of(obj) -> int | None:
    """The court of a row being added: the form sets the relationship, not the column."""
    court = getattr(obj, "court", None)
    return court.id if court is not None else obj.court_id


def check_court_in_scope(court_id: int | None, scope: Scope) -> None:
    if court_id is None:
        raise DomainError(_("Choose a court."))
    if not scope.is_platform and court_id != scope.court_id:
        raise DomainError(_("You can only manage your own court."))


def add_court_staff(staff: CourtStaff, scope: Scope, initial: InitialPassword | None = None) -> CourtStaff:
    """单个新增: the phone becomes the login; a new account gets its password by SMS (`initial`: one
    generated and hashed ahead, by 批量导入)."""
    check_court_in_scope(court_id_of(staff), scope)
    existing = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == staff.phone))
    if existing is not None:
        raise DomainError(already_a_user(staff.phone, existing, scope.court_id))
    user, created = ensure_account(staff.phone, staff.name, court_roles(staff.is_admin), initial=initial)
    staff.user = user
    if not created:
        # One phone, several identities (SPEC §1): the existing password stays.
        send_sms(
            staff.phone,
            SmsKind.NOTICE,
            _("You were added as a user of %(court)s. Log in through the "
              "court portal with your existing password.", court=_court_name(staff)),
        )
    return staff


def already_a_user(phone: str, staff: CourtStaff, court_id: int | None) -> str:
    """That `phone` is a court user, naming the court only when it is the actor's own (finding L5:
    adding or importing users must not tell one court who works at another)."""
    if staff.court_id == court_id:
        return _("%(phone)s is already a user of %(court)s", phone=phone, court=staff.court.name)
    return _("%(phone)s is already a user of another court", phone=phone)


def _court_name(obj) -> str:
    court = getattr(obj, "court", None)
    return court.name if court is not None else ""


def sync_staff_roles(staff: CourtStaff, scope: Scope) -> None:
    """After an edit: roles follow the admin flag; nobody demotes themself."""
    if scope.staff_id == staff.id and not staff.is_admin:
        raise DomainError(_("You cannot remove your own administrator right."))
    user = staff.user
    remove_roles(user, [COURT_ADMIN, COURT_USER])
    ensure_account(staff.phone, staff.name, court_roles(staff.is_admin))


def check_staff_deletable(staff: CourtStaff, scope: Scope) -> None:
    if scope.staff_id == staff.id:
        raise DomainError(_("You cannot delete your own account."))
    tribunal = db.session.scalar(sa.select(Tribunal).where(Tribunal.admin_id == staff.id).limit(1))
    if tribunal is not None:
        raise DomainError(
            _("%(name)s is the administrator of %(tribunal)s; choose another administrator first.",
              name=staff.name, tribunal=tribunal.name)
        )


def delete_court_staff(staff: CourtStaff, scope: Scope) -> None:
    check_staff_deletable(staff, scope)
    remove_roles(staff.user, [COURT_ADMIN, COURT_USER])


def add_mediator(mediator: Mediator, actor: Actor) -> Mediator:
    """新增调解员: a platform-wide mediator certified by the adding court [FAQ 2.2, 3.2]."""
    user, _created = ensure_account(mediator.phone, mediator.name, [MEDIATOR])
    mediator.user = user
    db.session.add(mediator)
    certification.enrol(mediator, actor)  # refused: FAB commits nothing, the request rolls back
    return mediator


def update_mediator(mediator: Mediator, old_phone: str) -> None:
    """A court may change a mediator's phone [FAQ 2.3]: the login follows it."""
    if mediator.phone != old_phone:
        holder = find_user(mediator.phone)
        if holder is not None and holder.id != mediator.user_id:
            raise DomainError(
                _("%(phone)s is already the login of another platform account; choose another number.",
                  phone=mediator.phone)
            )
        user = mediator.user
        user.username = mediator.phone
        user.email = f"{mediator.phone}@phone.invalid"
        send_sms(
            mediator.phone,
            SmsKind.NOTICE,
            _("Your login phone was changed to %(phone)s by the court.",
              phone=mediator.phone),
        )


def add_organisation(org: Organisation, actor: Actor) -> Organisation:
    """新增调解组织: registered on the platform and certified by this court [FAQ 2.2, 6.7(3)]."""
    certification.enrol(org, actor)
    db.session.add(org)
    return org


def add_grassroots_unit(unit: GrassrootsUnit, password: str, scope: Scope) -> GrassrootsUnit:
    """新增基层治理单位: the liaison's phone and password log into 基层治理端 [FAQ 7.2]."""
    check_court_in_scope(court_id_of(unit), scope)
    if unit.tribunal is not None and unit.tribunal.court_id != court_id_of(unit):
        raise DomainError(_("The tribunal belongs to another court."))
    user, created = ensure_account(unit.liaison_phone, unit.liaison_name, [LIAISON], password=password)
    if not created:
        set_password(user, password)
    unit.liaison_user = user
    return unit


def set_liaison_password(unit: GrassrootsUnit, password: str) -> None:
    """The court admin sets a new liaison password when editing the unit [FAQ 7.3(1)]."""
    set_password(unit.liaison_user, password)
    record(db.session, unit, AuditAction.PASSWORD, LIAISON_PASSWORD_SET, {"liaison_phone": unit.liaison_phone})


def check_tribunal(tribunal: Tribunal, scope: Scope) -> None:
    check_court_in_scope(court_id_of(tribunal), scope)
    if tribunal.admin is not None and tribunal.admin.court_id != court_id_of(tribunal):
        raise DomainError(_("The administrator must be a user of the tribunal's court."))


def check_tribunal_deletable(tribunal: Tribunal) -> None:
    unit = db.session.scalar(sa.select(GrassrootsUnit).where(GrassrootsUnit.tribunal_id == tribunal.id).limit(1))
    if unit is not None:
        raise DomainError(_("%(unit)s belongs to this tribunal; move or delete it first.", unit=unit.name))


def delete_grassroots_unit(unit: GrassrootsUnit) -> None:
    remove_roles(unit.liaison_user, [LIAISON])


def other_identities() -> list[MediatorIdentity]:
    return [MediatorIdentity.JUDGE, MediatorIdentity.OTHER]

