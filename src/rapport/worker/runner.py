"""The worker: claims due jobs, runs them, retries with backoff, buries the hopeless."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.core.jobs import (
    Job,
    JobSchedule,
    JobStatus,
    backoff,
    enqueue,
    job,
    on_enqueue,
    registered_job,
    registered_schedules,
    schedule,
)

logger = logging.getLogger("rapport.worker")

DOMAINS = ("identity", "customers", "events")
LEASE_MARGIN = timedelta(seconds=30)
DEFAULT_TIMEOUT_SECONDS = 300
DONE_JOB_RETENTION = timedelta(days=7)


def load_tasks() -> None:
    """Import every domain's `tasks` module so its jobs are registered."""
    for domain in DOMAINS:
        module = f"rapport.{domain}.tasks"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


@job("core.prune_jobs")
async def prune_jobs(session: Any) -> None:
    """Delete finished jobs older than the retention period."""
    cutoff = utcnow() - DONE_JOB_RETENTION
    await session.execute(delete(Job).where(Job.status == JobStatus.done, Job.finished_at < cutoff))


schedule("core.prune_jobs", "17 3 * * *")


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    name: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    workspace_id: str | None

    def arguments(self) -> dict[str, Any]:
        """Return the handler's keyword arguments: the payload, plus the job's workspace."""
        if self.workspace_id is None:
            return self.payload
        return {**self.payload, "workspace_id": self.workspace_id}


class Worker:
    """Runs jobs from the database; any number may run against one PostgreSQL."""

    def __init__(self, database: Database, *, concurrency: int = 4, poll_seconds: float = 1.0):
        self.database = database
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{new_id()[-8:]}"
        self._wake = asyncio.Event()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run jobs until `stop` is set, waking early whenever a job is enqueued here."""
        unsubscribe = on_enqueue(self._wake.set)
        try:
            while not stop.is_set():
                if await self._iterate() == 0:
                    await self._sleep(stop)
        finally:
            unsubscribe()

    async def _iterate(self) -> int:
        # A failing database must not kill the loop: log, wait a poll, try again.
        try:
            await self.tick_schedules()
            return await self.run_batch()
        except Exception as error:
            logger.error("worker iteration failed", extra={"error": type(error).__name__})
            return 0

    async def _sleep(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
        for waiter in waiters:
            waiter.cancel()

    async def run_pending(self) -> int:
        """Run due jobs until none is left; return how many ran (tests, CLI)."""
        total = 0
        while ran := await self.run_batch():
            total += ran
        return total

    async def run_batch(self) -> int:
        """Claim up to `concurrency` due jobs and run them concurrently."""
        claimed = await self.claim(self.concurrency)
        await asyncio.gather(*(self.run_one(claimed_job) for claimed_job in claimed))
        return len(claimed)

    async def claim(self, limit: int) -> list[ClaimedJob]:
        """Lease due jobs (and jobs whose worker died) to this worker."""
        now = utcnow()
        due = (
            select(Job.id, Job.name)
            .where(
                or_(
                    (Job.status == JobStatus.queued) & (Job.run_at <= now),
                    (Job.status == JobStatus.running) & (Job.locked_until < now),
                )
            )
            .order_by(Job.run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.database.session() as session:
            by_lease: dict[timedelta, list[str]] = defaultdict(list)
            for job_id, name in await session.execute(due):
                by_lease[self._lease(name)].append(job_id)
            claimed: list[ClaimedJob] = []
            for lease, ids in by_lease.items():
                rows = await session.execute(
                    update(Job)
                    .where(Job.id.in_(ids))
                    .values(
                        status=JobStatus.running,
                        locked_by=self.worker_id,
                        locked_until=now + lease,
                        attempts=Job.attempts + 1,
                    )
                    .returning(
                        Job.id,
                        Job.name,
                        Job.payload,
                        Job.attempts,
                        Job.max_attempts,
                        Job.workspace_id,
                    )
                )
                claimed.extend(ClaimedJob(*row) for row in rows)
            return claimed

    def _lease(self, name: str) -> timedelta:
        # The lease outlives the job's own timeout, so a live worker never loses it.
        definition = registered_job(name)
        timeout = definition.timeout_seconds if definition else DEFAULT_TIMEOUT_SECONDS
        return timedelta(seconds=timeout) + LEASE_MARGIN

    async def run_one(self, claimed: ClaimedJob) -> None:
        """Run one claimed job; its writes and its completion commit together."""
        definition = registered_job(claimed.name)
        try:
            if definition is None:
                raise LookupError(f"no handler registered for {claimed.name}")
            if claimed.attempts > claimed.max_attempts:
                raise RuntimeError("lease expired too many times")
            async with self.database.session() as session:
                await asyncio.wait_for(
                    definition.handler(session, **claimed.arguments()), definition.timeout_seconds
                )
                finished = await session.execute(
                    update(Job)
                    .where(Job.id == claimed.id, Job.locked_by == self.worker_id)
                    .values(status=JobStatus.done, finished_at=utcnow(), locked_until=None)
                )
                if finished.rowcount != 1:  # type: ignore[attr-defined]
                    raise RuntimeError("lease lost to another worker; rolling back")
        except Exception as error:
            await self._record_failure(claimed, error)

    async def _record_failure(self, claimed: ClaimedJob, error: Exception) -> None:
        hopeless = claimed.attempts >= claimed.max_attempts
        logger.warning(
            "job failed",
            extra={
                "job": claimed.name,
                "job_id": claimed.id,
                "attempt": claimed.attempts,
                "error": type(error).__name__,
                "dead": hopeless,
            },
        )
        values: dict[str, Any] = {
            "last_error": f"{type(error).__name__}: {error}"[:2000],
            "locked_by": None,
            "locked_until": None,
        }
        if hopeless:
            values.update(status=JobStatus.dead, finished_at=utcnow())
        else:
            values.update(status=JobStatus.queued, run_at=utcnow() + backoff(claimed.attempts))
        async with self.database.session() as session:
            await session.execute(
                update(Job)
                .where(Job.id == claimed.id, Job.locked_by == self.worker_id)
                .values(**values)
            )

    async def tick_schedules(self) -> int:
        """Enqueue every recurring job that is due; exactly one worker wins each run."""
        now = utcnow()
        enqueued = 0
        async with self.database.session() as session:
            known = {
                row.name: row for row in (await session.execute(select(JobSchedule))).scalars()
            }
            for definition in registered_schedules():
                row = known.get(definition.job_name)
                if row is None:
                    # Another worker may insert the same schedule at the same moment.
                    insert = postgresql_insert if self.database.is_postgres else sqlite_insert
                    await session.execute(
                        insert(JobSchedule)
                        .values(
                            name=definition.job_name,
                            cron=definition.cron,
                            next_run_at=next_cron_time(definition.cron, now),
                        )
                        .on_conflict_do_nothing(index_elements=["name"])
                    )
                    continue
                if row.next_run_at > now:
                    continue
                moved = await session.execute(
                    update(JobSchedule)
                    .where(JobSchedule.name == row.name, JobSchedule.next_run_at == row.next_run_at)
                    .values(next_run_at=next_cron_time(definition.cron, now), cron=definition.cron)
                )
                if moved.rowcount == 1:  # type: ignore[attr-defined]
                    enqueue(session, definition.job_name)
                    enqueued += 1
        return enqueued


def next_cron_time(cron: str, after: datetime) -> datetime:
    """Return the first time strictly after `after` matching a 5-field cron expression."""
    result: datetime = croniter(cron, after).get_next(datetime)
    return result
