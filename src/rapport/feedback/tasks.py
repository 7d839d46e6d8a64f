"""Feedback jobs: a survey after a resolved conversation, its one reminder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import enqueue, job
from rapport.core.outbox import subscribe
from rapport.customers.errors import CustomerNotFound
from rapport.feedback.campaigns import campaign_batch as campaign_batch
from rapport.feedback.delivery import REMIND_JOB, SEND_JOB, FollowedConversation, delivery
from rapport.feedback.enums import SurveyTrigger
from rapport.feedback.order_trigger import survey_delivered_order as survey_delivered_order
from rapport.feedback.repository import SurveyRepository

SURVEY_RESOLVED = "feedback.survey_resolved_conversation"
# The support desk's CONVERSATION_STATUS_CHANGED (support/events.py); feedback and support
# are sibling layers, which import nothing from each other, so the name is spelt here.
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
FINISHED = ("resolved", "closed")


@job(SURVEY_RESOLVED, max_attempts=5)
async def survey_resolved_conversation(
    session: AsyncSession, workspace_id: str, conversation_id: str, **event: Any
) -> None:
    """Send the workspace's survey for resolved conversations to the customer (or queue it
    for after the survey's delay)."""
    customer_id = event.get("customer_id") or None
    if event.get("status") != "resolved" or event.get("previous") in FINISHED:
        return
    if customer_id is None and event.get("channel") != "chat":
        return  # nobody to reach: only a chat's visitor is asked without a profile
    trigger = str(SurveyTrigger.conversation_resolved)
    survey = await SurveyRepository(session, workspace_id).active_for(trigger)
    if survey is None:
        return
    followed = {
        "conversation_id": conversation_id,
        "channel": str(event.get("channel", "")),
        "team_id": event.get("team_id"),
        "staff_id": event.get("assignee_staff_id"),
    }
    delay_days = int(survey.trigger.get("delay_days", 0) or 0)
    if delay_days > 0:
        enqueue(session, SEND_JOB, workspace_id=workspace_id, survey_id=survey.id,
                customer_id=customer_id, delay=timedelta(days=delay_days), **followed)  # fmt: skip
        return
    await send_survey(session, workspace_id, survey.id, customer_id, **followed)


@job(SEND_JOB, max_attempts=5)
async def send_survey(
    session: AsyncSession,
    workspace_id: str,
    survey_id: str,
    customer_id: str | None,
    conversation_id: str | None = None,
    channel: str = "",
    team_id: str | None = None,
    staff_id: str | None = None,
) -> None:
    """Send a survey to a customer if it is still active (throttle and consent apply)."""
    survey = await SurveyRepository(session, workspace_id).get(survey_id)
    if survey is None or not survey.active:
        return
    followed = None
    if conversation_id is not None:
        followed = FollowedConversation(conversation_id, channel, team_id, staff_id)
    try:
        await delivery.send(session, workspace_id, survey, customer_id, followed)
    except CustomerNotFound:
        return  # the profile was erased meanwhile: nobody to ask


@job(REMIND_JOB, max_attempts=5)
async def remind(session: AsyncSession, workspace_id: str, invitation_id: str) -> None:
    """Send an unanswered survey's one reminder."""
    await delivery.remind(session, workspace_id, invitation_id)


subscribe(CONVERSATION_STATUS_CHANGED, SURVEY_RESOLVED)
