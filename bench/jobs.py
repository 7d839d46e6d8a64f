"""Jobs/s through enqueue -> run and enqueue->start latency, on SQLite and PostgreSQL,
against a batched bare-SQL ceiling measured in the same run.

Run alone: `.venv/bin/python bench/jobs.py [--jobs N] [--postgres URL]`
(URL of a PostgreSQL database whose role may CREATE DATABASE, e.g.
postgresql+asyncpg://rapport:rapport@127.0.0.1:5432/postgres; defaults to
$RAPPORT_TEST_DATABASE_URL when set). Prints one figure per line. Latency is measured with
the worker in the enqueuing process (woken in-process) and, on PostgreSQL, also with the
worker in another process (woken by LISTEN/NOTIFY).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import drop_postgres, fresh_postgres
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.core.jobs import Job, enqueue, job
from rapport.db.migrate import upgrade
from rapport.worker.runner import Worker

ENQUEUE_BATCH = 100
CEILING_CLAIM = 512
CEILING_COMPLETE = 200
PROBES = 200
PROBE_GAP_SECONDS = 0.005
started_at: dict[int, float] = {}
report_start: Callable[[int, float], None] = started_at.__setitem__


@job("bench.noop")
async def noop(session: Any, n: int) -> None:
    """Do nothing, so the figure is the machinery's cost."""


@job("bench.probe")
async def probe(session: Any, n: int) -> None:
    """Note when the job started (a clock shared by every process of the machine)."""
    report_start(n, time.monotonic())


async def enqueue_in_batches(database: Database, name: str, jobs: int) -> None:
    """Enqueue `jobs` jobs, `ENQUEUE_BATCH` per transaction."""
    for first in range(0, jobs, ENQUEUE_BATCH):
        async with database.session() as session:
            for n in range(first, min(first + ENQUEUE_BATCH, jobs)):
                enqueue(session, name, n=n)


async def through_rapport(url: str, jobs: int, concurrency: int) -> tuple[float, float]:
    """Return (enqueue -> run jobs/s, run-only jobs/s) for no-op jobs and one worker."""
    database = Database(url)
    started = time.perf_counter()
    await enqueue_in_batches(database, "bench.noop", jobs)
    enqueued = time.perf_counter()
    done = await Worker(database, concurrency=concurrency).run_pending()
    finished = time.perf_counter()
    await database.dispose()
    assert done == jobs, f"ran {done} of {jobs}"
    return jobs / (finished - started), jobs / (finished - enqueued)


async def bare_ceiling(url: str, jobs: int) -> tuple[float, float]:
    """Return (end-to-end rows/s, claim-and-complete rows/s) for the same row changes in
    batched bare Core SQL: inserts of 100, claims of 512, completions of 200 per statement."""
    database = Database(url)
    table = Job.__table__
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "name": "bench.bare",
            "payload": {"n": n},
            "status": "queued",
            "attempts": 0,
            "max_attempts": 1,
            "run_at": now,
            "created_at": now,
        }
        for n in range(jobs)
    ]
    started = time.perf_counter()
    for first in range(0, jobs, ENQUEUE_BATCH):
        async with database.session() as session:
            await session.execute(insert(table), rows[first : first + ENQUEUE_BATCH])
    inserted = time.perf_counter()
    due = (
        select(table.c.id)
        .where(table.c.status == "queued", table.c.name == "bench.bare")
        .order_by(table.c.run_at)
        .limit(CEILING_CLAIM)
        .with_for_update(skip_locked=True)
    )
    while True:
        async with database.session() as session:
            claimed = list(
                await session.scalars(
                    update(table)
                    .where(table.c.id.in_(due.scalar_subquery()))
                    .values(status="running", locked_by="bare", attempts=table.c.attempts + 1)
                    .returning(table.c.id)
                )
            )
        if not claimed:
            break
        for first in range(0, len(claimed), CEILING_COMPLETE):
            async with database.session() as session:
                await session.execute(
                    update(table)
                    .where(table.c.id.in_(claimed[first : first + CEILING_COMPLETE]))
                    .values(status="done", finished_at=utcnow(), locked_until=None)
                )
    finished = time.perf_counter()
    await database.dispose()
    return jobs / (finished - started), jobs / (finished - inserted)


Sent = dict[int, tuple[float, float]]


async def send_probes(database: Database, probes: int) -> Sent:
    """Enqueue one probe job per transaction, a few milliseconds apart; return when each
    enqueue was called and when its transaction had committed."""
    sent: Sent = {}
    for n in range(probes):
        called = time.monotonic()
        async with database.session() as session:
            enqueue(session, "bench.probe", n=n)
        sent[n] = (called, time.monotonic())
        await asyncio.sleep(PROBE_GAP_SECONDS)
    return sent


def delays(sent: Sent, started: dict[int, float]) -> tuple[list[float], list[float]]:
    """Return enqueue -> start and commit -> start delays in milliseconds."""
    return (
        [(started[n] - called) * 1000 for n, (called, _) in sent.items()],
        [(started[n] - committed) * 1000 for n, (_, committed) in sent.items()],
    )


async def probe_from_here(url: str, probes: int) -> Sent:
    """Send probes through an engine of this process; return their send times."""
    database = Database(url)
    sent = await send_probes(database, probes)
    await database.dispose()
    return sent


async def latency_in_process(url: str, probes: int) -> tuple[list[float], list[float]]:
    """Return enqueue -> start delays (ms) with a worker woken in the enqueuing process."""
    database = Database(url)
    stop = asyncio.Event()
    started_at.clear()
    running = asyncio.create_task(Worker(database).run_forever(stop))
    await asyncio.sleep(0.2)  # the first iteration (schedules, listener) is not measured
    sent = await send_probes(database, probes)
    while len(started_at) < probes:
        await asyncio.sleep(0.01)
    stop.set()
    await running
    await database.dispose()
    return delays(sent, started_at)


def _worker_process(url: str, queue: Any, ready: Any, stop: Any) -> None:
    global report_start
    report_start = lambda n, moment: queue.put((n, moment))  # noqa: E731

    async def main() -> None:
        database = Database(url)
        done = asyncio.Event()
        worker = asyncio.create_task(Worker(database).run_forever(done))
        await asyncio.sleep(0.2)
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        done.set()
        await worker
        await database.dispose()

    asyncio.run(main())


def latency_other_process(url: str, probes: int) -> tuple[list[float], list[float]]:
    """Return enqueue -> start delays (ms) with the worker in another process."""
    context = multiprocessing.get_context("spawn")
    queue, ready, stop = context.Queue(), context.Event(), context.Event()
    process = context.Process(target=_worker_process, args=(url, queue, ready, stop))
    process.start()
    try:
        ready.wait(timeout=30)
        sent = asyncio.run(probe_from_here(url, probes))
        started = dict(queue.get(timeout=30) for _ in range(probes))
    finally:
        stop.set()
        process.join(timeout=30)
    return delays(sent, started)


def percentiles(measured: tuple[list[float], list[float]]) -> str:
    """Return p50 and p95 from the enqueue call and from its commit."""
    from_call, from_commit = measured
    return (
        f"p50 {statistics.median(from_call):.1f} ms, "
        f"p95 {statistics.quantiles(from_call, n=20)[18]:.1f} ms "
        f"(from the commit: p50 {statistics.median(from_commit):.1f} ms, "
        f"p95 {statistics.quantiles(from_commit, n=20)[18]:.1f} ms)"
    )


def measure(label: str, url: str, jobs: int, concurrency: int) -> None:
    upgrade(url)
    total, running = asyncio.run(through_rapport(url, jobs, concurrency))
    ceiling_total, ceiling_running = asyncio.run(bare_ceiling(url, jobs))
    print(f"{label} jobs/s (enqueue -> run, {jobs} no-op jobs): {total:,.0f}")
    print(f"{label} jobs/s (run only, already enqueued): {running:,.0f}")
    print(f"{label} batched bare-SQL ceiling rows/s (enqueue -> run): {ceiling_total:,.0f}")
    print(f"{label} batched bare-SQL ceiling rows/s (run only): {ceiling_running:,.0f}")
    print(f"{label} ratio rapport/ceiling (enqueue -> run): {total / ceiling_total:.2f}")
    print(f"{label} ratio rapport/ceiling (run only): {running / ceiling_running:.2f}")
    in_process = asyncio.run(latency_in_process(url, PROBES))
    print(f"{label} enqueue->start, worker in process: {percentiles(in_process)}")
    if url.startswith("postgresql"):
        other = latency_other_process(url, PROBES)
        print(f"{label} enqueue->start, worker in another process: {percentiles(other)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as directory:
        measure("sqlite", f"sqlite+aiosqlite:///{directory}/bench.db", args.jobs, args.concurrency)
    if args.postgres:
        url, name = asyncio.run(fresh_postgres(args.postgres))
        try:
            measure("postgresql", url, args.jobs, args.concurrency)
        finally:
            asyncio.run(drop_postgres(args.postgres, name))
    else:
        print("postgresql: skipped (pass --postgres URL or set RAPPORT_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
