"""Domain events the events domain publishes (through rapport.core.outbox)."""

from __future__ import annotations

ORDER_COMPLETED = "order.completed"
ORDER_REFUNDED = "order.refunded"
# A shop recorded its order shipped or delivered (data: fulfillment_status, origin).
ORDER_FULFILLED = "order.fulfilled"
