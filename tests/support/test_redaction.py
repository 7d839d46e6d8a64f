"""Card numbers (Luhn-valid, 13-19 digits) are masked; other numbers are left alone."""

from __future__ import annotations

import pytest

from rapport.support.redaction import luhn_valid, mask_card_numbers


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("4111111111111111", "************1111"),
        ("card 4111-1111-1111-1111.", "card ****-****-****-1111."),
        ("amex 378282246310005 ok", "amex ***********0005 ok"),
        ("order 4111111111111112", "order 4111111111111112"),  # fails the Luhn check
        ("phone +44 20 7946 0958", "phone +44 20 7946 0958"),  # too short
        ("id 41111111111111110000000", "id 41111111111111110000000"),  # inside a longer number
    ],
)
def test_masking(text: str, masked: str) -> None:
    assert mask_card_numbers(text) == masked


def test_luhn() -> None:
    assert [luhn_valid(n) for n in ("79927398713", "79927398710")] == [True, False]
