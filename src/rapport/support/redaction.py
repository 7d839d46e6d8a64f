"""Masking of card numbers in incoming text, before anything stores it."""

from __future__ import annotations

import re

# 13-19 digits, optionally grouped by single spaces or dashes, not inside a longer number.
_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
MASK = "*"
KEPT_DIGITS = 4


def luhn_valid(digits: str) -> bool:
    """Tell whether a string of digits passes the Luhn check card numbers carry."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def mask_card_numbers(text: str) -> str:
    """Replace every digit but the last four of each Luhn-valid 13-19 digit number."""
    return _CANDIDATE.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = [character for character in found if character.isdigit()]
    if not luhn_valid("".join(digits)):
        return found
    to_mask = len(digits) - KEPT_DIGITS
    masked = []
    for character in found:
        if character.isdigit() and to_mask > 0:
            masked.append(MASK)
            to_mask -= 1
        else:
            masked.append(character)
    return "".join(masked)
