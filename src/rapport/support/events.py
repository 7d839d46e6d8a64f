"""Names of the domain events the support desk publishes (core/outbox.py)."""

from __future__ import annotations

CONVERSATION_CREATED = "conversation.created"
MESSAGE_CREATED = "message.created"
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
CONVERSATION_MERGED = "conversation.merged"
CONVERSATION_ASSIGNED = "conversation.assigned"
# Its priority changed (by hand, a macro, or the labels of a pressing or angry message): SLA
# policies match on it.
CONVERSATION_PRIORITY_CHANGED = "conversation.priority_changed"
# An SLA target missed (support/sla.py); its warnings are realtime pushes only.
CONVERSATION_SLA_BREACHED = "conversation.sla_breached"
CONVERSATION_SLA_WARNING = "conversation.sla_warning"
