"""Jobs that gave up (`dead`: every attempt failed): listed for an operator and queued again
after a fix (`rapport jobs dead`, `rapport jobs retry`); the worker's retention rule deletes
them a month after they died."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.jobs import Job, JobStatus

# Long enough to be noticed and retried after a fix; a job that failed for good is kept no
# longer than the history it was about (domain events: 30 days).
DEAD_JOB_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class DeadJob:
    """A job that gave up: what it was, for which workspace, and its last error."""

    id: str
    name: str
    workspace_id: str | None
    attempts: int
    died_at: datetime | None
    last_error: str | None


async def dead_jobs(session: AsyncSession, *, name: str | None, limit: int) -> list[DeadJob]:
    """Return the jobs that gave up, the most recent first (optionally of one name)."""
    query = select(
        Job.id, Job.name, Job.workspace_id, Job.attempts, Job.finished_at, Job.last_error
    ).where(Job.status == JobStatus.dead)
    if name is not None:
        query = query.where(Job.name == name)
    rows = await session.execute(query.order_by(Job.finished_at.desc(), Job.id.desc()).limit(limit))
    return [DeadJob(*row) for row in rows.tuples()]


async def retry_dead(session: AsyncSession, *, job_ids: list[str] | None, name: str | None) -> int:
    """Queue dead jobs again with their attempts reset, now: those of `job_ids` (None: every
    dead job, optionally of one name); return how many. Their last error stays until they
    run again. A job that is not dead (already retried, done) is left alone."""
    retried = update(Job).where(Job.status == JobStatus.dead)
    if job_ids is not None:
        retried = retried.where(Job.id.in_(job_ids))
    if name is not None:
        retried = retried.where(Job.name == name)
    result = await session.execute(
        retried.values(
            status=JobStatus.queued,
            attempts=0,
            run_at=utcnow(),
            finished_at=None,
            locked_by=None,
            locked_until=None,
        ),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
