from __future__ import annotations

import random
from datetime import date

import pytest

from app import clock, forms
from app.workflows import accounts
from app.validation import (
    PASSWORD_MESSAGE,
    USCC_ALPHABET,
    credit_code_check_char,
    id_check_char,
    is_credit_code,
    is_id_number,
    is_mobile,
    normalize_credit_code,
    normalize_id_number,
    normalize_phone,
    organization_code_check_char,
    password_problem,
)

FORBIDDEN_USCC_CHARS = "IOZSV"


def _with_last_char_replaced(value: str, alphabet: str) -> list[str]:
    return [value[:-1] + c for c in alphabet if c != value[-1]]


def _letter_authority_uscc() -> str:
    # Authority Y (其他), type 1, division 110000, organisation code MA01ABCD.
    org = "MA01ABCD" + organization_code_check_char("MA01ABCD")
    body = "Y1110000" + org
    return body + credit_code_check_char(body)


# --- mobile -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "8613812345678",
     "１３８１２３４５６７８", " 138 1234 5678 "],
)
def test_mobile_accepts_common_spellings(raw):
    assert is_mobile(raw)
    assert normalize_phone(raw) == "13812345678"


def test_mobile_accepts_placeholder_number():
    assert is_mobile("10000000000")


@pytest.mark.parametrize(
    "raw",
    ["1381234567", "138123456789", "23812345678", "1381234567a", "", "+86 1381234567",
     "86 1381234567"],
)
def test_mobile_refuses_wrong_length_prefix_or_letters(raw):
    assert not is_mobile(raw)


def test_phone_keeps_86_that_is_not_a_country_code():
    assert normalize_phone("86123") == "86123"


# --- resident ID ------------------------------------------------------------


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014"])
def test_id_number_accepts_standard_examples(value):
    assert is_id_number(value)


def test_id_number_accepts_lowercase_x():
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert is_id_number("11010519491231002x")


def test_id_number_normalises_full_width_digits_and_spaces():
    assert is_id_number(" １１０１０５１９４９１２３１００２Ｘ ")


@pytest.mark.parametrize("value", _with_last_char_replaced("11010519491231002X", "0123456789X"))
def test_id_number_rejects_wrong_check_digit(value):
    assert not is_id_number(value)


@pytest.mark.parametrize("value", ["11010519491231002", "11010519491231002X0", "", "110105194912310X2X"])
def test_id_number_rejects_wrong_length_or_non_digit_body(value):
    assert not is_id_number(value)


@pytest.mark.parametrize("birth", ["19490230", "19491301", "19490000", "17991231"])
def test_id_number_rejects_impossible_birth_date(birth):
    body = "110105" + birth + "002"
    assert not is_id_number(body + id_check_char(body))


def test_id_number_rejects_birth_date_in_the_future():
    body = "110105" + "20300101" + "002"
    value = body + id_check_char(body)
    assert not is_id_number(value, today=date(2029, 12, 31))
    assert is_id_number(value, today=date(2030, 1, 1))


def test_id_number_counts_the_future_from_the_beijing_day(monkeypatch):
    """One clock: "today" is Beijing's day (app/clock.py), not the server's."""
    body = "110105" + "20300101" + "002"
    value = body + id_check_char(body)
    monkeypatch.setattr(clock, "today", lambda: date(2029, 12, 31))
    assert not is_id_number(value)
    monkeypatch.setattr(clock, "today", lambda: date(2030, 1, 1))
    assert is_id_number(value)


def test_id_check_char_refuses_malformed_body():
    with pytest.raises(ValueError):
        id_check_char("1101051949123100")


# --- unified social credit code ----------------------------------------------


@pytest.mark.parametrize("value", ["91110000600037341L", "91350100M000100Y43"])
def test_credit_code_accepts_standard_examples(value):
    assert is_credit_code(value)


def test_credit_code_accepts_letter_authority_code():
    value = _letter_authority_uscc()
    assert value[0] == "Y"
    assert is_credit_code(value)


def test_credit_code_normalises_case_and_full_width():
    assert normalize_credit_code(" ９１３５０１００m０００１００y４３ ") == "91350100M000100Y43"
    assert is_credit_code("91350100m000100y43")


@pytest.mark.parametrize("value", _with_last_char_replaced("91350100M000100Y43", USCC_ALPHABET))
def test_credit_code_rejects_wrong_check_char(value):
    assert not is_credit_code(value)


def test_credit_code_rejects_wrong_organisation_check_char():
    # Outer check recomputed, so only the inner GB 11714 check can catch it.
    body = "91350100M000100Y5"
    assert not is_credit_code(body + credit_code_check_char(body))


@pytest.mark.parametrize("char", FORBIDDEN_USCC_CHARS)
def test_credit_code_rejects_letters_outside_alphabet(char):
    value = "91350100M000100Y43"
    assert not is_credit_code(value[:10] + char + value[11:])
    with pytest.raises(ValueError):
        credit_code_check_char(value[:10] + char + value[11:17])


@pytest.mark.parametrize("value", ["91350100M000100Y4", "91350100M000100Y430", ""])
def test_credit_code_rejects_wrong_length(value):
    assert not is_credit_code(value)


# --- password ---------------------------------------------------------------


@pytest.mark.parametrize("password", ["abcd1234", "Demo@2026", "长密码abc123"])
def test_password_with_eight_characters_letters_and_digits_is_accepted(password):
    assert password_problem(password) is None


@pytest.mark.parametrize("password", ["abc1234", "abcdefgh", "12345678", ""])
def test_password_short_or_without_letters_or_digits_is_refused(password):
    assert password_problem(password) == str(PASSWORD_MESSAGE)


def test_forms_and_workflows_share_the_one_password_rule():
    assert forms.password_problem is password_problem and accounts.password_problem is password_problem


# --- round trips ------------------------------------------------------------


def _random_id_body(rng: random.Random) -> str:
    start, end = date(1900, 1, 1).toordinal(), clock.today().toordinal()
    born = date.fromordinal(rng.randint(start, end))
    return f"{rng.randrange(10**6):06d}{born:%Y%m%d}{rng.randrange(1000):03d}"


def _random_uscc_body(rng: random.Random) -> str:
    head = "".join(rng.choice(USCC_ALPHABET) for _ in range(16))
    return head + organization_code_check_char(head[8:])


def test_id_check_char_round_trips_and_catches_single_digit_errors():
    rng = random.Random(2026)
    for _ in range(3000):
        value = (body := _random_id_body(rng)) + id_check_char(body)
        assert is_id_number(value), value
        pos = rng.randrange(17)
        digit = rng.choice([d for d in "0123456789" if d != value[pos]])
        assert not is_id_number(value[:pos] + digit + value[pos + 1:]), value


def test_credit_code_check_char_round_trips_and_catches_single_char_errors():
    rng = random.Random(2026)
    for _ in range(3000):
        value = (body := _random_uscc_body(rng)) + credit_code_check_char(body)
        assert is_credit_code(value), value
        pos = rng.randrange(17)
        char = rng.choice([c for c in USCC_ALPHABET if c != value[pos]])
        assert not is_credit_code(value[:pos] + char + value[pos + 1:]), value
