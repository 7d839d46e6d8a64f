"""Batched runs: several jobs per transaction, each still exactly once, failures isolated."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core import sqlite_driver
from rapport.core.db import Database, after_commit, background_work
from rapport.core.jobs import Job, JobStatus, enqueue, job
from rapport.core.outbox import DomainEvent
from rapport.worker.runner import LEASE_MARGIN, Worker
from tests.fixtures.jobs import (
    EFFECT,
    FrozenClock,
    all_jobs,
    count_effects,
    count_jobs,
    enqueue_jobs,
)

hooks_run: list[str] = []
LEASE_EXPIRED = timedelta(seconds=300) + LEASE_MARGIN + timedelta(seconds=1)


@job("test.hook_then_fail", max_attempts=3)
async def hook_then_fail(session: AsyncSession) -> None:
    """Register an after-commit hook and enqueue a follow-up, then fail."""

    async def hook() -> None:
        hooks_run.append("ran")

    after_commit(session, hook)
    enqueue(session, "test.record_effect", marker="follow-up")
    await session.flush()
    raise RuntimeError("failed after its hook")


@job("test.effect_then_broken_hook")
async def effect_then_broken_hook(session: AsyncSession, marker: str) -> None:
    """Write an effect, and register an after-commit step that fails."""

    async def hook() -> None:
        hooks_run.append(marker)
        raise RuntimeError("after-commit step failed")

    session.add(DomainEvent(workspace_id="test", name=EFFECT, data={"marker": marker}))
    after_commit(session, hook)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def second_database(database: Database) -> AsyncIterator[Database]:
    """Another engine on the same database, as a second worker process would have."""
    other = Database(database.url)
    yield other
    await other.dispose()


async def _statuses(database: Database) -> dict[str, tuple[JobStatus, int]]:
    return {
        str(job.payload.get("marker", job.name)): (job.status, job.attempts)
        for job in await all_jobs(database)
    }


async def test_a_batch_runs_every_job_once_in_one_claim(database: Database) -> None:
    await enqueue_jobs(database, *[("test.record_effect", {"marker": "many"})] * 10)
    worker = Worker(database, concurrency=1)
    claimed = await worker.claim(10)
    await worker.batches.run(claimed)
    assert (len(claimed), await count_effects(database, "many")) == (10, 10)
    assert await worker.run_pending() == 0
    assert [job.status for job in await all_jobs(database)] == [JobStatus.done] * 10


async def test_a_failing_after_commit_step_does_not_run_the_committed_batch_again(
    database: Database,
) -> None:
    hooks_run.clear()
    await enqueue_jobs(
        database,
        ("test.effect_then_broken_hook", {"marker": "hooked"}),
        ("test.record_effect", {"marker": "beside"}),
    )
    assert await Worker(database, concurrency=1).run_pending() == 2
    assert hooks_run == ["hooked"]
    assert (await count_effects(database, "hooked"), await count_effects(database, "beside")) == (
        1,
        1,
    )
    assert [job.status for job in await all_jobs(database)] == [JobStatus.done] * 2


async def test_a_batch_marks_its_jobs_done_without_a_trip_to_the_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite a worker's statements go to the connections' threads (background work), the
    # handlers' writes included, but the completion runs on the event loop: it holds the
    # writer, and the trip back from a thread waits for Python's lock whenever the loop is
    # busy. (PostgreSQL has no such threads.)
    if database.is_postgres:
        pytest.skip("SQLite's driver")
    sent: list[str] = []
    run = sqlite_driver._Lane.run

    async def recorded(lane: Any, call: Callable[..., Any], *args: Any) -> Any:
        sent.extend(arg for arg in args if isinstance(arg, str))
        return await run(lane, call, *args)

    monkeypatch.setattr(sqlite_driver._Lane, "run", recorded)
    await enqueue_jobs(database, *[("test.record_effect", {"marker": "done"})] * 3)
    worker = Worker(database, concurrency=1)
    with background_work():  # as Worker.run_forever runs its batches
        claimed = await worker.claim(3)
        await worker.batches.run(claimed)
    assert len(claimed) == 3
    assert any(statement.lstrip().upper().startswith("INSERT") for statement in sent)
    assert not [statement for statement in sent if "finished_at" in statement]
    assert [job.status for job in await all_jobs(database)] == [JobStatus.done] * 3


async def test_a_failing_job_undoes_only_its_own_writes(
    database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(
        database,
        ("test.record_effect", {"marker": "before"}),
        ("test.write_then_fail", {"marker": "ghost"}),
        ("test.record_effect", {"marker": "after"}),
    )
    worker = Worker(database, concurrency=1)
    await worker.batches.run(await worker.claim(3))
    effects = [await count_effects(database, marker) for marker in ("before", "ghost", "after")]
    assert effects == [1, 0, 1]
    assert await _statuses(database) == {
        "before": (JobStatus.done, 1),
        "ghost": (JobStatus.queued, 1),
        "after": (JobStatus.done, 1),
    }
    [failed] = [job for job in await all_jobs(database) if job.status == JobStatus.queued]
    assert (failed.last_error, failed.run_at) == (
        "RuntimeError: failed after writing",
        clock.now + timedelta(seconds=2),
    )


async def test_a_failing_jobs_hooks_and_follow_ups_are_dropped(database: Database) -> None:
    hooks_run.clear()
    await enqueue_jobs(
        database,
        ("test.record_effect", {"marker": "kept"}),
        ("test.hook_then_fail", {}),
    )
    worker = Worker(database, concurrency=1)
    await worker.batches.run(await worker.claim(2))
    assert (hooks_run, await count_effects(database, "kept")) == ([], 1)
    assert await count_jobs(database) == 2  # no follow-up job was enqueued


async def test_a_lease_lost_in_a_batch_rolls_back_only_that_job(
    database: Database, second_database: Database
) -> None:
    await enqueue_jobs(
        database,
        ("test.record_effect", {"marker": "mine-1"}),
        ("test.record_effect", {"marker": "taken"}),
        ("test.record_effect", {"marker": "mine-2"}),
    )
    worker = Worker(database, concurrency=1)
    claimed = await worker.claim(3)
    [taken] = [one for one in claimed if one.payload["marker"] == "taken"]
    async with second_database.session() as session:
        await session.execute(
            update(Job).where(Job.id == taken.id).values(locked_by="another:1:worker")
        )
    await worker.batches.run(claimed)
    effects = [await count_effects(database, marker) for marker in ("mine-1", "taken", "mine-2")]
    assert effects == [1, 0, 1]
    assert await _statuses(database) == {
        "mine-1": (JobStatus.done, 1),
        "taken": (JobStatus.running, 1),
        "mine-2": (JobStatus.done, 1),
    }


async def test_a_late_batch_after_its_leases_expired_writes_nothing(
    database: Database, second_database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, *[("test.record_effect", {"marker": "late"})] * 3)
    slow = Worker(database, concurrency=1)
    claimed = await slow.claim(3)
    clock.advance(LEASE_EXPIRED)
    assert await Worker(second_database).run_pending() == 3
    await slow.batches.run(claimed)
    assert await count_effects(database, "late") == 3
