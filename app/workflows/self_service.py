"""Everyone's own door: 验证码登录, a party's or agent's registration, 调解员注册 [FAQ 1.2–1.4, 3.2].

- 验证码登录 (`request_login_code`, `login_by_code`) on every portal whose login
  is a phone — all but 调解组织端, which logs in with its credit code and a
  password [FAQ 6.2]. The code rules are app/workflows/sms_codes.py.
- 当事人 / 代理人: a phone without an account (or without that identity) is
  registered by the same step, with phone + code: every phone is sent a code
  there, so nothing is revealed. The account gets a generated password by SMS
  (accounts.ensure_account [FAQ 2.1]); the cases it sees are found by the
  phone (app/views/scope.py `portal_cases`).
- Any other portal: only a phone holding that identity is sent a code; any
  other gets a stored code nobody receives, and the page says the same thing
  either way, so login reveals nothing about who is registered.
- 调解员端 › 注册 (`request_registration_code`, `register_mediator`): phone +
  code, name, ID number (checked, app/validation.py), expertise. A phone that
  already has a mediator identity is told, once the code proved the phone is
  theirs, to log in or reset the password [FAQ 3.2(2)]. The new mediator then
  applies to courts under 我的设置 › 认证法院 (app/workflows/certification.py).

No state column moves here: a login is an event, a registration creates
rows (an account, a `Mediator`) that other processes own from then on. Plain
functions that flush; the request edge commits.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import record
from ..enums import AuditAction, MediatorIdentity, SmsKind
from ..extensions import db
from ..models import Mediator
from ..roles import AGENT, MEDIATOR, PARTY, Portal
from ..sms import send_sms
from ..validation import is_id_number, is_mobile, normalize_id_number, normalize_phone
from . import DomainError, ValidationFailed, sms_codes
from .accounts import _UserRef, account_for_portal, ensure_account, find_user
from .engine import insert_or_conflict

#: the codes of the audit rows written here (app/views/records.py reads them back)
CODE_LOGIN = "account.code_login"
SELF_REGISTERED = "account.self_registered"

#: portals where a phone without that identity registers by logging in with a code
REGISTERING_PORTALS = {Portal.PARTY: PARTY, Portal.AGENT: AGENT}
#: the scope a registration code is bound to
MEDIATOR_REGISTRATION = "MEDIATOR"

ALREADY_MEDIATOR = _l("This phone number is already registered as a mediator. Log in through the mediator "
                      "portal (with your password or a verification code); if you forgot the password, use "
                      "Forgot password to set a new one.")
ORGANISATION_NO_CODE = _l("The organisation portal logs in with the unified social credit code and its "
                          "password; SMS codes are not used there.")


def code_login_portals() -> list[Portal]:
    """The portals whose login is a phone (验证码登录 is offered there)."""
    return [p for p in Portal if p is not Portal.ORGANISATION]


def _phone(raw: str) -> str:
    phone = normalize_phone(raw or "")
    if not is_mobile(phone):
        raise DomainError(_("Enter a mobile number: 11 digits starting with 1."))
    return phone


def _usable_portal(portal: Portal) -> None:
    if portal is Portal.ORGANISATION:
        raise DomainError(str(ORGANISATION_NO_CODE))


def request_login_code(raw_phone: str, portal: Portal, ip: Optional[str]) -> Optional[str]:
    """获取验证码 on the login page. Returns the code when one was sent (tests), else None;
    the caller says the same thing either way."""
    _usable_portal(portal)
    phone = _phone(raw_phone)
    send = portal in REGISTERING_PORTALS or account_for_portal(phone, portal) is not None
    return sms_codes.issue(phone, portal.name, sms_codes.LOGIN, ip, send=send)


def login_by_code(raw_phone: str, portal: Portal, code: str):
    """The account to log in through `portal` once `code` is the phone's open login code.

    Returns `(user, registered)`: on 当事人/代理人 a phone without that identity is
    registered first (`registered` is True).
    """
    _usable_portal(portal)
    phone = _phone(raw_phone)
    sms_codes.check(phone, portal.name, sms_codes.LOGIN, code)
    registered = False
    user = account_for_portal(phone, portal)
    if user is None and portal in REGISTERING_PORTALS:
        existing = find_user(phone)
        if existing is not None and not existing.active and existing.roles:
            raise DomainError(_("This account is disabled. Contact your court or the platform's support."))
        user, _created = ensure_account(phone, phone, [REGISTERING_PORTALS[portal]])
        db.session.flush()
        record(db.session, _UserRef(user), AuditAction.CREATE, SELF_REGISTERED, {"portal": portal.name})
        registered = True
    if user is None:  # the identity went away since the code was sent
        raise DomainError(_("Get a verification code first."))
    user.fail_login_count = 0
    record(db.session, _UserRef(user), AuditAction.LOGIN, CODE_LOGIN, {"portal": portal.name})
    return user, registered


# --- 调解员注册 [FAQ 3.2] ------------------------------------------------------------------

def request_registration_code(raw_phone: str, ip: Optional[str]) -> str:
    """获取验证码 on 调解员注册: every phone is sent one (the form says nothing yet)."""
    return sms_codes.issue(_phone(raw_phone), MEDIATOR_REGISTRATION, sms_codes.REGISTER, ip)


def registration_problems(name: str, id_number: str, expertise: str) -> list[str]:
    problems = []
    if not (name or "").strip():
        problems.append(_("Enter the name."))
    elif len(name.strip()) > 64:
        problems.append(_("The name is at most 64 characters."))
    if not is_id_number(normalize_id_number(id_number or "")):
        problems.append(_("The resident ID number is invalid (check its 18 characters, birth date and check "
                          "digit)."))
    if not (expertise or "").strip():
        problems.append(_("Enter the fields you mediate in (expertise)."))
    elif len(expertise.strip()) > 200:
        problems.append(_("The expertise is at most 200 characters."))
    return problems


def register_mediator(raw_phone: str, code: str, name: str, id_number: str, expertise: str):
    """调解员端 › 注册: a platform mediator of no court yet; returns the account to log in.

    Bad fields are listed together and nothing is used up; then the code; then a
    phone that already is a mediator is told to log in or reset.
    """
    phone = _phone(raw_phone)
    problems = registration_problems(name, id_number, expertise)
    if problems:
        raise ValidationFailed(_("The registration was not saved:"), problems)
    sms_codes.check(phone, MEDIATOR_REGISTRATION, sms_codes.REGISTER, code)
    if db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == phone)) is not None:
        raise DomainError(str(ALREADY_MEDIATOR))
    existing = find_user(phone)
    if existing is not None and not existing.active and existing.roles:
        raise DomainError(_("This account is disabled. Contact your court or the platform's support."))
    user, created = ensure_account(phone, name.strip(), [MEDIATOR])
    mediator = Mediator(user=user, name=name.strip(), phone=phone, id_number=normalize_id_number(id_number),
                        identity=MediatorIdentity.INVITED, expertise=expertise.strip())
    insert_or_conflict(mediator, str(ALREADY_MEDIATOR))  # registered twice at once
    record(db.session, _UserRef(user), AuditAction.CREATE, SELF_REGISTERED, {"portal": Portal.MEDIATOR.name})
    if not created:
        send_sms(phone, SmsKind.NOTICE,
                 _("You registered as a mediator. Log in through the mediator portal "
                   "with your existing password, then apply to courts under My settings › Certified courts."))
    return user, mediator
