"""Analytics jobs: refit the per-customer predictions of every workspace each day, and store
them a page per job so no transaction holds the writer for long; digest the closed days of
every workspace's metric events and orders a day per job (`analytics.digests`); the customers
list's churn-risk filter and expected-value sort (registered with the customers domain)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.analytics import digests
from rapport.analytics.order_metrics import ORDER_DIGESTS
from rapport.analytics.prediction_repository import churn_risk_profiles, expected_value_ranking
from rapport.analytics.predictions import predictions
from rapport.analytics.support_metrics import SOURCE as SUPPORT_DIGESTS
from rapport.core.clock import utcnow
from rapport.core.jobs import enqueue, job, schedule
from rapport.customers.listing import listing
from rapport.customers.schemas import CustomerSort
from rapport.identity.service import workspaces
from rapport.support.routing_calendar import calendars

SCHEDULE_PREDICTIONS = "analytics.schedule_predictions"
PREDICT_CUSTOMERS = "analytics.predict_customers"
STORE_PREDICTIONS = "analytics.store_predictions"
DAILY = "20 3 * * *"  # 03:20 UTC
SCHEDULE_DIGESTS = "analytics.schedule_digests"
DIGEST_DAYS = "analytics.digest_days"
QUARTER_HOURLY = "*/15 * * * *"


@job(SCHEDULE_PREDICTIONS, max_attempts=3)
async def schedule_predictions(session: AsyncSession) -> None:
    """Queue a prediction run for every workspace."""
    for workspace in await workspaces.list_all(session):
        enqueue(session, PREDICT_CUSTOMERS, workspace_id=workspace.id)


@job(PREDICT_CUSTOMERS, max_attempts=3, timeout_seconds=1800)
async def predict_customers(session: AsyncSession, workspace_id: str) -> None:
    """Fit the lifetime models on the workspace's purchase histories, then queue storing."""
    model = await predictions.fit(session, workspace_id)
    if model is not None:
        enqueue(session, STORE_PREDICTIONS, workspace_id=workspace_id, model_id=model.id)


@job(STORE_PREDICTIONS)
async def store_predictions(
    session: AsyncSession, workspace_id: str, model_id: str, after: str | None = None
) -> None:
    """Store one page of predictions and queue the next page."""
    stored = await predictions.store_page(session, workspace_id, model_id, after)
    if stored.next_after is not None:
        enqueue(
            session,
            STORE_PREDICTIONS,
            workspace_id=workspace_id,
            model_id=model_id,
            after=stored.next_after,
        )


# Every source of day digests. Each is digested by jobs of its own: a transaction holds one
# source's lock at a time (on PostgreSQL two would be taken in an order a writer might not).
DIGEST_SOURCES: tuple[digests.DigestSource, ...] = (SUPPORT_DIGESTS, ORDER_DIGESTS)
_SOURCES = {source.name: source for source in DIGEST_SOURCES}


@job(SCHEDULE_DIGESTS, max_attempts=3)
async def schedule_digests(session: AsyncSession) -> None:
    """Queue digesting the closed days of every source of every workspace."""
    for workspace in await workspaces.list_all(session):
        for source in DIGEST_SOURCES:
            enqueue(session, DIGEST_DAYS, workspace_id=workspace.id, source=source.name)


@job(DIGEST_DAYS, max_attempts=3)
async def digest_closed_days(session: AsyncSession, workspace_id: str, source: str) -> None:
    """Digest a few closed days of one source of the workspace; queue the next few."""
    calendar = await calendars.load(session, workspace_id)
    digesting = _SOURCES[source]
    if await digests.digest_days(session, workspace_id, digesting, calendar, utcnow()):
        enqueue(session, DIGEST_DAYS, workspace_id=workspace_id, source=source)


schedule(SCHEDULE_PREDICTIONS, DAILY)
schedule(SCHEDULE_DIGESTS, QUARTER_HOURLY)
# The customers list filters by churn risk band and sorts by expected value through these.
listing.add_filter("churn_risk", churn_risk_profiles)
listing.add_ranking(CustomerSort.expected_value, expected_value_ranking)
