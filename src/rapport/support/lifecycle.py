"""Status changes and what they record: history, metric events, events and pushes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.support import metrics
from rapport.support.enums import FINISHED, TAKEN_OVER, ConversationStatus, MetricKind, Priority
from rapport.support.errors import InvalidSnooze
from rapport.support.events import CONVERSATION_PRIORITY_CHANGED, CONVERSATION_STATUS_CHANGED
from rapport.support.models import Activity, Conversation
from rapport.support.notify import announce
from rapport.support.repository import ActivityRepository
from rapport.support.schemas import Acting


async def log(
    session: AsyncSession, conversation: Conversation, kind: str, actor: str, **data: Any
) -> None:
    """Add one entry to a conversation's history and mark it changed."""
    now = utcnow()
    conversation.updated_at = now
    await ActivityRepository(session, conversation.workspace_id).add(
        Activity(conversation_id=conversation.id, kind=kind, actor=actor, data=data, created_at=now)
    )


async def change_priority(
    session: AsyncSession,
    conversation: Conversation,
    priority: Priority,
    reason: str,
    acting: Acting,
    *,
    overridden: bool,
) -> None:
    """Set a conversation's priority and why (`overridden`: set by a person or a macro, so
    scoring and the labels never raise it again). It is logged when it changes or a person
    sets it (setting the same priority by hand still stops the scoring, so the history says
    who did), and a change is announced: SLA policies match on priority, so its deadlines are
    worked out again (`support.track_sla`), and the inbox redraws."""
    before = conversation.priority
    conversation.priority, conversation.priority_reason = priority, reason
    if overridden:
        conversation.priority_overridden = True
    if priority == before and not overridden:
        return
    await log(session, conversation, "priority", acting.actor, to=priority)
    if priority != before:
        announce(
            session, CONVERSATION_PRIORITY_CHANGED, workspace_id=conversation.workspace_id,
            conversation_id=conversation.id, priority=str(priority), previous=str(before),
        )  # fmt: skip


async def change_status(
    session: AsyncSession,
    conversation: Conversation,
    status: ConversationStatus,
    acting: Acting,
    snoozed_until: datetime | None = None,
    *,
    handoff: dict[str, str] | None = None,
) -> None:
    """Move a conversation to `status`, recording the hand-off (with `handoff`, the facts a
    report groups hand-offs by: the assistant's reason and the intent in hand; anyone else
    moving a conversation the assistant holds takes it over), reopen or resolved cycle."""
    now, before = utcnow(), conversation.status
    _check_snooze(status, snoozed_until, now)
    if status == before and status != ConversationStatus.snoozed:
        return
    await metrics.end_handling(session, conversation, now)
    leaves_assistant = before == ConversationStatus.pending and status != before
    if leaves_assistant and (status == ConversationStatus.open or not acting.by_assistant):
        await _hand_off(session, conversation, acting, now, handoff or {"reason": TAKEN_OVER})
    if before in FINISHED and status not in FINISHED:
        conversation.cycle_started_at = now
        await metrics.record(
            session, conversation, MetricKind.reopen, since=None, now=now,
            staff_id=acting.staff_id, reopened_from=str(before),
        )  # fmt: skip
    if before not in FINISHED and status in FINISHED:
        await _end_cycle(session, conversation, status, acting, now)
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    until = None if snoozed_until is None else as_utc(snoozed_until).isoformat()
    await log(session, conversation, "status", acting.actor, to=status, snoozed_until=until)
    announce(
        session,
        CONVERSATION_STATUS_CHANGED,
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        previous=str(before),
        status=str(status),
        # What a reaction needs without reading the conversation (a resolved conversation's
        # survey follows its customer, channel, team and agent).
        customer_id=conversation.customer_id,
        channel=str(conversation.channel),
        team_id=conversation.team_id,
        assignee_staff_id=conversation.assignee_id,
    )


def _check_snooze(status: ConversationStatus, until: datetime | None, now: datetime) -> None:
    snoozing = status == ConversationStatus.snoozed
    if snoozing != (until is not None) or (until is not None and as_utc(until) <= now):
        raise InvalidSnooze("Snooze with a `snoozed_until` in the future, and only then.")


async def _hand_off(
    session: AsyncSession,
    conversation: Conversation,
    acting: Acting,
    now: datetime,
    facts: dict[str, str],
) -> None:
    """The conversation leaves the assistant for people: first response and the customer's
    wait are measured from here on."""
    conversation.handed_off_at = now
    if conversation.awaiting_reply_since is not None:
        conversation.awaiting_reply_since = now
    await metrics.record(
        session, conversation, MetricKind.handoff, since=conversation.created_at, now=now,
        staff_id=acting.staff_id, **facts,
    )  # fmt: skip


async def _end_cycle(
    session: AsyncSession,
    conversation: Conversation,
    status: ConversationStatus,
    acting: Acting,
    now: datetime,
) -> None:
    await metrics.end_cycle(session, conversation, status, acting, now)
    conversation.cycle_started_at = None
