"""The worker: exactly-once on success, retries with backoff, no job lost to a dead worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core import jobs as jobs_module
from rapport.core.db import Database, after_commit
from rapport.core.jobs import JobSchedule, JobStatus, enqueue, job, schedule
from rapport.worker import batch
from rapport.worker.batch import ClaimedJob
from rapport.worker.runner import LEASE_MARGIN, Worker, deal
from tests.fixtures.jobs import (
    FrozenClock,
    all_jobs,
    count_effects,
    count_jobs,
    enqueue_jobs,
    record_effect,
)


@pytest.fixture
async def second_database(database: Database) -> AsyncIterator[Database]:
    """Another engine on the same database, as a second worker process would have."""
    other = Database(database.url)
    yield other
    await other.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def test_committed_job_runs_exactly_once(database: Database) -> None:
    await enqueue_jobs(database, ("test.record_effect", {"marker": "once"}))
    worker = Worker(database)
    assert await worker.run_pending() == 1
    assert await worker.run_pending() == 0
    assert await count_effects(database, "once") == 1


async def test_finished_job_is_done_with_one_attempt(
    database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, ("test.record_effect", {"marker": "once"}))
    await Worker(database).run_pending()
    [job] = await all_jobs(database)
    assert (job.status, job.attempts, job.finished_at) == (JobStatus.done, 1, clock.now)
    assert (job.locked_until, job.last_error) == (None, None)


async def test_job_delayed_into_the_future_waits(database: Database, clock: FrozenClock) -> None:
    async with database.session() as session:
        enqueue(session, "test.record_effect", delay=timedelta(minutes=5), marker="later")
    worker = Worker(database)
    assert await worker.run_pending() == 0
    clock.advance(timedelta(minutes=5))
    assert await worker.run_pending() == 1


async def test_failed_job_is_requeued_with_backoff(database: Database, clock: FrozenClock) -> None:
    await enqueue_jobs(database, ("test.always_fails", {}))
    await Worker(database).run_batch()
    [job] = await all_jobs(database)
    assert (job.status, job.attempts) == (JobStatus.queued, 1)
    assert job.run_at == clock.now + timedelta(seconds=2)
    assert job.last_error == "RuntimeError: upstream refused"
    assert (job.locked_by, job.locked_until) == (None, None)


async def test_failed_job_does_not_run_before_its_backoff(
    database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, ("test.always_fails", {}))
    worker = Worker(database)
    await worker.run_batch()
    clock.advance(timedelta(seconds=1))
    assert await worker.run_batch() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.run_batch() == 1


async def test_second_retry_waits_twice_as_long(database: Database, clock: FrozenClock) -> None:
    await enqueue_jobs(database, ("test.always_fails", {}))
    worker = Worker(database)
    await worker.run_batch()
    clock.advance(timedelta(seconds=2))
    await worker.run_batch()
    [job] = await all_jobs(database)
    assert (job.attempts, job.run_at) == (2, clock.now + timedelta(seconds=4))


async def test_job_is_dead_after_max_attempts(database: Database, clock: FrozenClock) -> None:
    await enqueue_jobs(database, ("test.always_fails", {}))
    worker = Worker(database)
    for _ in range(3):
        await worker.run_batch()
        clock.advance(timedelta(hours=1))
    assert await worker.run_batch() == 0
    [job] = await all_jobs(database)
    assert (job.status, job.attempts) == (JobStatus.dead, 3)
    assert job.last_error == "RuntimeError: upstream refused"
    assert job.finished_at == clock.now - timedelta(hours=1)


async def test_handler_writes_roll_back_when_it_fails(database: Database) -> None:
    await enqueue_jobs(database, ("test.write_then_fail", {"marker": "ghost"}))
    await Worker(database).run_batch()
    assert await count_effects(database, "ghost") == 0


async def test_claimed_job_is_invisible_to_other_workers_during_its_lease(
    database: Database, second_database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, ("test.record_effect", {"marker": "leased"}))
    assert len(await Worker(database).claim(1)) == 1
    clock.advance(timedelta(minutes=5))
    assert await Worker(second_database).run_pending() == 0


async def test_job_of_a_killed_worker_runs_once_after_its_lease(
    database: Database, second_database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, ("test.record_effect", {"marker": "orphan"}))
    killed = Worker(database)
    await killed.claim(1)  # the worker dies here: the job is never finished
    clock.advance(timedelta(seconds=300) + LEASE_MARGIN + timedelta(seconds=1))
    assert await Worker(second_database).run_pending() == 1
    [job] = await all_jobs(database)
    assert (job.status, job.attempts) == (JobStatus.done, 2)
    assert await count_effects(database, "orphan") == 1


async def test_late_finish_of_a_lost_lease_is_rolled_back(
    database: Database, second_database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, ("test.record_effect", {"marker": "late"}))
    slow = Worker(database)
    [claimed] = await slow.claim(1)
    clock.advance(timedelta(seconds=300) + LEASE_MARGIN + timedelta(seconds=1))
    await Worker(second_database).run_pending()
    await slow.run_one(claimed)  # the first worker wakes up and tries to finish
    [job] = await all_jobs(database)
    assert job.status == JobStatus.done
    assert await count_effects(database, "late") == 1


async def test_concurrent_claims_never_share_a_job(
    database: Database, second_database: Database
) -> None:
    await enqueue_jobs(database, *[("test.record_effect", {"marker": "race"})] * 20)
    first, second = Worker(database), Worker(second_database)
    claims = await asyncio.gather(first.claim(20), second.claim(20), first.claim(20))
    ids = [job.id for claim in claims for job in claim]
    assert len(ids) == 20
    assert len(set(ids)) == 20


async def test_concurrent_workers_run_every_job_exactly_once(
    database: Database, second_database: Database
) -> None:
    await enqueue_jobs(database, *[("test.record_effect", {"marker": "race"})] * 12)
    first = Worker(database, concurrency=3)
    second = Worker(second_database, concurrency=3)
    ran = await asyncio.gather(first.run_pending(), second.run_pending())
    assert sum(ran) == 12
    assert await count_effects(database, "race") == 12


@pytest.fixture
def only_test_schedule(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(jobs_module, "_schedules", {})
    schedule("test.record_effect", "*/5 * * * *")
    return "test.record_effect"


async def _schedule_row(database: Database, name: str) -> JobSchedule:
    async with database.session() as session:
        return (
            await session.execute(select(JobSchedule).where(JobSchedule.name == name))
        ).scalar_one()


async def test_first_tick_records_the_next_run_and_enqueues_nothing(
    database: Database, clock: FrozenClock, only_test_schedule: str
) -> None:
    assert await Worker(database).tick_schedules() == 0
    row = await _schedule_row(database, only_test_schedule)
    assert row.next_run_at == clock.now.replace(minute=5)
    assert await count_jobs(database) == 0


async def test_due_schedule_is_enqueued_once_by_two_workers(
    database: Database, second_database: Database, clock: FrozenClock, only_test_schedule: str
) -> None:
    first, second = Worker(database), Worker(second_database)
    await first.tick_schedules()
    clock.advance(timedelta(minutes=4))
    results = await asyncio.gather(first.tick_schedules(), second.tick_schedules())
    assert sorted(results) == [0, 1]
    assert [job.name for job in await all_jobs(database)] == [only_test_schedule]


async def test_schedule_moves_to_the_next_due_time(
    database: Database, clock: FrozenClock, only_test_schedule: str
) -> None:
    worker = Worker(database)
    await worker.tick_schedules()
    clock.advance(timedelta(minutes=4))
    await worker.tick_schedules()
    assert await worker.tick_schedules() == 0
    row = await _schedule_row(database, only_test_schedule)
    assert row.next_run_at == clock.now.replace(minute=10)


async def test_two_workers_ticking_first_time_together_both_succeed(
    database: Database, second_database: Database, clock: FrozenClock, only_test_schedule: str
) -> None:
    results = await asyncio.gather(
        Worker(database).tick_schedules(), Worker(second_database).tick_schedules()
    )
    assert results == [0, 0]
    row = await _schedule_row(database, only_test_schedule)
    assert row.next_run_at == clock.now.replace(minute=5)


class _FlakyWorker(Worker):
    """A worker whose first tick meets a database error; the second one stops the loop."""

    def __init__(self, database: Database, stop: asyncio.Event) -> None:
        super().__init__(database, poll_seconds=0)
        self.stop, self.ticks = stop, 0

    async def tick_schedules(self) -> int:
        self.ticks += 1
        if self.ticks == 1:
            raise ConnectionError("database went away")
        self.stop.set()
        return 0


async def test_worker_loop_survives_a_failing_iteration(database: Database) -> None:
    stop = asyncio.Event()
    worker = _FlakyWorker(database, stop)
    await worker.run_forever(stop)
    assert worker.ticks == 2


async def test_run_forever_runs_jobs_until_stopped(database: Database) -> None:
    await enqueue_jobs(database, ("test.record_effect", {"marker": "loop"}))
    stop = asyncio.Event()
    worker = Worker(database, poll_seconds=0)
    original = worker.batches.run

    async def run_then_stop(claimed: list[ClaimedJob]) -> None:
        await original(claimed)
        stop.set()

    worker.batches.run = run_then_stop  # type: ignore[method-assign]
    await worker.run_forever(stop)
    assert await count_effects(database, "loop") == 1
    assert [job.status for job in await all_jobs(database)] == [JobStatus.done]


async def test_lease_outlives_a_long_jobs_timeout(
    database: Database, second_database: Database, clock: FrozenClock
) -> None:
    await enqueue_jobs(database, ("test.slow_effect", {"marker": "slow"}))
    await Worker(database).claim(1)
    clock.advance(timedelta(minutes=10))
    assert await Worker(second_database).run_pending() == 0
    [job] = await all_jobs(database)
    assert job.locked_until == clock.now - timedelta(minutes=10) + timedelta(seconds=930)


@job("test.event_effect")
async def event_effect(session: AsyncSession, marker: str, event_id: str) -> None:
    """A subscriber of a domain event: write one effect row."""
    await record_effect(session, marker)


def test_a_domain_events_subscribers_are_dealt_to_one_lane_in_order() -> None:
    def claimed(job_id: str, event_id: str | None = None) -> ClaimedJob:
        payload = {} if event_id is None else {"event_id": event_id}
        return ClaimedJob(job_id, "test.record_effect", payload, 1, 8, "w1")

    jobs = [
        claimed("01", "message-1"),  # a message's three subscribers...
        claimed("02", "message-1"),
        claimed("03", "message-1"),
        claimed("04", "message-2"),
        claimed("05"),  # a job of no event stands alone
        claimed("06"),
        claimed("07", "message-3"),
    ]
    lanes = deal(jobs, 4)
    assert [[job.id for job in lane] for lane in lanes] == [
        ["01", "02", "03", "07"],
        ["04"],
        ["05"],
        ["06"],
    ]
    assert deal(jobs, 1) == [jobs]


async def test_an_events_subscribers_run_in_one_transaction(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "TRANSACTION_BUDGET_SECONDS", 60.0)  # not timed here
    async with database.session() as session:
        for marker in ("one", "two", "three"):
            enqueue(session, "test.event_effect", marker=marker, event_id="message-1")
        enqueue(session, "test.record_effect", marker="alone")
    worker = Worker(database, concurrency=4)
    claimed = await worker.claim(10)
    begun: list[object] = []
    listener = lambda connection: begun.append(connection)  # noqa: E731
    event.listen(database.engine.sync_engine, "begin", listener)
    try:
        await worker.batches.run(deal(claimed, 4)[0])  # the event's lane
    finally:
        event.remove(database.engine.sync_engine, "begin", listener)
    assert len(begun) == 1
    assert await count_effects(database) == 3


step_started, step_released = asyncio.Event(), asyncio.Event()


@job("test.slow_step")
async def slow_step(session: AsyncSession, marker: str) -> None:
    """Write an effect, then wait in an after-commit step (a model, a slow network call)."""
    await record_effect(session, marker)

    async def step() -> None:
        step_started.set()
        await step_released.wait()

    after_commit(session, step)


async def test_a_slow_after_commit_step_holds_up_its_own_lane_only(database: Database) -> None:
    global step_started, step_released
    step_started, step_released = asyncio.Event(), asyncio.Event()
    await enqueue_jobs(database, ("test.slow_step", {"marker": "slow"}))
    stop = asyncio.Event()
    worker = Worker(database, concurrency=2, poll_seconds=0.05)
    running = asyncio.create_task(worker.run_forever(stop))
    try:
        await asyncio.wait_for(step_started.wait(), timeout=30)
        await enqueue_jobs(database, ("test.record_effect", {"marker": "quick"}))  # a later claim

        async def quick_ran() -> None:
            while not await count_effects(database, "quick"):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(quick_ran(), timeout=30)  # the slow step still waits
        assert not step_released.is_set() and not running.done()
    finally:
        step_released.set()
        stop.set()
        await asyncio.wait_for(running, timeout=30)
    assert [job.status for job in await all_jobs(database)] == [JobStatus.done] * 2
