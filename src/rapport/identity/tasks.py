"""Identity jobs: the periodic signed checkpoint of the audit chain; old failed sign-ins go."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.jobs import job, schedule
from rapport.core.retention import retain
from rapport.identity.checkpoints import audit_checkpoints
from rapport.identity.repository import prune_sign_in_failures

CHECKPOINT_CRON = "*/15 * * * *"


@job("identity.checkpoint_audit_chain", max_attempts=3, timeout_seconds=900)
async def checkpoint_audit_chain(session: AsyncSession) -> None:
    """Verify the audit chain since the last checkpoint and sign its head if it moved."""
    await audit_checkpoints.create(session)


schedule("identity.checkpoint_audit_chain", CHECKPOINT_CRON)

# Twice the longest window a failure can count in (RAPPORT_SIGN_IN_WINDOW_MINUTES is at most a
# day); a flood of wrong passwords otherwise grows the table for good.
SIGN_IN_FAILURE_RETENTION = timedelta(days=2)
retain("sign_in_failures", SIGN_IN_FAILURE_RETENTION, prune_sign_in_failures)
