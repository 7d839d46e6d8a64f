"""Metric events recorded as they happen, so support reports are queries later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.support.enums import MetricKind
from rapport.support.models import Conversation, MetricEvent
from rapport.support.repository import MetricRepository


async def record(
    session: AsyncSession,
    conversation: Conversation,
    kind: MetricKind,
    *,
    since: datetime | None,
    now: datetime,
    staff_id: str | None,
    **data: Any,
) -> None:
    """Append one metric event of a conversation, measuring from `since` (when given)."""
    seconds = None if since is None else max(0.0, (now - as_utc(since)).total_seconds())
    await MetricRepository(session, conversation.workspace_id).add(
        MetricEvent(
            conversation_id=conversation.id,
            kind=kind,
            seconds=seconds,
            staff_id=staff_id,
            channel=conversation.channel,
            team_id=conversation.team_id,
            data=data,
            created_at=now,
        )
    )
