"""What each scope allows, in words, and the presets the API key form offers."""

from __future__ import annotations

from dataclasses import dataclass

from rapport.errors import UnprocessableContent
from rapport.identity.enums import Scope

SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.workspace_read: "See the workspace's name and security settings.",
    Scope.workspace_write: "Rename the workspace and change its security settings.",
    Scope.staff_read: "List staff members, their roles and pending invitations.",
    Scope.staff_write: "Invite staff, change their roles and remove them.",
    Scope.keys_read: "List API keys (never their secrets).",
    Scope.keys_write: "Create and revoke API keys.",
    Scope.sources_read: "List event sources and their public write keys.",
    Scope.sources_write: "Create sources and change their secrets.",
    Scope.audit_read: "Read the audit log.",
    Scope.customers_read: "Read customer profiles, identities and consent.",
    Scope.customers_write: "Change customer traits and consent.",
    Scope.customers_merge: "Merge customer profiles and undo merges.",
    Scope.events_read: "Read events, timelines and orders.",
    Scope.events_write: "Send events as trusted server-side calls (tracking API).",
    Scope.conversations_read: "Read conversations.",
    Scope.conversations_write: "Reply in conversations.",
    Scope.conversations_assign: "Assign conversations to agents and teams; manage teams.",
    Scope.reports_read: "Read reports and metrics.",
    Scope.metrics_read: "Read CX metrics (an agent: their own figures only).",
    Scope.feedback_read: "Read surveys and survey responses.",
    Scope.feedback_write: "Create and change surveys.",
    Scope.knowledge_read: "Read knowledge base articles (drafts included) and product fact "
    "sheets, and search them.",
    Scope.knowledge_write: "Write, publish and delete knowledge base articles and product fact "
    "sheets.",
    Scope.webhooks_read: "List webhook endpoints and their deliveries (never secrets).",
    Scope.webhooks_write: "Add, change and remove webhook endpoints; rotate secrets; send tests.",
}
CUSTOM = "custom"


@dataclass(frozen=True)
class Preset:
    """A named set of scopes for a common kind of key."""

    key: str
    label: str
    description: str
    scopes: frozenset[Scope]

    def within(self, held: frozenset[Scope]) -> list[Scope]:
        """Return the preset's scopes that `held` can grant, in the form's order."""
        return [scope for scope in Scope if scope in self.scopes and scope in held]


PRESETS = [
    Preset(
        "read-only",
        "Read only",
        "Reads everything you can read; changes nothing.",
        frozenset(scope for scope in Scope if scope.value.endswith(":read")),
    ),
    Preset(
        "ingestion",
        "Ingestion",
        "Sends events from your servers (trusted calls); reads nothing.",
        frozenset({Scope.events_write}),
    ),
    Preset("admin", "Admin", "Every scope you hold.", frozenset(Scope)),
]


def chosen_scopes(preset: str, ticked: list[str], held: frozenset[Scope]) -> list[str]:
    """Return the scopes a key form asks for: the preset's (what `held` allows) or the ticks."""
    if preset in ("", CUSTOM):
        if not ticked:
            raise UnprocessableContent("Choose at least one scope, or one of the presets.")
        return ticked
    found = next((item for item in PRESETS if item.key == preset), None)
    if found is None:
        raise UnprocessableContent("Choose one of the presets, or tick the scopes yourself.")
    scopes = found.within(held)
    if not scopes:
        raise UnprocessableContent(f"Your role holds none of the scopes of “{found.label}”.")
    return [str(scope) for scope in scopes]
