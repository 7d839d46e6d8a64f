"""Roles and the scopes they grant."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    owner = "owner"
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"


class Scope(enum.StrEnum):
    workspace_read = "workspace:read"
    workspace_write = "workspace:write"
    staff_read = "staff:read"
    staff_write = "staff:write"
    keys_read = "keys:read"
    keys_write = "keys:write"
    sources_read = "sources:read"
    sources_write = "sources:write"
    audit_read = "audit:read"
    customers_read = "customers:read"
    customers_write = "customers:write"
    customers_merge = "customers:merge"
    events_read = "events:read"
    events_write = "events:write"
    conversations_read = "conversations:read"
    conversations_write = "conversations:write"
    conversations_assign = "conversations:assign"
    reports_read = "reports:read"
    metrics_read = "metrics:read"
    feedback_read = "feedback:read"
    feedback_write = "feedback:write"
    knowledge_read = "knowledge:read"
    knowledge_write = "knowledge:write"
    webhooks_read = "webhooks:read"
    webhooks_write = "webhooks:write"


_AGENT = {
    Scope.workspace_read,
    # Agents read their own figures only (analytics/auth.py narrows them).
    Scope.metrics_read,
    Scope.customers_read,
    Scope.events_read,
    Scope.conversations_read,
    Scope.conversations_write,
    Scope.feedback_read,
    Scope.knowledge_read,
}
_SUPERVISOR = _AGENT | {
    Scope.knowledge_write,
    Scope.staff_read,
    Scope.customers_write,
    Scope.conversations_assign,
    Scope.reports_read,
    Scope.sources_read,
}
_ADMIN = set(Scope)

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.owner: frozenset(Scope),
    Role.admin: frozenset(_ADMIN),
    Role.supervisor: frozenset(_SUPERVISOR),
    Role.agent: frozenset(_AGENT),
}

ROLE_RANK = {Role.agent: 0, Role.supervisor: 1, Role.admin: 2, Role.owner: 3}


class ActorType(enum.StrEnum):
    staff = "staff"
    api_key = "api_key"
    system = "system"
    anonymous = "anonymous"


class InvitationStatus(enum.StrEnum):
    pending = "pending"
    expired = "expired"
    accepted = "accepted"
    declined = "declined"
    revoked = "revoked"
