"""Metric events recorded as they happen, so support reports are queries later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.support.enums import Channel, ConversationStatus, MetricKind
from rapport.support.models import Conversation, MetricEvent
from rapport.support.reports import RecordingFacts
from rapport.support.repository import MessageRepository, MetricRepository
from rapport.support.schemas import Acting


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


async def end_handling(session: AsyncSession, conversation: Conversation, now: datetime) -> None:
    """Record the assignee's handle time when the stretch in which the conversation was open
    and assigned to them ends (a status or assignment change is about to happen)."""
    if conversation.status != ConversationStatus.open or conversation.assignee_id is None:
        return
    facts = RecordingFacts(session, conversation.workspace_id)
    began = await facts.stretch_start(conversation.id) or conversation.created_at
    await record(
        session, conversation, MetricKind.handle, since=began, now=now,
        staff_id=conversation.assignee_id,
    )  # fmt: skip


async def note_reassignment(
    session: AsyncSession,
    conversation: Conversation,
    previous: tuple[str | None, str | None],
    acting: Acting,
    now: datetime,
) -> None:
    """Record an escalation when the conversation passed from one agent (or team) to
    another; taking an unassigned one, or letting one go, is none."""
    assignee, team = previous
    moved_agent = assignee is not None and conversation.assignee_id not in (None, assignee)
    moved_team = team is not None and conversation.team_id not in (None, team)
    if moved_agent or moved_team:
        await record(
            session, conversation, MetricKind.escalation, since=None, now=now,
            staff_id=acting.staff_id, from_agent=moved_agent, from_team=moved_team,
        )  # fmt: skip


async def end_cycle(
    session: AsyncSession,
    conversation: Conversation,
    status: ConversationStatus,
    acting: Acting,
    now: datetime,
) -> None:
    """Record how an open->resolved (or ->closed) cycle ended: its resolution with the facts
    first-level resolution needs, an assistant's resolution, a close, an abandoned chat."""
    began = as_utc(conversation.cycle_started_at or conversation.created_at)
    facts = RecordingFacts(session, conversation.workspace_id)
    agent_replies, assistant_replies = await facts.answers_since(conversation.id, began)
    if status == ConversationStatus.resolved:
        human = await MessageRepository(session, conversation.workspace_id).has_human_reply(
            conversation.id
        )
        await record(
            session, conversation, MetricKind.resolution, since=began, now=now,
            staff_id=acting.staff_id, by_assistant_alone=not human,
            handed_off=conversation.handed_off_at is not None, agent_replies=agent_replies,
            escalated=await facts.escalated_since(conversation.id, began),
        )  # fmt: skip
        if conversation.status == ConversationStatus.pending and acting.by_assistant:
            await record(
                session, conversation, MetricKind.bot_resolved, since=began, now=now,
                staff_id=None,
            )  # fmt: skip
    else:
        await record(
            session, conversation, MetricKind.closed, since=began, now=now,
            staff_id=acting.staff_id,
        )  # fmt: skip
    if conversation.channel == Channel.chat and agent_replies + assistant_replies == 0:
        await record(
            session, conversation, MetricKind.abandoned, since=began, now=now,
            staff_id=acting.staff_id,
        )  # fmt: skip
