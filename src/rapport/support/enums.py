"""Support enumerations: channels, statuses, priorities, authors and metric kinds."""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    """Where a conversation takes place."""

    chat = "chat"
    email = "email"
    sms = "sms"
    api = "api"
    phone = "phone"
    in_store = "in_store"


class ApiChannel(enum.StrEnum):
    """The channels a conversation may be opened on through the REST API (chat, email and
    SMS arrive through their own channels)."""

    api = "api"
    phone = "phone"
    in_store = "in_store"


class ConversationStatus(enum.StrEnum):
    """Where a conversation stands; `pending` is owned by the assistant."""

    open = "open"
    pending = "pending"
    snoozed = "snoozed"
    resolved = "resolved"
    closed = "closed"


# A new customer message reopens a conversation in one of these.
REOPENED_BY_CUSTOMER = frozenset(
    {ConversationStatus.snoozed, ConversationStatus.resolved, ConversationStatus.closed}
)
# The reason of a hand-off made by anyone but the assistant: a person or an integration took a
# conversation it held (opened, answered, resolved or closed it).
TAKEN_OVER = "taken_over"
# Leaving one of these for an active status starts a new open->resolved cycle.
FINISHED = frozenset({ConversationStatus.resolved, ConversationStatus.closed})


class Priority(enum.StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class AuthorType(enum.StrEnum):
    """Who wrote a message."""

    customer = "customer"
    agent = "agent"
    assistant = "assistant"
    system = "system"


class MessageKind(enum.StrEnum):
    """What a message posted through the API is: the customer's words, a public agent reply
    or a private note for colleagues."""

    customer = "customer"
    reply = "reply"
    note = "note"


class MetricKind(enum.StrEnum):
    """The support facts recorded as they happen, so reports are queries."""

    first_response = "first_response"
    reply = "reply"
    resolution = "resolution"
    reopen = "reopen"
    handoff = "handoff"
    # The assistant resolved a conversation it still owned (`pending` -> `resolved`).
    bot_resolved = "bot_resolved"
    # A cycle ended by closing rather than resolving (backlog needs every cycle's end).
    closed = "closed"
    # A chat cycle ended with no answer from an agent or the assistant.
    abandoned = "abandoned"
    # An agent's stretch on a conversation that was open and assigned to them ended.
    handle = "handle"
    # The conversation passed from one agent or team to another.
    escalation = "escalation"


class RoutingMode(enum.StrEnum):
    """How routing picks among the agents who may take a conversation."""

    round_robin = "round_robin"
    least_loaded = "least_loaded"


class AgentAvailability(enum.StrEnum):
    """Whether routing may give an agent new conversations."""

    online = "online"
    away = "away"


class SlaTarget(enum.StrEnum):
    """What an SLA policy promises, in business minutes."""

    first_response = "first_response"
    next_response = "next_response"
    resolution = "resolution"


class SlaEventKind(enum.StrEnum):
    """A target about to be missed (warning) or missed (breach)."""

    warning = "warning"
    breach = "breach"


class EmailDirection(enum.StrEnum):
    """Whether an email came from the customer or went to them."""

    inbound = "inbound"
    outbound = "outbound"
