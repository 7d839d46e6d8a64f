"""Webhook jobs: fan a support event out to the endpoints that want it; deliver one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job
from rapport.core.outbox import subscribe
from rapport.core.retention import retain
from rapport.support.events import (
    CONVERSATION_ASSIGNED,
    CONVERSATION_CREATED,
    CONVERSATION_MERGED,
    CONVERSATION_PRIORITY_CHANGED,
    CONVERSATION_SLA_BREACHED,
    CONVERSATION_STATUS_CHANGED,
    MESSAGE_CREATED,
)
from rapport.webhooks.delivery import DELIVER_JOB, MAX_ATTEMPTS, deliver
from rapport.webhooks.models import WebhookEndpoint
from rapport.webhooks.repository import prune_settled
from rapport.webhooks.service import webhooks

FAN_OUT = "webhooks.fan_out"
# A settled delivery's history (status, attempts, answers) is kept this long from when it
# was made (pending ones stay until they settle).
DELIVERY_RETENTION = timedelta(days=30)
EVENTS = (
    CONVERSATION_CREATED, CONVERSATION_STATUS_CHANGED, CONVERSATION_ASSIGNED,
    CONVERSATION_MERGED, CONVERSATION_PRIORITY_CHANGED, CONVERSATION_SLA_BREACHED,
    MESSAGE_CREATED,
)  # fmt: skip


@job(FAN_OUT, max_attempts=5)
async def fan_out(session: AsyncSession, workspace_id: str, event_id: str, **data: Any) -> None:
    """Queue a delivery of a support event to each endpoint subscribed to it."""
    await webhooks.fan_out(session, workspace_id, event_id, data)


# The job's own retries cover a crash between attempts; the attempts themselves are
# counted on the delivery, each queued before it is made.
@job(DELIVER_JOB, max_attempts=MAX_ATTEMPTS + 3)
async def deliver_webhook(session: AsyncSession, workspace_id: str, delivery_id: str) -> None:
    """Make one attempt of a webhook delivery (the request runs after commit)."""
    await deliver(session, workspace_id, delivery_id)


def _endpoint_on(workspace_id: BindParameter[str]) -> Select[Any]:
    """Find an endpoint that is on: a workspace without one queues no fan-out job."""
    return select(WebhookEndpoint.id).where(
        WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.enabled.is_(True)
    )


for _event in EVENTS:
    subscribe(_event, FAN_OUT, needs=_endpoint_on)

retain("webhook_deliveries", DELIVERY_RETENTION, prune_settled)
