"""Webhook enumerations."""

from __future__ import annotations

import enum


class DeliveryStatus(enum.StrEnum):
    """Where a webhook delivery stands: waiting (and retried), answered 2xx, or given up."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookEventType(enum.StrEnum):
    """The events an endpoint may subscribe to (the support desk's domain events)."""

    conversation_created = "conversation.created"
    conversation_status_changed = "conversation.status_changed"
    conversation_assigned = "conversation.assigned"
    conversation_merged = "conversation.merged"
    conversation_priority_changed = "conversation.priority_changed"
    conversation_sla_breached = "conversation.sla_breached"
    message_created = "message.created"


# Sent by `POST /webhooks/{id}/test` only; no endpoint subscribes to it.
TEST_EVENT = "webhook.test"
