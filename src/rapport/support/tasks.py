"""Support jobs: routing a conversation when it starts waiting, the unassigned queue's
periodic pass, SLA tracking and checks, and snoozed conversations waking up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Select, exists, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc, utcnow
from rapport.core.jobs import enqueue, job, schedule
from rapport.core.outbox import subscribe
from rapport.support.enums import AuthorType, ConversationStatus
from rapport.support.events import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_CREATED,
    CONVERSATION_MERGED,
    CONVERSATION_PRIORITY_CHANGED,
    CONVERSATION_STATUS_CHANGED,
    MESSAGE_CREATED,
)
from rapport.support.lifecycle import change_status
from rapport.support.models import Conversation
from rapport.support.routing import routing
from rapport.support.routing_models import RoutingSettings, SlaPolicy
from rapport.support.routing_repository import RoutingRepository, SweepRepository
from rapport.support.schemas import Acting
from rapport.support.sla import slas
from rapport.support.sms_tasks import deliver_sms as deliver_sms  # the SMS channel's job
from rapport.support.widget_email import email_unseen_replies as email_unseen_replies

ROUTE = "support.route_conversation"
TRACK_SLA = "support.track_sla"
ROUTE_WAITING = "support.route_waiting"
CHECK_SLAS = "support.check_slas"
WAKE_SNOOZED = "support.wake_snoozed"
EVERY_MINUTE = "* * * * *"
# Snoozed conversations one pass reopens; a full pass enqueues the next at once.
WAKE_BATCH = 200
WAKE = Acting(actor="system:snooze")


@job(ROUTE, max_attempts=5)
async def route_conversation(
    session: AsyncSession, workspace_id: str, conversation_id: str, **event: Any
) -> None:
    """Assign a conversation that started waiting (new, reopened, unassigned) if one can."""
    if _may_start_a_wait(event):  # jobs queued before the subscription's filter came
        await routing.route(session, workspace_id, conversation_id)


@job(TRACK_SLA, max_attempts=5)
async def track_sla(
    session: AsyncSession, workspace_id: str, conversation_id: str, **event: Any
) -> None:
    """Recompute a conversation's SLA deadlines after a change and record what is due."""
    await slas.refresh(session, workspace_id, conversation_id)


@job(ROUTE_WAITING, max_attempts=1)
async def route_waiting(session: AsyncSession, **_: Any) -> None:
    """Queue a routing for each conversation of the unassigned queues (of the workspaces
    whose routing is on) that an agent with room could take now (arguments of passes queued
    by an older version are ignored)."""
    for workspace_id in await SweepRepository(session).routing_workspaces():
        for conversation_id in await routing.waiting_to_route(session, workspace_id):
            enqueue(session, ROUTE, workspace_id=workspace_id, conversation_id=conversation_id)


@job(CHECK_SLAS, max_attempts=1)
async def check_slas(session: AsyncSession) -> None:
    """Record the SLA warnings and breaches that have come due."""
    for workspace_id in await SweepRepository(session).sla_workspaces(utcnow()):
        await slas.check_due(session, workspace_id)


@job(WAKE_SNOOZED, max_attempts=3)
async def wake_snoozed(session: AsyncSession) -> None:
    """Reopen the snoozed conversations whose time has come."""
    now = utcnow()
    due = await SweepRepository(session).snoozed_due(now, WAKE_BATCH)
    for workspace_id, conversation_id in due:
        conversation = await RoutingRepository(session, workspace_id).for_routing(conversation_id)
        if conversation is None or not _due(conversation, now):
            continue  # reopened or snoozed again meanwhile
        await change_status(session, conversation, ConversationStatus.open, WAKE)
    if len(due) == WAKE_BATCH:
        enqueue(session, WAKE_SNOOZED)


def _due(conversation: Conversation, now: datetime) -> bool:
    until = conversation.snoozed_until
    return (
        conversation.status == ConversationStatus.snoozed
        and until is not None
        and as_utc(until) <= now
    )


def _may_start_a_wait(data: Mapping[str, Any]) -> bool:
    """A conversation created, reopened or unassigned may wait for an agent; an assignment to
    someone, or a move to any status but open, starts no wait."""
    if data.get("assignee_id") is not None:
        return False
    return "status" not in data or data["status"] == ConversationStatus.open


def _routing_on(workspace_id: BindParameter[str]) -> Select[Any]:
    """Find the workspace's routing switched on: where it is off, nothing is assigned (a
    conversation waiting when it is switched on is routed by the minute's sweep)."""
    return select(RoutingSettings.id).where(
        RoutingSettings.workspace_id == workspace_id, RoutingSettings.enabled.is_(True)
    )


for _event in (CONVERSATION_CREATED, CONVERSATION_STATUS_CHANGED, CONVERSATION_ASSIGNED):
    subscribe(_event, ROUTE, when=_may_start_a_wait, needs=_routing_on)


def _moves_deadlines(data: Mapping[str, Any]) -> bool:
    """A customer's message starts a wait, an agent's public reply ends one; the assistant's
    replies, notes and system messages change nothing an SLA reads (a priority the labels
    raise, a hand-off or a resolution publish their own events)."""
    if data.get("private"):
        return False
    return data.get("author_type") in (AuthorType.customer, AuthorType.agent)


def _sla_may_apply(workspace_id: BindParameter[str]) -> Select[Any]:
    """Find an SLA policy of the workspace, or a conversation still showing one (a deleted
    policy's deadlines are cleared at the conversation's next change): with neither, a
    refresh would find nothing to record or show."""
    policy = exists().where(SlaPolicy.workspace_id == workspace_id)
    showing = exists().where(
        Conversation.workspace_id == workspace_id, Conversation.sla_policy_id.is_not(None)
    )
    return select(literal_column("1")).where(or_(policy, showing))


for _event in (
    CONVERSATION_CREATED, CONVERSATION_STATUS_CHANGED, CONVERSATION_PRIORITY_CHANGED,
    CONVERSATION_MERGED,  # the survivor takes over a wait the merged conversation had
):  # fmt: skip
    subscribe(_event, TRACK_SLA, needs=_sla_may_apply)
subscribe(MESSAGE_CREATED, TRACK_SLA, when=_moves_deadlines, needs=_sla_may_apply)
schedule(ROUTE_WAITING, EVERY_MINUTE)
schedule(CHECK_SLAS, EVERY_MINUTE)
schedule(WAKE_SNOOZED, EVERY_MINUTE)
