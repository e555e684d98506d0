"""Format and check-character rules for Chinese identifiers.

- Mobile number: 11 digits starting with 1 [FAQ 3.1]. Placeholder numbers
  such as 10000000000 are allowed on purpose (corrected later by the mediator),
  so no carrier ranges are enforced.
- Resident ID number (GB 11643-1999): 6-digit address code, birth date
  YYYYMMDD, 3-digit sequence, check char by ISO 7064 MOD 11-2
  (weights 2^(18-i) mod 11, results mapped to "10X98765432").
- Unified social credit code (GB 32100-2015): 18 chars over 31 symbols
  (no I O Z S V); chars 9-17 are a GB 11714-1997 organisation code with its
  own MOD 11 check; char 18 is ISO 7064 MOD 31-3 (weights 3^(i-1) mod 31).
- Password: at least 8 characters with both letters and digits, for every
  account (court users, liaisons, organisations, a reset by SMS code).

Every ``is_*`` function normalises first, so callers may pass raw user input.
Forms (app/forms.py) and workflows both check through these functions.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l

from . import clock

_MOBILE = re.compile(r"1[0-9]{10}")
_PHONE_SEPARATORS = re.compile(r"[\s\-]")
_PHONE_PREFIXES = ("+86", "0086", "86")
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")

_ID_BODY = re.compile(r"[0-9]{17}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# GB 11643-1999's own annex example (440524188001010014) is born in 1880,
# so the floor is 1800 rather than 1900.
EARLIEST_BIRTH_DATE = date(1800, 1, 1)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_BODY = re.compile(r"[0-9A-Z]{8}")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _nfkc(raw: str) -> str:
    # NFKC folds full-width digits and letters typed with Chinese IMEs to ASCII.
    return unicodedata.normalize("NFKC", raw)


def normalize_phone(raw: str) -> str:
    phone = _PHONE_SEPARATORS.sub("", _nfkc(raw))
    for prefix in _PHONE_PREFIXES:
        # Only a country code when a full mainland number follows; a bare
        # "86..." of another length is left for is_mobile to refuse.
        rest = phone[len(prefix):]
        if phone.startswith(prefix) and _ELEVEN_DIGITS.fullmatch(rest):
            return rest
    return phone


def is_mobile(phone: str) -> bool:
    return _MOBILE.fullmatch(normalize_phone(phone)) is not None


def normalize_id_number(raw: str) -> str:
    return _nfkc(raw).strip().upper()


def id_check_char(body17: str) -> str:
    if not _ID_BODY.fullmatch(body17):
        raise ValueError(f"ID body must be 17 digits: {body17!r}")
    total = sum(int(char) * weight for char, weight in zip(body17, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def is_id_number(value: str, *, today: date | None = None) -> bool:
    value = normalize_id_number(value)
    if len(value) != 18 or not _ID_BODY.fullmatch(value[:17]):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not EARLIEST_BIRTH_DATE <= born <= (today or clock.today()):
        return False
    return id_check_char(value[:17]) == value[17]


def normalize_credit_code(raw: str) -> str:
    return _nfkc(raw).strip().upper()


def organization_code_check_char(body8: str) -> str:
    """GB 11714 check for the organisation code at USCC positions 9-17."""
    if not _ORG_BODY.fullmatch(body8):
        raise ValueError(f"organisation code body must be 8 of 0-9A-Z: {body8!r}")
    # int(char, 36) maps 0-9 to 0-9 and A-Z to 10-35, as GB 11714 prescribes.
    remainder = 11 - sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def credit_code_check_char(body17: str) -> str:
    if len(body17) != 17 or not set(body17) <= _USCC_VALUES.keys():
        raise ValueError(f"USCC body must be 17 chars of {USCC_ALPHABET}: {body17!r}")
    total = sum(_USCC_VALUES[char] * weight for char, weight in zip(body17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    # Chars 1-8 are deliberately not required to be digits: authority codes
    # such as Y, A and N are valid (python-stdnum wrongly rejects them).
    value = normalize_credit_code(value)
    if len(value) != 18 or not set(value) <= _USCC_VALUES.keys():
        return False
    return (
        credit_code_check_char(value[:17]) == value[17]
        and organization_code_check_char(value[8:16]) == value[16]
    )


PASSWORD_MESSAGE = _l("The password needs at least 8 characters with both letters and digits.")
PASSWORD_MIN_LENGTH = 8


def password_problem(password: str) -> str | None:
    """Why `password` is too weak, or None."""
    if (
        len(password) < PASSWORD_MIN_LENGTH
        or not any(c.isalpha() for c in password)
        or not any(c.isdigit() for c in password)
    ):
        return str(PASSWORD_MESSAGE)
    return None
