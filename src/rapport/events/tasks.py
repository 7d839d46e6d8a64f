"""Events jobs: resolve, project and publish what ingestion stored; refresh after merges."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job
from rapport.core.outbox import subscribe
from rapport.customers.events import CUSTOMER_MERGED, CUSTOMER_UNMERGED
from rapport.events.processing import processor
from rapport.events.rows import PROCESS_JOB
from rapport.events.service import events


@job(PROCESS_JOB)
async def process_batch(session: AsyncSession, workspace_id: str, event_ids: list[str]) -> None:
    """Resolve the customers of a stored batch and project orders, traits and consent."""
    await processor.process(session, workspace_id, event_ids)


@job("events.refresh_merged_customers")
async def refresh_merged_customers(
    session: AsyncSession, workspace_id: str, winner_id: str, loser_id: str, **_: Any
) -> None:
    """Recompute the computed traits of both profiles of a merge or its undo."""
    for customer_id in (winner_id, loser_id):
        await events.refresh_customer(session, workspace_id, customer_id)


subscribe(CUSTOMER_MERGED, "events.refresh_merged_customers")
subscribe(CUSTOMER_UNMERGED, "events.refresh_merged_customers")
