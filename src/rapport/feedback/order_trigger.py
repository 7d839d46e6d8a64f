"""The order trigger: a survey whose trigger is `order_delivered` is sent when the shop
marks an order delivered (events' order.fulfilled), after the trigger's `delay_days`, as a
job. Imported orders (origin csv) never send one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import enqueue, job
from rapport.core.outbox import subscribe
from rapport.events.events import ORDER_FULFILLED
from rapport.feedback.delivery import SEND_JOB
from rapport.feedback.enums import SurveyTrigger
from rapport.feedback.repository import SurveyRepository

SURVEY_DELIVERED = "feedback.survey_delivered_order"
DELIVERED = "delivered"
# Orders `rapport import orders` wrote: past purchases, nobody to ask about them now.
IMPORTED = "csv"


@job(SURVEY_DELIVERED, max_attempts=5)
async def survey_delivered_order(session: AsyncSession, workspace_id: str, **event: Any) -> None:
    """Queue the workspace's order-delivered survey for the order's customer, to be sent
    after the survey's delay (throttle and consent apply when it is sent)."""
    customer_id = event.get("customer_id")
    if (
        event.get("fulfillment_status") != DELIVERED
        or event.get("origin") == IMPORTED
        or not customer_id
    ):
        return
    trigger = str(SurveyTrigger.order_delivered)
    survey = await SurveyRepository(session, workspace_id).active_for(trigger)
    if survey is None:
        return
    delay = timedelta(days=int(survey.trigger.get("delay_days", 0) or 0))
    enqueue(session, SEND_JOB, workspace_id=workspace_id, survey_id=survey.id,
            customer_id=customer_id, delay=delay)  # fmt: skip


subscribe(ORDER_FULFILLED, SURVEY_DELIVERED)
