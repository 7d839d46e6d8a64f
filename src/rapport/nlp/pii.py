"""Mask personal data in text: card numbers (Luhn-checked) always, emails and phones on request.

One rule finds card numbers for every caller: 13-19 digits, optionally grouped by single spaces
or hyphens, not part of a longer number. What is stored or sent leaves web addresses as they
are (a link's ids and tokens are never altered: a masked link would not open); what a model
reads has a web address that holds a card number replaced whole by `[LINK]` (a placeholder a
model cannot mistake for a working link and repeat).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

CARD_MASK = "[CARD]"
LINK_MASK = "[LINK]"
EMAIL_MASK = "[EMAIL]"
PHONE_MASK = "[PHONE]"
DIGIT_MASK = "*"
KEPT_DIGITS = 4
# Letters may touch a card number (languages written without spaces do: "卡号4111..."), digits
# and hyphens may not (it is part of a longer number then).
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# Each run of characters is tried from its start only (the lookbehinds): tried from every
# position, a long run of "a.a.a..." or of digits cost time growing with its square.
_URL = re.compile(
    r"(?:(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://|\bwww\.)\S*[^\s.,;:!?)\]'\"]", re.IGNORECASE
)  # not the sentence's closing punctuation
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
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


def _is_card(found: str) -> bool:
    return luhn_valid(re.sub(r"\D", "", found))


def _cards(text: str, mask: Callable[[str], str], *, links_kept: bool) -> str:
    """Mask every card number found in the whole text. One inside a web address is the
    link's own (kept as written when `links_kept`; else the address becomes `[LINK]`); one
    that starts in an address and runs on past its end was typed after it (a customer
    pasting a page, then their card): it is masked either way."""
    found = [match.span() for match in _CARD.finditer(text) if _is_card(match.group())]
    if not found:
        return text
    urls = [match.span() for match in _URL.finditer(text)]
    starts = [start for start, _ in urls]
    spans: list[tuple[int, int, str]] = []  # in order, never overlapping
    for start, end in found:
        at = bisect.bisect_right(starts, start) - 1  # the last address starting by the card
        url = urls[at] if at >= 0 and urls[at][1] > start else None
        if url is None or (links_kept and end > url[1]):
            spans.append((start, end, mask(text[start:end])))
        elif not links_kept:
            start, end = url[0], max(end, url[1])
            if spans and spans[-1][1] > start:  # another card of the same address
                start = spans.pop()[0]
            spans.append((start, end, LINK_MASK))
    pieces: list[str] = []
    position = 0
    for start, end, replacement in spans:
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _keep_last_digits(found: str) -> str:
    to_mask = sum(character.isdigit() for character in found) - KEPT_DIGITS
    masked = []
    for character in found:
        if character.isdigit() and to_mask > 0:
            masked.append(DIGIT_MASK)
            to_mask -= 1
        else:
            masked.append(character)
    return "".join(masked)


def mask_card_numbers(text: str) -> str:
    """Star every digit but the last four of each card number, keeping its grouping (what a
    conversation stores: the customer and the agent still see which card was meant); web
    addresses are left exactly as written."""
    return _cards(text, _keep_last_digits, links_kept=True)


def mask_pii(text: str, *, emails: bool = False, phones: bool = False) -> str:
    """Replace card numbers that pass Luhn (and, if asked, emails and phone numbers) by masks;
    a web address holding a card number becomes `[LINK]`: what a model reads (a provider's,
    perhaps) never needs a card."""
    masked = _cards(text, lambda _found: CARD_MASK, links_kept=False)
    if emails:
        masked = _EMAIL.sub(EMAIL_MASK, masked)
    if phones:
        masked = _PHONE.sub(PHONE_MASK, masked)
    return masked
