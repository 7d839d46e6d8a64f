"""Card numbers are masked only when they pass Luhn; emails and phones only on request."""

from __future__ import annotations

import pytest

from rapport.nlp.pii import luhn_valid, mask_pii


def test_luhn_accepts_a_valid_number_and_rejects_one_digit_off() -> None:
    assert luhn_valid("4111111111111111") is True
    assert luhn_valid("4111111111111112") is False


def test_card_numbers_are_masked_in_any_grouping() -> None:
    text = "card 4111 1111 1111 1111, or 5500-0000-0000-0004 or 378282246310005."
    assert mask_pii(text) == "card [CARD], or [CARD] or [CARD]."


def test_digits_that_fail_luhn_stay() -> None:
    assert mask_pii("order 4111111111111112 shipped") == "order 4111111111111112 shipped"


def test_emails_and_phones_stay_unless_asked() -> None:
    text = "mail jane.doe+shop@example.co.uk or call +44 20 7946 0958"
    assert mask_pii(text) == text
    assert mask_pii(text, emails=True) == "mail [EMAIL] or call +44 20 7946 0958"
    assert mask_pii(text, emails=True, phones=True) == "mail [EMAIL] or call [PHONE]"


def test_short_numbers_are_not_phones() -> None:
    assert mask_pii("order 12345 of 3 items", phones=True) == "order 12345 of 3 items"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://shop.example/pay/4111 1111 1111 1111", "[LINK]"),
        ("https://shop.example/checkout?card=4111 1111 1111 1111 thanks", "[LINK] thanks"),
        (
            "(see https://x.example/4111111111111111) or www.x.example/5500000000000004.",
            "(see [LINK]) or [LINK].",
        ),
        ("https://x.example/4111111111111111/5500000000000004", "[LINK]"),
    ],
)
def test_a_card_typed_on_after_a_link_is_masked_for_models(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


def test_a_link_holding_a_card_is_replaced_whole_for_models() -> None:
    link = "https://shop.example/track/4111111111111111?ref=5500000000000004"
    plain = "https://shop.example/track/4111111111111112"  # not a card (Luhn)
    assert mask_pii(f"card 4111 1111 1111 1111, parcel {link} or {plain}") == (
        f"card [CARD], parcel [LINK] or {plain}"
    )
