"""Events jobs: resolve, project and publish what ingestion stored; the facts profiles are
recomputed from (registered with the customers domain)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job
from rapport.customers.service import customers
from rapport.events.facts import facts
from rapport.events.processing import processor
from rapport.events.rows import PROCESS_JOB

customers.register_facts(facts)


@job(PROCESS_JOB)
async def process_batch(
    session: AsyncSession, workspace_id: str, event_ids: list[str], chunk: int | None = None
) -> None:
    """Resolve the customers of a stored batch and project orders, traits and consent."""
    await processor.process(session, workspace_id, event_ids, chunk=chunk)


@job("events.refresh_merged_customers")
async def refresh_merged_customers(session: AsyncSession, workspace_id: str, **_: Any) -> None:
    """Nothing left to do: merges and undos now recompute their profiles in their own
    transaction. Kept so jobs queued before the upgrade finish instead of failing."""
