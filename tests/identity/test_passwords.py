"""Passwords: Argon2id with OWASP parameters or stronger; long, uncommon passwords only."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from rapport.identity.passwords import (
    STAFF_MIN_LENGTH,
    WeakPassword,
    check_policy,
    hash_password,
    verify_password,
)

pytestmark = pytest.mark.real_password_hashing  # these tests are about the real parameters

GOOD = "violet tram ladder 1987"


def _parameters(encoded: str) -> dict[str, int]:
    fields = encoded.split("$")[3]
    return {name: int(value) for name, value in (part.split("=") for part in fields.split(","))}


def test_hash_is_argon2id() -> None:
    assert hash_password(GOOD).startswith("$argon2id$v=19$")


def test_hash_parameters_meet_owasp_minimum() -> None:
    parameters = _parameters(hash_password(GOOD))
    # OWASP: m >= 19 MiB with t >= 2, p = 1 (or a stronger equivalent).
    assert parameters == {"m": 65536, "t": 3, "p": 1}
    assert parameters["m"] >= 19 * 1024
    assert parameters["t"] >= 2


def test_hash_is_salted() -> None:
    assert hash_password(GOOD) != hash_password(GOOD)


def test_verify_accepts_the_right_password() -> None:
    assert verify_password(hash_password(GOOD), GOOD) == (True, None)


def test_verify_refuses_a_wrong_password() -> None:
    assert verify_password(hash_password(GOOD), GOOD + "!") == (False, None)


def test_verify_refuses_when_there_is_no_hash() -> None:
    assert verify_password(None, GOOD) == (False, None)


def test_verify_refuses_a_garbage_hash() -> None:
    assert verify_password("not-a-hash", GOOD) == (False, None)


def test_verify_returns_an_upgraded_hash_for_weak_parameters() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    ok, upgraded = verify_password(weak, GOOD)
    assert ok is True
    assert upgraded is not None
    assert _parameters(upgraded) == {"m": 65536, "t": 3, "p": 1}
    assert verify_password(upgraded, GOOD) == (True, None)


def test_staff_minimum_length_is_15() -> None:
    assert STAFF_MIN_LENGTH == 15


def test_fourteen_characters_are_refused_for_staff() -> None:
    with pytest.raises(WeakPassword, match="at least 15 characters"):
        check_policy("violet tram 19", min_length=STAFF_MIN_LENGTH)


def test_fifteen_characters_are_accepted_for_staff() -> None:
    check_policy("violet tram 198", min_length=STAFF_MIN_LENGTH)


def test_over_256_characters_are_refused() -> None:
    with pytest.raises(WeakPassword, match="at most 256"):
        check_policy("v" * 100 + "x" * 157, min_length=STAFF_MIN_LENGTH)


@pytest.mark.parametrize("common", ["1qaz2wsx3edc4rfv", "123456789qwerty", "QAZWSXEDCRFVTGB"])
def test_long_common_password_is_refused(common: str) -> None:
    with pytest.raises(WeakPassword, match="commonly used"):
        check_policy(common, min_length=STAFF_MIN_LENGTH)


@pytest.mark.parametrize("repeated", ["passwordpassword", "aaaaaaaaaaaaaaaa", "abcabcabcabcabcabc"])
def test_repetition_is_refused(repeated: str) -> None:
    with pytest.raises(WeakPassword, match="commonly used"):
        check_policy(repeated, min_length=STAFF_MIN_LENGTH)


def test_password_built_from_the_email_is_refused() -> None:
    with pytest.raises(WeakPassword, match="name or email"):
        check_policy(
            "jane.doe@example.com1",
            min_length=STAFF_MIN_LENGTH,
            context=("jane.doe@example.com",),
        )
