"""What the console shows of a conversation's SLA: each running deadline, and whether it is
breached, about to be (within its policy's warning time) or running."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.support.schemas import ConversationRead
from rapport.support.sla_policies import sla_policies

TARGETS = (
    ("first_response_due_at", "First response"),
    ("next_response_due_at", "Next response"),
    ("resolution_due_at", "Resolution"),
)


@dataclass(frozen=True)
class SlaBadge:
    """One running deadline as the console shows it."""

    label: str
    due_at: datetime
    state: str  # breached, warning or running


def badges_of(
    conversation: ConversationRead, warn_minutes: dict[str, int], now: datetime
) -> list[SlaBadge]:
    """Return a conversation's running deadlines, the soonest first."""
    warn = timedelta(minutes=warn_minutes.get(conversation.sla_policy_id or "", 0))
    found = []
    for field, label in TARGETS:
        due = getattr(conversation, field)
        if due is None:
            continue
        due = as_utc(due)
        state = "breached" if due <= now else "warning" if due - warn <= now else "running"
        found.append(SlaBadge(label, due, state))
    return sorted(found, key=lambda badge: badge.due_at)


async def sla_badges(
    session: AsyncSession, workspace_id: str, conversations: Sequence[ConversationRead]
) -> dict[str, list[SlaBadge]]:
    """Return the running deadlines of some conversations, by conversation id."""
    if not any(conversation.sla_policy_id for conversation in conversations):
        return {}
    policies = await sla_policies.list(session, workspace_id)
    warn = {policy.id: policy.warn_before_minutes for policy in policies}
    now = utcnow()
    return {conversation.id: badges_of(conversation, warn, now) for conversation in conversations}
