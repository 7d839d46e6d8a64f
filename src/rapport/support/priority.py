"""Priority scored from urgency and relevance: keywords of the customer's words and the
customer's value from the 360 now; intent, sentiment and SLA risk join later."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from rapport.support.enums import Priority

URGENT_WORDS = (
    "urgent",
    "asap",
    "emergency",
    "immediately",
    "fraud",
    "chargeback",
    "lawyer",
    "hacked",
    "stolen",
)
HIGH_WORDS = (
    "refund",
    "cancel",
    "broken",
    "damaged",
    "wrong item",
    "not received",
    "never arrived",
    "missing",
    "complaint",
    "charged twice",
)
LOW_WORDS = ("no rush", "just wondering", "whenever", "feedback", "suggestion")
VALUED_REVENUE = Decimal(1000)
VALUED_ORDERS = 10
_LEVELS = (Priority.normal, Priority.high, Priority.urgent)
PRIORITY_RANK = {Priority.low: 0, Priority.normal: 1, Priority.high: 2, Priority.urgent: 3}


@dataclass(frozen=True)
class CustomerValue:
    """What the 360 says about a customer's worth to the shop."""

    orders_count: int
    revenue: Decimal


@dataclass(frozen=True)
class Scored:
    """A priority and the reason shown beside it."""

    priority: Priority
    reason: str


def score(text: str, value: CustomerValue | None) -> Scored:
    """Score a conversation from the customer's words and value: urgent words count two,
    high ones and a valued customer one each; only calm words with nothing else make it low."""
    urgent, high, low = (_found(words, text) for words in (URGENT_WORDS, HIGH_WORDS, LOW_WORDS))
    points = 2 * bool(urgent) + bool(high)
    reasons = [f"keywords: {', '.join(urgent + high)}"] if urgent or high else []
    if value is not None and (
        value.revenue >= VALUED_REVENUE or value.orders_count >= VALUED_ORDERS
    ):
        points += 1
        reasons.append(f"valued customer: {value.orders_count} orders")
    if points == 0 and low:
        return Scored(Priority.low, f"keywords: {', '.join(low)}")
    priority = _LEVELS[min(points, len(_LEVELS) - 1)]
    return Scored(priority, "; ".join(reasons) or "no urgency found")


def _found(words: tuple[str, ...], text: str) -> list[str]:
    lowered = text.lower()
    return [word for word in words if re.search(rf"\b{re.escape(word)}\b", lowered)]
