"""Mask personal data in text: card numbers (Luhn-checked) always, emails and phones on request."""

from __future__ import annotations

import re

CARD_MASK = "[CARD]"
EMAIL_MASK = "[EMAIL]"
PHONE_MASK = "[PHONE]"
# 13-19 digits, optionally grouped by single spaces or hyphens.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An optional +country code, then 7-15 digits grouped by spaces, dots, hyphens or brackets.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d(?:[ .-]?\d){6,14}(?!\w)"
)


def luhn_valid(digits: str) -> bool:
    """Return True if the digit string passes the Luhn checksum."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_MASK if luhn_valid(digits) else match.group()


def mask_pii(text: str, *, emails: bool = False, phones: bool = False) -> str:
    """Replace card numbers that pass Luhn (and, if asked, emails and phone numbers) by masks."""
    masked = _CARD.sub(_mask_card, text)
    if emails:
        masked = _EMAIL.sub(EMAIL_MASK, masked)
    if phones:
        masked = _PHONE.sub(PHONE_MASK, masked)
    return masked
