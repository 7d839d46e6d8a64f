"""What a conversation stores: card numbers (Luhn-valid, 13-19 digits) starred but their last
four digits, even touching letters; other numbers and links left alone."""

from __future__ import annotations

import pytest

from rapport.nlp.pii import luhn_valid, mask_card_numbers

# A survey link texted by SMS: its random id held a Luhn-valid run of 16 digits, which came
# out starred and broke the link.
SURVEY_LINK = "http://127.0.0.1:8000/console/surveys/01a250b726ef7cc4111111111111111b.Ab3_x-9"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("4111111111111111", "************1111"),
        ("card 4111-1111-1111-1111.", "card ****-****-****-1111."),
        ("amex 378282246310005 ok", "amex ***********0005 ok"),
        ("(4111 1111 1111 1111)", "(**** **** **** 1111)"),
        ("order 4111111111111112", "order 4111111111111112"),  # fails the Luhn check
        ("phone +44 20 7946 0958", "phone +44 20 7946 0958"),  # too short
        ("id 41111111111111110000000", "id 41111111111111110000000"),  # inside a longer number
        ("我的卡号是4111111111111111谢谢", "我的卡号是************1111谢谢"),  # no spaces
        ("card4111111111111111", "card************1111"),
        (f"Tell us: {SURVEY_LINK}", f"Tell us: {SURVEY_LINK}"),
        (
            "see www.shop.example/o/4111111111111111 ok",
            "see www.shop.example/o/4111111111111111 ok",
        ),
        (
            f"card 4111111111111111 then {SURVEY_LINK} and 5500 0000 0000 0004",
            f"card ************1111 then {SURVEY_LINK} and **** **** **** 0004",
        ),
        # A card typed straight after a link: its first group touches the link, the rest not.
        (
            "https://shop.example/pay/4111 1111 1111 1111",
            "https://shop.example/pay/**** **** **** 1111",
        ),
        (
            "https://shop.example/checkout?card=4111 1111 1111 1111 thanks",
            "https://shop.example/checkout?card=**** **** **** 1111 thanks",
        ),
    ],
)
def test_masking(text: str, masked: str) -> None:
    assert mask_card_numbers(text) == masked


def test_luhn() -> None:
    assert [luhn_valid(n) for n in ("79927398713", "79927398710")] == [True, False]
    assert luhn_valid("4111111111111111") is True  # the run inside SURVEY_LINK's id
