"""Accounts: the phone is the login [FAQ 2.1, 1.x, 7.2].

- `ensure_account` gives a phone a platform account with a role, reusing the
  account when the person already holds another identity (SPEC §1: one phone,
  several identities). A new account gets a generated initial password by SMS
  [FAQ 2.1]; an existing one keeps its password.
- Forgotten password [FAQ 1.2–1.4, 7.3(2)]: `request_reset_code` sends a
  6-digit SMS code, stored as an HMAC, valid 5 minutes, at most 5 attempts,
  at most one code a minute and 5 an hour per phone; `reset_password` checks
  it and sets the new password. A new code voids the phone's older ones
  (finding M5). A phone without an account on the portal gets a code row
  too, the hash of a code nobody is sent, so every answer — "wrong code,
  n attempts left", the limits — is the same for registered and unknown
  phones (finding M4).
- 修改密码 (`change_password`): the current password first, then the
  password rule (finding M3). A changed or reset password ends every session
  of the account (`app.sessions.end_sessions`, finding M2).
- Initial passwords and codes reach the SMS adapter, never the 短信记录
  table (`send_sms(..., secret=)`, finding M8).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import record
from ..clock import utcnow
from ..enums import AuditAction, SmsKind
from ..extensions import db
from ..models import SmsCode
from ..roles import Portal
from ..sessions import end_sessions
from ..sms import send_sms
from ..validation import password_problem
from . import DomainError

#: the codes of the explicit audit rows about accounts (app/views/records.py reads them back)
PASSWORD_RESET = "account.password_reset"
PASSWORD_CHANGED = "account.password_changed"
ADMIN_CREATED = "account.admin_created"


class CodeRejected(DomainError):
    """A wrong reset code: the failed attempt is kept (the edge commits it), then shown."""

    keeps_changes = True


def _sm():
    return current_app.appbuilder.sm


def find_user(phone: str):
    return _sm().find_user(username=phone)


def generate_password() -> str:
    """10 characters with letters and digits (meets `password_problem`)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(10))
        if not password_problem(pw):
            return pw


@dataclass(frozen=True)
class InitialPassword:
    """A generated initial password and its hash, made ahead of the transaction that creates the account
    (批量导入 hashes in the worker before its one transaction, app/workflows/bulk_import.py)."""

    plain: str
    hashed: str


def initial_password() -> InitialPassword:
    """A generated initial password, hashed with `INITIAL_PASSWORD_HASH_METHOD`.

    The cost is lower than a chosen password's (`FAB_PASSWORD_HASH_METHOD`): the password is 10 random
    letters and digits (~59 bits, nothing a dictionary guesses), the SMS asks the user to change it, and
    the change is hashed at the full cost. That is what makes 2,000 imported users take seconds of
    hashing rather than minutes (benchmarks/bulk_import.py).
    """
    plain = generate_password()
    method = current_app.config.get("INITIAL_PASSWORD_HASH_METHOD") or current_app.config.get(
        "FAB_PASSWORD_HASH_METHOD", "scrypt")
    return InitialPassword(plain, generate_password_hash(plain, method=method))


def set_password(user, password: str) -> None:
    user.password = generate_password_hash(
        password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    )


def ensure_account(phone: str, name: str, role_names: list[str], password: str | None = None,
                   notify: bool = True, initial: InitialPassword | None = None):
    """The account for `phone` with `role_names` added; created if missing.

    Returns `(user, created)`. A created account gets `password`, or a
    generated one sent by SMS (`initial`: one generated and hashed already).
    """
    sm = _sm()
    roles = [sm.find_role(n) for n in role_names]
    if any(r is None for r in roles):
        raise RuntimeError(f"roles not seeded: {role_names}")
    user = find_user(phone)
    if user is not None:
        for role in roles:
            if role not in user.roles:
                user.roles.append(role)
        user.active = True
        return user, False
    if initial is None or password is not None:
        initial = None
        plain = password or generate_password()
    else:
        plain = initial.plain
    user = sm.user_model(
        username=phone,
        first_name=name[:64],
        last_name="",
        email=f"{phone}@phone.invalid",
        active=True,
    )
    user.roles = roles
    if initial is not None:
        user.password = initial.hashed
    else:
        set_password(user, plain)
    db.session.add(user)
    if notify and password is None:
        send_sms(
            phone,
            SmsKind.INITIAL_PASSWORD,
            _(
                "%(name)s, your account is %(phone)s and your initial "
                "password is %(password)s. Please change it after logging in.",
                name=name,
                phone=phone,
                password=plain,
            ),
            secret=plain,
        )
    return user, True


def remove_roles(user, role_names: list[str]) -> None:
    """Drop roles; an account left without any role is deactivated."""
    user.roles = [r for r in user.roles if r.name not in role_names]
    if not user.roles:
        user.active = False


def _code_hash(phone: str, portal: Portal, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{portal.name}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def account_for_portal(phone: str, portal: Portal):
    user = find_user(phone)
    if user is None or not user.active:
        return None
    if not {r.name for r in user.roles} & set(portal.roles):
        return None
    return user


def request_reset_code(phone: str, portal: Portal, now: dt.datetime | None = None) -> str | None:
    """Send a reset code to `phone` if it has an account on `portal`.

    Returns the code (for the SMS adapter and tests) or None when there is no
    such account; the caller shows the same message either way so the page
    does not reveal who is registered. Rate limits apply to every phone.
    """
    now = now or utcnow()
    cfg = current_app.config
    recent = db.session.scalars(
        sa.select(SmsCode.created_at)
        .where(SmsCode.phone == phone, SmsCode.created_at > now - dt.timedelta(hours=1))
        .order_by(SmsCode.created_at.desc())
    ).all()
    if recent:
        wait = cfg["SMS_CODE_MIN_INTERVAL_SECONDS"] - (now - recent[0]).total_seconds()
        if wait > 0:
            raise DomainError(_("Codes are sent at most once a minute. Try again in %(s)d seconds.",
                                s=int(wait) + 1))
        if len(recent) >= cfg["SMS_CODE_MAX_PER_HOUR"]:
            raise DomainError(_("Too many codes for this phone in the last hour. Try again later."))
    user = account_for_portal(phone, portal)
    code = f"{secrets.randbelow(10**6):06d}"
    # M5: a new code voids the older ones still open (any portal: the phone asked again)
    db.session.execute(sa.update(SmsCode).where(SmsCode.phone == phone, SmsCode.used_at.is_(None))
                       .values(used_at=now))
    # M4: an unknown phone gets a row too, for a code nobody is sent, so it answers like a known one
    db.session.add(
        SmsCode(
            phone=phone,
            portal=portal.name,
            code_hash=_code_hash(phone, portal, code if user else secrets.token_hex(16)),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=cfg["SMS_CODE_TTL_SECONDS"]),
        )
    )
    if user is None:
        return None
    send_sms(
        phone,
        SmsKind.RESET_CODE,
        _("Your verification code is %(code)s, valid for 5 minutes. "
          "Do not tell anyone.", code=code),
        secret=code,
    )
    return code


def reset_password(phone: str, portal: Portal, code: str, new_password: str,
                   now: dt.datetime | None = None):
    """Check the latest code for (phone, portal) and set the new password."""
    now = now or utcnow()
    problem = password_problem(new_password)
    if problem:
        raise DomainError(problem)
    sms_code = db.session.scalar(
        sa.select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.portal == portal.name, SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )
    user = account_for_portal(phone, portal)
    if sms_code is None:
        raise DomainError(_("Get a verification code first."))
    max_attempts = current_app.config["SMS_CODE_MAX_ATTEMPTS"]
    if sms_code.attempts >= max_attempts:
        raise DomainError(_("Too many wrong codes. Get a new verification code."))
    if now > sms_code.expires_at:
        raise DomainError(_("The verification code has expired. Get a new one."))
    if user is None or not hmac.compare_digest(sms_code.code_hash, _code_hash(phone, portal, code.strip())):
        sms_code.attempts += 1
        left = max_attempts - sms_code.attempts
        if left <= 0:
            raise CodeRejected(_("Too many wrong codes. Get a new verification code."))
        raise CodeRejected(_("Wrong verification code. %(n)d attempts left.", n=left))
    sms_code.used_at = now
    set_password(user, new_password)
    user.fail_login_count = 0
    end_sessions(user.id)
    record(db.session, _UserRef(user), AuditAction.PASSWORD, PASSWORD_RESET, {"portal": portal.name})
    _notify_changed(phone)
    return user


def _notify_changed(phone: str) -> None:
    send_sms(phone, SmsKind.PASSWORD_CHANGED,
             _("Your password was changed. If this was not you, "
               "contact your court."))


def current_password_problem(user, password: str) -> str | None:
    """Why `password` is not the account's current password (修改密码 asks for it first), or None."""
    if not user.password or not check_password_hash(user.password, password or ""):
        return _("The current password is wrong.")
    return None


def change_password(user, current: str, new_password: str) -> None:
    """修改密码 (finding M3): the current password, then the password rule; every session ends (M2).

    Flushes; the caller's transaction commits (FAB's own 修改密码 form commits through the
    security manager, app/security.py).
    """
    problem = current_password_problem(user, current) or password_problem(new_password)
    if problem:
        raise DomainError(problem)
    if check_password_hash(user.password, new_password):
        raise DomainError(_("The new password must differ from the current one."))
    set_password(user, new_password)
    end_sessions(user.id)
    record(db.session, _UserRef(user), AuditAction.PASSWORD, PASSWORD_CHANGED, {})
    _notify_changed(user.username)


class _UserRef:
    """Lets `audit.record` describe an ab_user row without copying secrets."""

    __tablename__ = "ab_user"

    def __init__(self, user):
        self.id = user.id
        self._name = user.username

    def __str__(self):
        return self._name
