"""Names of the domain events the support desk publishes (core/outbox.py)."""

from __future__ import annotations

CONVERSATION_CREATED = "conversation.created"
MESSAGE_CREATED = "message.created"
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
CONVERSATION_MERGED = "conversation.merged"
