"""Survey campaigns: a survey sent to every customer a customers-list filter matches, a
batch per job (each job sends one page and queues the next), throttle and consent applying
to each customer as for any send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import as_utc
from rapport.core.ids import new_id
from rapport.core.jobs import enqueue, job
from rapport.customers.enums import ConsentPurpose
from rapport.customers.errors import CustomerNotFound
from rapport.customers.listing import listing
from rapport.customers.schemas import CustomerFilters, CustomerSort
from rapport.feedback.delivery import delivery
from rapport.feedback.errors import SurveyNotSent
from rapport.feedback.service import feedback

CAMPAIGN_JOB = "feedback.campaign_batch"
BATCH = 50
# Every batch keeps the list's newest-seen-first order and resumes after its signed cursor.
ORDER = CustomerSort.last_seen


class CampaignCreate(BaseModel):
    """Which customers to ask: the customers list's filters (all must hold)."""

    has_orders: bool = Field(default=False, description="Only customers with orders.")
    seen_since: datetime | None = Field(
        default=None, description="Only customers seen at or after this time (with a zone)."
    )
    consent: ConsentPurpose | None = Field(
        default=None, description="Only customers whose latest record grants this purpose."
    )

    def filters(self) -> CustomerFilters:
        """Return the customers-list filters these are."""
        since = None if self.seen_since is None else as_utc(self.seen_since)
        consent = None if self.consent is None else str(self.consent)
        return CustomerFilters(has_orders=self.has_orders, seen_since=since, consent=consent)


class CampaignRead(BaseModel):
    campaign_id: str = Field(description="The campaign (its batches run as jobs).")
    survey_id: str = Field(description="The survey sent.")
    matching: int = Field(
        description="Customers the filter matches now; those within the throttle, without "
        "the channel's consent (marketing surveys) or unreachable are skipped."
    )


async def count_matching(session: AsyncSession, workspace_id: str, body: CampaignCreate) -> int:
    """Count the customers a campaign's filter matches now (throttle and consent aside)."""
    page = await listing.page(session, workspace_id, body.filters(), ORDER, None, limit=1)
    return page.total


async def start_campaign(
    session: AsyncSession, workspace_id: str, survey_id: str, body: CampaignCreate
) -> CampaignRead:
    """Count the customers a filter matches and queue the campaign's first batch."""
    survey = await feedback.get_survey(session, workspace_id, survey_id)
    if not survey.active:
        raise SurveyNotSent("The survey is not active; activate it before a campaign.")
    page = await listing.page(session, workspace_id, body.filters(), ORDER, None, limit=1)
    campaign_id = new_id()
    if page.total:
        enqueue(
            session, CAMPAIGN_JOB, workspace_id=workspace_id, campaign_id=campaign_id,
            survey_id=survey.id, filters=body.model_dump(mode="json"), cursor=None,
        )  # fmt: skip
    return CampaignRead(campaign_id=campaign_id, survey_id=survey.id, matching=page.total)


@job(CAMPAIGN_JOB, max_attempts=5)
async def campaign_batch(
    session: AsyncSession,
    workspace_id: str,
    campaign_id: str,
    survey_id: str,
    filters: dict[str, Any],
    cursor: str | None,
) -> None:
    """Send the survey to one page of the matching customers and queue the next page."""
    survey = await feedback.get_survey(session, workspace_id, survey_id)
    if not survey.active:
        return  # paused or deleted meanwhile: the rest of the campaign is dropped
    wanted = CampaignCreate.model_validate(filters).filters()
    page = await listing.page(session, workspace_id, wanted, ORDER, cursor, limit=BATCH)
    for item in page.items:
        try:
            await delivery.send(session, workspace_id, survey, item.id)
        except CustomerNotFound:
            continue  # erased meanwhile
    if page.next_cursor is not None:
        enqueue(
            session, CAMPAIGN_JOB, workspace_id=workspace_id, campaign_id=campaign_id,
            survey_id=survey_id, filters=filters, cursor=page.next_cursor,
        )  # fmt: skip
