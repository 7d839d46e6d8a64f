"""Identity jobs: the periodic signed checkpoint of the audit chain."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job, schedule
from rapport.identity.checkpoints import audit_checkpoints

CHECKPOINT_CRON = "*/15 * * * *"


@job("identity.checkpoint_audit_chain", max_attempts=3, timeout_seconds=900)
async def checkpoint_audit_chain(session: AsyncSession) -> None:
    """Verify the audit chain since the last checkpoint and sign its head if it moved."""
    await audit_checkpoints.create(session)


schedule("identity.checkpoint_audit_chain", CHECKPOINT_CRON)
