"""The worker: claims due jobs, runs them, retries with backoff, buries the hopeless."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import datetime, timedelta

from croniter import croniter
from sqlalchemy import ColumnElement, Update, and_, bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.clock import utcnow
from rapport.core.db import Database, background_work
from rapport.core.foreground import gap, idle
from rapport.core.jobs import (
    Job,
    JobSchedule,
    JobStatus,
    Lease,
    complete,
    enqueue,
    finished_later,
    on_enqueue,
    registered_job,
    registered_jobs,
    registered_schedules,
)
from rapport.core.retention import delete_oldest, retain
from rapport.domains import load_tasks as load_tasks  # the one list of domains
from rapport.worker.batch import (
    BatchRunner,
    ClaimedJob,
    LeaseLost,
    call,
    failure_values,
    refusal,
)
from rapport.worker.dead import DEAD_JOB_RETENTION
from rapport.worker.orphans import new_worker_id, reclaim_orphans
from rapport.worker.wakeup import JobListener

logger = logging.getLogger("rapport.worker")

LEASE_MARGIN = timedelta(seconds=30)
# Schedules, orphaned jobs and the PostgreSQL listener are looked at once a second at most.
HOUSEKEEPING_SECONDS = 1.0
# A claimed job waits in the local queue about as long as its batch runs: keep that short.
QUICK_BATCH_SECONDS = 0.25
SLOW_BATCH_SECONDS = 1.0
MAX_CLAIM = 512
DEFAULT_TIMEOUT_SECONDS = 300
DONE_JOB_RETENTION = timedelta(days=7)


async def prune_finished_jobs(
    session: AsyncSession, before: datetime, limit: int, after: str | None
) -> str | None:
    """Delete, of a chunk of jobs made before `before`, those done before it and those that
    died before DEAD_JOB_RETENTION ago (kept longer, to be read and retried); return where
    the next chunk starts."""
    died_before = before - (DEAD_JOB_RETENTION - DONE_JOB_RETENTION)
    finished = or_(
        and_(Job.status == JobStatus.done, Job.finished_at < before),
        and_(Job.status == JobStatus.dead, Job.finished_at < died_before),
    )
    return await delete_oldest(session, Job, before, limit, after, finished)


retain("jobs", DONE_JOB_RETENTION, prune_finished_jobs)


class Worker:
    """Runs jobs from the database; any number may run against one PostgreSQL."""

    def __init__(self, database: Database, *, concurrency: int = 4, poll_seconds: float = 1.0):
        self.database = database
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.worker_id = new_worker_id()
        self.batches = BatchRunner(database, self.worker_id, self.run_one)
        self._share = 1  # jobs claimed a lane (`_adapt`)
        self._wake = asyncio.Event()
        self._next_housekeeping = 0.0

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run jobs until `stop` is set, waking early whenever a job is enqueued (in this
        process, or on PostgreSQL in any process).

        The `concurrency` lanes run on their own: a lane that finishes has the next jobs
        claimed for it while the others still run, so a slow job or after-commit step (the
        assistant's turn, a generative reply waiting for its model) holds up its own lane,
        not every lane's next claim."""
        unsubscribe = on_enqueue(self._wake.set)
        listener = JobListener(self.database, self._wake.set)
        lanes: set[asyncio.Task[None]] = set()
        try:
            # Requests take SQLite's writer before jobs do (never starving them, see WriterTurn).
            with background_work():
                while not stop.is_set():
                    if not await self._fill(lanes, listener):
                        await self._sleep(stop, lanes)
        finally:
            unsubscribe()
            await asyncio.gather(*lanes, return_exceptions=True)  # the running ones finish
            await listener.close()

    async def _fill(self, lanes: set[asyncio.Task[None]], listener: JobListener) -> bool:
        """Claim jobs for the free lanes and start them; return whether more may be due
        for a lane still free (the claim was full)."""
        # Cleared before claiming, so a job enqueued during the claim still wakes the loop.
        self._wake.clear()
        free = self.concurrency - len(lanes)
        more = False
        # A failing database must not kill the loop: log, wait a poll, try again.
        try:
            if free:
                share = self._share
                claimed = await self._claim_due(share * free)
                full = len(claimed) == share * free
                for jobs in deal(claimed, free):
                    if jobs:
                        lane = asyncio.create_task(self._lane(jobs, share, full))
                        lanes.add(lane)
                        lane.add_done_callback(lanes.discard)
                more = full and len(lanes) < self.concurrency
            # After the claim, so waking jobs never wait behind it.
            if time.monotonic() >= self._next_housekeeping:
                await self._housekeeping(listener)
        except Exception as error:
            logger.error("worker iteration failed", extra={"error": type(error).__name__})
            return False
        return more

    async def _lane(self, jobs: list[ClaimedJob], share: int, full: bool) -> None:
        started = time.monotonic()
        try:
            await self.batches.run(jobs)
        except Exception as error:  # a lane's failure is its jobs' (their leases run out)
            logger.error("worker lane failed", extra={"error": type(error).__name__})
        self._adapt(share, full, time.monotonic() - started)

    async def _housekeeping(self, listener: JobListener | None) -> None:
        if listener is not None:
            await listener.ensure()
        await self.tick_schedules()
        reclaimed = await reclaim_orphans(self.database)
        if reclaimed:
            logger.warning("jobs of a dead local worker queued again", extra={"jobs": reclaimed})
            self._wake.set()
        self._next_housekeeping = time.monotonic() + min(self.poll_seconds, HOUSEKEEPING_SECONDS)

    async def _sleep(self, stop: asyncio.Event, lanes: set[asyncio.Task[None]]) -> None:
        """Wait for a job to be enqueued, a lane to finish, `stop`, or a poll's time."""
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(
            [*waiters, *lanes], timeout=self.poll_seconds, return_when="FIRST_COMPLETED"
        )
        for waiter in waiters:
            waiter.cancel()

    async def run_pending(self) -> int:
        """Run due jobs until none is left; return how many ran (tests, CLI)."""
        total = 0
        while ran := await self.run_batch():
            total += ran
        return total

    async def run_batch(self) -> int:
        """Claim a batch of due jobs, run it in `concurrency` lanes of short transactions and
        wait for every lane (tests and the CLI; `run_forever` keeps its lanes going)."""
        share = self._share
        claimed = await self._claim_due(share * self.concurrency)
        if not claimed:
            return 0
        started = time.monotonic()
        lanes = deal(claimed, self.concurrency)
        await asyncio.gather(*(self.batches.run(lane) for lane in lanes if lane))
        self._adapt(share, len(claimed) == share * self.concurrency, time.monotonic() - started)
        return len(claimed)

    async def _claim_due(self, limit: int) -> list[ClaimedJob]:
        await gap()  # the claim writes too: the live work that queued these jobs goes first
        claimed = await self.claim(limit)
        if not claimed:
            # Nothing due: the next claim, whenever jobs come, waits for the live work then
            # in flight (at most foreground.MOST_WAIT). While jobs keep coming it is not
            # idle, and each unit waits no longer than the one before ran.
            idle()
        return claimed

    def _adapt(self, share: int, full: bool, elapsed: float) -> None:
        """Set the jobs claimed a lane: doubled while full claims run quickly, halved when a
        lane runs slowly, so quick jobs are claimed hundreds at a time and slow ones never
        wait long in a local queue. (Lanes of one claim agree: each sets the same value.)"""
        if full and elapsed < QUICK_BATCH_SECONDS:
            self._share = max(self._share, min(share * 2, MAX_CLAIM // self.concurrency))
        elif elapsed > SLOW_BATCH_SECONDS:
            self._share = min(self._share, max(1, share // 2))

    async def claim(self, limit: int) -> list[ClaimedJob]:
        """Lease due jobs (and jobs whose lease ran out) to this worker, in one statement."""
        now = utcnow()
        timeouts = _timeouts()
        leases = {
            f"lease_{index}": now + timedelta(seconds=seconds) + LEASE_MARGIN
            for index, (_, seconds) in enumerate(timeouts)
        }
        default_lease = now + timedelta(seconds=DEFAULT_TIMEOUT_SECONDS) + LEASE_MARGIN
        # On SQLite the claim stays on the connection's thread (background work): with a
        # backlog it gathers and sorts every due job, and a write is never interrupted (100,000
        # queued jobs held the event loop about 100 ms a claim there).
        async with self.database.session() as session:
            params = {"now": now, "limit": limit, "worker": self.worker_id}
            rows = await session.execute(
                _claim_statement(timeouts), params | {"lease_default": default_lease} | leases
            )
            # Ids are time-ordered: oldest first, whatever order RETURNING gives.
            return sorted((ClaimedJob(*row) for row in rows), key=lambda claimed: claimed.id)

    async def run_one(self, claimed: ClaimedJob) -> None:
        """Run one claimed job alone; its writes and its completion commit together."""
        definition = registered_job(claimed.name)
        try:
            refused = refusal(claimed)
            if refused is not None or definition is None:
                raise refused or LookupError(claimed.name)
            async with self.database.session() as session:
                await call(session, definition, claimed, self.worker_id)
                lease = Lease(claimed.id, self.worker_id)
                if claimed.id not in finished_later(session) and not await complete(session, lease):
                    raise LeaseLost("lease lost to another worker; rolling back")
        except Exception as error:
            async with self.database.session() as session:
                await session.execute(
                    update(Job)
                    .where(Job.id == claimed.id, Job.locked_by == self.worker_id)
                    .values(**failure_values(claimed, error))
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


def deal(claimed: list[ClaimedJob], lanes: int) -> list[list[ClaimedJob]]:
    """Deal claimed jobs out to `lanes` lanes: the subscribers of one domain event together,
    in their order (one transaction for all of them, not one each), the events in turn.

    A customer's chat message queues two or three jobs (the assistant's take, SLA tracking,
    webhook fan-out where an endpoint is on); dealt one by one they took a transaction and a
    lane each."""
    events: dict[str, list[ClaimedJob]] = {}
    for claimed_job in claimed:
        event = claimed_job.payload.get("event_id")
        events.setdefault(str(event) if event else claimed_job.id, []).append(claimed_job)
    dealt: list[list[ClaimedJob]] = [[] for _ in range(lanes)]
    for index, jobs in enumerate(events.values()):
        dealt[index % lanes].extend(jobs)
    return dealt


def _timeouts() -> tuple[tuple[str, float], ...]:
    """Return the registered jobs whose timeout is not the default, with their timeouts."""
    return tuple(
        (definition.name, definition.timeout_seconds)
        for definition in registered_jobs()
        if definition.timeout_seconds != DEFAULT_TIMEOUT_SECONDS
    )


@functools.cache
def _claim_statement(timeouts: tuple[tuple[str, float], ...]) -> Update:
    """Return the claim, built once per set of job timeouts (its values bound when it
    runs: building it each time cost more CPU than running it on a quiet queue). A lease
    outlives its job's own timeout (`lease_<n>` per job in `timeouts`, else
    `lease_default`), so a live worker never loses it."""
    column_type = Job.__table__.c.locked_until.type
    now = bindparam("now", type_=column_type)
    due = (
        select(Job.id)
        .where(
            or_(
                (Job.status == JobStatus.queued) & (Job.run_at <= now),
                (Job.status == JobStatus.running) & (Job.locked_until < now),
            )
        )
        .order_by(Job.run_at)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    default: ColumnElement[datetime] = bindparam("lease_default", type_=column_type)
    lease_end = default
    if timeouts:
        lease_end = case(
            {
                name: bindparam(f"lease_{index}", type_=column_type)
                for index, (name, _) in enumerate(timeouts)
            },
            value=Job.name,
            else_=default,
        )
    return (
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            status=JobStatus.running,
            locked_by=bindparam("worker"),
            locked_until=lease_end,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.name, Job.payload, Job.attempts, Job.max_attempts, Job.workspace_id)
        .execution_options(synchronize_session=False)  # the session holds no job
    )


def next_cron_time(cron: str, after: datetime) -> datetime:
    """Return the first time strictly after `after` matching a 5-field cron expression."""
    result: datetime = croniter(cron, after).get_next(datetime)
    return result
