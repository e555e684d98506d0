"""SMS verification codes for 验证码登录 and 注册 [FAQ 1.2–1.4, 3.2]: one set of rules.

The rules are 忘记密码's (app/workflows/accounts.py): a 6-digit code, stored
only as an HMAC, valid `SMS_CODE_TTL_SECONDS` (5 minutes), single use, at most
`SMS_CODE_MAX_ATTEMPTS` wrong tries, at most one code a minute and
`SMS_CODE_MAX_PER_HOUR` an hour per phone — counted over every purpose — and
`SMS_CODE_MAX_PER_IP_PER_HOUR` an hour per client address. A new code voids
every older open code of the phone.

`issue(..., send=False)` stores a row for a code nobody is sent (a phone with
no account on a portal where the code only logs in), so every later answer —
"wrong code, n tries left", the limits — is the same for a registered and an
unknown phone: the page reveals nothing.

A code has no state column to move along a table: it is open until it is
used, voided, exhausted or expired, which `check` reads off its columns;
these are plain functions that flush. (`accounts.request_reset_code` keeps
its own copy of the same rules until the lead folds it into `issue`.)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..clock import utcnow
from ..enums import SmsKind
from ..extensions import db
from ..models import SmsCode
from ..sms import send_sms
from . import DomainError, TooMany

LOGIN = "login"
REGISTER = "register"


class CodeRejected(DomainError):
    """A wrong code: the failed try is kept (the edge commits it), then shown."""

    keeps_changes = True


class CodeExhausted(TooMany):
    """The last try of a code failed (429); the count is kept."""

    keeps_changes = True


def _hash(phone: str, scope: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{scope}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _check_limits(phone: str, ip: Optional[str], now: dt.datetime) -> None:
    cfg = current_app.config
    hour_ago = now - dt.timedelta(hours=1)
    recent = db.session.scalars(
        sa.select(SmsCode.created_at).where(SmsCode.phone == phone, SmsCode.created_at > hour_ago)
        .order_by(SmsCode.created_at.desc())
    ).all()
    if recent:
        wait = cfg["SMS_CODE_MIN_INTERVAL_SECONDS"] - (now - recent[0]).total_seconds()
        if wait > 0:
            raise TooMany(_("Codes are sent at most once a minute. Try again in %(s)d seconds.",
                            s=int(wait) + 1))
        if len(recent) >= cfg["SMS_CODE_MAX_PER_HOUR"]:
            raise TooMany(_("Too many codes for this phone in the last hour. Try again later."))
    if ip:
        from_ip = db.session.scalar(
            sa.select(sa.func.count()).select_from(SmsCode).where(SmsCode.ip == ip, SmsCode.created_at > hour_ago))
        if from_ip >= cfg["SMS_CODE_MAX_PER_IP_PER_HOUR"]:
            raise TooMany(_("Too many codes were asked for from this network in the last hour. Try again later."))


def issue(phone: str, scope: str, purpose: str, ip: Optional[str], send: bool = True,
          now: Optional[dt.datetime] = None) -> Optional[str]:
    """A new code for (phone, scope, purpose), voiding the phone's older open codes.

    `scope` is what the code is bound to (the portal's name). Sends it by SMS
    and returns it when `send`; otherwise stores the hash of a code nobody
    gets and returns None. Raises `TooMany` past a limit (nothing stored).
    """
    now = now or utcnow()
    _check_limits(phone, ip, now)
    db.session.execute(sa.update(SmsCode).where(SmsCode.phone == phone, SmsCode.used_at.is_(None))
                       .values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(SmsCode(
        phone=phone, portal=scope, purpose=purpose, ip=(ip or None) and ip[:64],
        code_hash=_hash(phone, scope, purpose, code if send else secrets.token_hex(16)),
        created_at=now, expires_at=now + dt.timedelta(seconds=current_app.config["SMS_CODE_TTL_SECONDS"]),
    ))
    db.session.flush()
    if not send:
        return None
    send_sms(phone, SmsKind.LOGIN_CODE,
             _("Your verification code is %(code)s, valid for 5 minutes. "
               "Do not tell anyone.", code=code), secret=code)  # finding M8: 短信记录 shows it masked
    return code


def check(phone: str, scope: str, purpose: str, code: str, now: Optional[dt.datetime] = None) -> None:
    """Use the phone's open code for (scope, purpose) if `code` is it; else refuse, counting the try."""
    now = now or utcnow()
    row = db.session.scalar(
        sa.select(SmsCode).where(SmsCode.phone == phone, SmsCode.portal == scope, SmsCode.purpose == purpose,
                                 SmsCode.used_at.is_(None))
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc()).limit(1))
    if row is None:
        raise DomainError(_("Get a verification code first."))
    max_attempts = current_app.config["SMS_CODE_MAX_ATTEMPTS"]
    if row.attempts >= max_attempts:
        raise TooMany(_("Too many wrong codes. Get a new verification code."))
    if now > row.expires_at:
        raise DomainError(_("The verification code has expired. Get a new one."))
    if not hmac.compare_digest(row.code_hash, _hash(phone, scope, purpose, (code or "").strip())):
        row.attempts += 1
        db.session.flush()
        left = max_attempts - row.attempts
        if left <= 0:
            raise CodeExhausted(_("Too many wrong codes. Get a new verification code."))
        raise CodeRejected(_("Wrong verification code. %(n)d attempts left.", n=left))
    row.used_at = now
    db.session.flush()
