"""A handler may leave its job's completion to its after-commit step (`finish_later`): the job
is done when that step's unit of work commits, and runs again if it never does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rapport.core.db import Database, after_commit, unit_of_work
from rapport.core.jobs import JobStatus, complete, finish_later, job
from rapport.core.outbox import DomainEvent
from rapport.worker.runner import LEASE_MARGIN, Worker
from tests.fixtures.jobs import EFFECT, FrozenClock, all_jobs, count_effects, enqueue_jobs

STEP_SECONDS = 60
LEASE_EXPIRED = timedelta(seconds=STEP_SECONDS) + LEASE_MARGIN + timedelta(seconds=1)
# Markers whose after-commit step fails before completing its job (a crash, a failed model).
failing_steps: set[str] = set()
leases: list[Any] = []


@job("test.finish_later", max_attempts=3, timeout_seconds=STEP_SECONDS)
async def step_later(session: AsyncSession, marker: str, fail: bool = False) -> None:
    """Leave the work and the job's completion to an after-commit step."""
    lease = finish_later(session)
    leases.append(lease)
    engine = session.bind
    assert isinstance(engine, AsyncEngine)

    async def step() -> None:
        if marker in failing_steps:
            return
        async with unit_of_work(engine) as later:
            later.add(DomainEvent(workspace_id="test", name=EFFECT, data={"marker": marker}))
            if lease is not None:
                await complete(later, lease)

    after_commit(session, step)
    if fail:
        raise RuntimeError("failed after leaving its completion to later")


@pytest.fixture(autouse=True)
def _reset() -> None:
    failing_steps.clear()
    leases.clear()


async def _statuses(database: Database) -> dict[str, tuple[JobStatus, int]]:
    return {
        str(row.payload["marker"]): (row.status, row.attempts) for row in await all_jobs(database)
    }


async def test_the_step_completes_the_job_with_its_own_writes(database: Database) -> None:
    await enqueue_jobs(
        database,
        ("test.finish_later", {"marker": "later"}),
        ("test.record_effect", {"marker": "now"}),
    )
    assert await Worker(database, concurrency=1).run_pending() == 2
    assert await _statuses(database) == {"later": (JobStatus.done, 1), "now": (JobStatus.done, 1)}
    assert (await count_effects(database, "later"), await count_effects(database, "now")) == (1, 1)


async def test_a_step_that_never_completes_runs_again_once_the_lease_runs_out(
    database: Database,
) -> None:
    clock = FrozenClock()
    failing_steps.add("lost")
    await enqueue_jobs(database, ("test.finish_later", {"marker": "lost"}))
    worker = Worker(database, concurrency=1)
    assert await worker.run_pending() == 1
    # Left running under the lease: not run again while the step may still be at work.
    assert await _statuses(database) == {"lost": (JobStatus.running, 1)}
    clock.advance(LEASE_EXPIRED - timedelta(seconds=2))
    assert await worker.run_pending() == 0
    failing_steps.clear()
    clock.advance(timedelta(seconds=2))
    assert await worker.run_pending() == 1
    assert await _statuses(database) == {"lost": (JobStatus.done, 2)}
    assert await count_effects(database, "lost") == 1


async def test_a_late_step_cannot_complete_a_job_another_worker_took_over(
    database: Database,
) -> None:
    clock = FrozenClock()
    failing_steps.add("slow")
    await enqueue_jobs(database, ("test.finish_later", {"marker": "slow"}))
    assert await Worker(database, concurrency=1).run_pending() == 1
    [first_lease] = leases
    clock.advance(LEASE_EXPIRED)
    assert await Worker(database, concurrency=1).run_pending() == 1  # still failing: running
    async with unit_of_work(database.engine) as session:
        assert await complete(session, first_lease) is False
    assert await _statuses(database) == {"slow": (JobStatus.running, 2)}


async def test_a_handler_that_fails_after_leaving_its_completion_is_retried(
    database: Database,
) -> None:
    # The batch runs again with a savepoint per job: the failed handler's request to finish
    # later goes with its writes and hooks, so its failure is recorded as any other's.
    await enqueue_jobs(
        database,
        ("test.finish_later", {"marker": "fails", "fail": True}),
        ("test.record_effect", {"marker": "fine"}),
    )
    await Worker(database, concurrency=1).run_pending()
    statuses = await _statuses(database)
    assert statuses["fine"] == (JobStatus.done, 1)
    assert statuses["fails"] == (JobStatus.queued, 1)  # waits for its backoff
    assert await count_effects(database, "fails") == 0


async def test_outside_a_worker_there_is_nothing_to_finish_later(database: Database) -> None:
    async with database.session() as session:
        await step_later(session, marker="direct")
    assert leases == [None]
    assert await count_effects(database, "direct") == 1
