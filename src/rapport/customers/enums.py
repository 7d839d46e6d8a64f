"""Identifier kinds (with their limits and priorities) and consent purposes."""

from __future__ import annotations

import enum


class IdentifierKind(enum.StrEnum):
    user_id = "user_id"
    email = "email"
    phone = "phone"
    external = "external"
    device_id = "device_id"
    anonymous_id = "anonymous_id"


# Lower number wins when identifiers disagree about who the customer is.
PRIORITY: dict[IdentifierKind, int] = {
    IdentifierKind.user_id: 1,
    IdentifierKind.email: 2,
    IdentifierKind.phone: 3,
    IdentifierKind.external: 4,
    IdentifierKind.device_id: 5,
    IdentifierKind.anonymous_id: 6,
}
# How many identifiers of each kind one profile may hold (external: per external type).
LIMITS: dict[IdentifierKind, int] = {
    IdentifierKind.user_id: 1,
    IdentifierKind.email: 5,
    IdentifierKind.phone: 5,
    IdentifierKind.external: 1,
    IdentifierKind.device_id: 20,
    IdentifierKind.anonymous_id: 200,
}
# Weak identifiers describe a browser or a device, which people share; they never join two
# known profiles.
WEAK_KINDS = frozenset({IdentifierKind.device_id, IdentifierKind.anonymous_id})
BLOCKED_VALUES = frozenset(
    {"", "null", "none", "nil", "undefined", "anonymous", "unknown", "0", "-1", "n/a", "na"}
)


class ConsentPurpose(enum.StrEnum):
    analytics = "analytics"
    personalization = "personalization"
    marketing_email = "marketing_email"
    marketing_sms = "marketing_sms"
    marketing_push = "marketing_push"
    third_party_sharing = "third_party_sharing"


class MergeReason(enum.StrEnum):
    anonymous_identified = "anonymous_identified"
    authenticated_alias = "authenticated_alias"
    authenticated_identify = "authenticated_identify"
    staff = "staff"
