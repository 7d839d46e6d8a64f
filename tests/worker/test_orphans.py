"""Jobs of a worker process that died on this host are queued again at once, not after
their lease; other hosts' and live processes' leases are left alone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update

from rapport.core.db import Database
from rapport.core.jobs import Job, JobStatus, enqueue
from rapport.worker import orphans
from rapport.worker.batch import ClaimedJob
from rapport.worker.orphans import ORPHAN_ERROR, new_worker_id, reclaim_orphans
from rapport.worker.runner import Worker
from tests.fixtures.jobs import all_jobs, count_effects

REPOSITORY = Path(__file__).resolve().parents[2]
# A worker process that claims one job, says so, and waits to be killed.
CLAIM_AND_HANG = """
import asyncio, sys, time
import tests.fixtures.jobs
from rapport.core.db import Database
from rapport.worker.runner import Worker

async def claim() -> int:
    database = Database(sys.argv[1])
    claimed = await Worker(database).claim(1)
    await database.dispose()
    return len(claimed)

print(asyncio.run(claim()), flush=True)
time.sleep(120)
"""


@pytest.fixture
async def second_database(database: Database) -> AsyncIterator[Database]:
    """Another engine on the same database, as a restarted process would have."""
    other = Database(database.url)
    yield other
    await other.dispose()


async def _enqueue(database: Database, marker: str) -> None:
    async with database.session() as session:
        enqueue(session, "test.record_effect", marker=marker)


def _claim_in_a_process_then_kill_it(url: str) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_HANG, url],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "1"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()


async def _lease_to(database: Database, owner: str) -> None:
    async with database.session() as session:
        await session.execute(update(Job).values(locked_by=owner))


async def test_jobs_of_a_killed_worker_process_run_at_once(
    database: Database, second_database: Database
) -> None:
    await _enqueue(database, "orphan")
    await asyncio.to_thread(_claim_in_a_process_then_kill_it, database.url)
    assert await reclaim_orphans(second_database) == 1
    assert await Worker(second_database).run_pending() == 1
    [job] = await all_jobs(database)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.done, 2, ORPHAN_ERROR)
    assert await count_effects(database, "orphan") == 1


async def test_a_starting_worker_reclaims_without_waiting_for_a_poll(
    database: Database, second_database: Database
) -> None:
    await _enqueue(database, "restart")
    await asyncio.to_thread(_claim_in_a_process_then_kill_it, database.url)
    stop = asyncio.Event()
    worker = Worker(second_database, poll_seconds=3600)
    original = worker.batches.run

    async def run_then_stop(claimed: list[ClaimedJob]) -> None:
        await original(claimed)
        stop.set()

    worker.batches.run = run_then_stop  # type: ignore[method-assign]
    await asyncio.wait_for(worker.run_forever(stop), timeout=60)  # a hang guard only
    assert await count_effects(database, "restart") == 1


async def test_a_live_workers_jobs_are_left_alone(database: Database) -> None:
    await _enqueue(database, "alive")
    await Worker(database).claim(1)  # this process: alive
    assert await reclaim_orphans(database) == 0
    [job] = await all_jobs(database)
    assert job.status == JobStatus.running


async def test_another_hosts_jobs_wait_for_their_lease(database: Database) -> None:
    await _enqueue(database, "elsewhere")
    await Worker(database).claim(1)
    await _lease_to(database, "other-host~0badc0de:1:deadbeef")
    assert await reclaim_orphans(database) == 0


async def test_a_dead_pid_on_this_host_is_reclaimed(database: Database) -> None:
    await _enqueue(database, "dead-pid")
    await Worker(database).claim(1)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    await _lease_to(database, new_worker_id(pid=int(finished.stdout)))
    assert await reclaim_orphans(database) == 1
    [job] = await all_jobs(database)
    assert (job.status, job.locked_by, job.locked_until) == (JobStatus.queued, None, None)


async def test_a_dead_process_that_had_our_pid_is_reclaimed(database: Database) -> None:
    # A container's server restarted as PID 1 sees the dead server's leases carry its own PID.
    await _enqueue(database, "ours")
    await _enqueue(database, "same-pid")
    ours = Worker(database)
    [kept, _] = await ours.claim(2)
    same_pid = new_worker_id(pid=os.getpid()).rpartition(":")[0] + ":0dead0ld"
    async with database.session() as session:
        await session.execute(update(Job).where(Job.id != kept.id).values(locked_by=same_pid))
    assert await reclaim_orphans(database) == 1
    statuses = {job.locked_by: (job.status, job.last_error) for job in await all_jobs(database)}
    assert statuses == {
        ours.worker_id: (JobStatus.running, None),
        None: (JobStatus.queued, ORPHAN_ERROR),
    }


def test_worker_id_fits_its_column_with_a_long_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orphans.socket, "gethostname", lambda: "h" * 200)
    worker_id = new_worker_id(pid=4_194_304)
    assert (len(worker_id), worker_id.split(":")[1]) == (58, "4194304")
