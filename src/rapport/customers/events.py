"""Domain events the customers domain publishes (through rapport.core.outbox)."""

from __future__ import annotations

CUSTOMER_IDENTIFIED = "customer.identified"
CUSTOMER_MERGED = "customer.merged"
CUSTOMER_UNMERGED = "customer.unmerged"
CONSENT_CHANGED = "consent.changed"
