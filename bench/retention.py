"""How long pruning holds the writer: a week of finished jobs deleted in one statement (how
`core.prune_jobs` worked) against `core.prune`'s chunks, on SQLite and PostgreSQL.

Run alone: `.venv/bin/python bench/retention.py [--jobs N] [--postgres URL]` (URL of a
PostgreSQL database whose role may CREATE DATABASE; defaults to $RAPPORT_TEST_DATABASE_URL).
For each backend it migrates a fresh database, bulk-inserts N finished jobs older than the
retention period and N/10 recent ones, and times one transaction deleting the old ones with a
single DELETE (the baseline: the time SQLite's writer, or a PostgreSQL connection, was held).
It fills the same rows again and runs the rule `core.prune` runs, one chunk per transaction
as its jobs do, timing each transaction (its hold) and the whole. Prints one figure per line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from benchdb import on_each_backend
from rapport.core.clock import utcnow
from rapport.core.db import Database, background_work
from rapport.core.ids import first_id_at, new_id
from rapport.core.jobs import Job, JobStatus
from rapport.core.retention import PRUNE_CHUNK
from rapport.db.migrate import upgrade
from rapport.worker.runner import DONE_JOB_RETENTION, prune_finished_jobs

FILL_BATCH = 10_000


async def fill(database: Database, old: int) -> None:
    """Insert `old` jobs finished three weeks ago and a tenth as many finished just now."""
    finished_long_ago, now = utcnow() - timedelta(days=21), utcnow()
    prefix = first_id_at(finished_long_ago)[:12]
    rows = [
        {
            "id": prefix + uuid.uuid4().hex[:20],
            "name": "bench.noop",
            "payload": {"n": n},
            "status": JobStatus.done,
            "finished_at": finished_long_ago,
            "created_at": finished_long_ago,
            "run_at": finished_long_ago,
        }
        for n in range(old)
    ]
    rows += [
        {
            "id": new_id(),
            "name": "bench.noop",
            "payload": {"n": n},
            "status": JobStatus.done,
            "finished_at": now,
            "created_at": now,
            "run_at": now,
        }
        for n in range(old // 10)
    ]
    for first in range(0, len(rows), FILL_BATCH):
        async with database.session() as session:
            await session.execute(insert(Job), rows[first : first + FILL_BATCH])
    if database.engine.dialect.name == "sqlite":  # the fill's log is not pruning's to copy back
        async with database.engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


async def left(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())


async def one_delete(database: Database) -> float:
    """The baseline: every old finished job in one DELETE, in one transaction."""
    cutoff = utcnow() - DONE_JOB_RETENTION
    started = time.perf_counter()
    async with database.session() as session:
        await session.execute(
            delete(Job).where(Job.status == JobStatus.done, Job.finished_at < cutoff),
            execution_options={"synchronize_session": False},
        )
    return time.perf_counter() - started


async def chunks(database: Database) -> list[float]:
    """What `core.prune`'s jobs do: a chunk per transaction until nothing is left to look at."""
    holds: list[float] = []
    after: str | None = None
    while True:
        started = time.perf_counter()
        with background_work():  # as the worker runs its jobs
            async with database.session() as session:
                before = utcnow() - DONE_JOB_RETENTION
                after = await prune_finished_jobs(session, before, PRUNE_CHUNK, after)
        holds.append(time.perf_counter() - started)
        if after is None:
            return holds


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(label: str, url: str, jobs: int) -> None:
    upgrade(url)

    async def run() -> None:
        database = Database(url)
        try:
            await fill(database, jobs)
            baseline = await one_delete(database)
            kept = await left(database)
            await fill(database, jobs)
            started = time.perf_counter()
            holds = await chunks(database)
            total = time.perf_counter() - started
            kept_after = await left(database)
        finally:
            await database.dispose()
        if kept != jobs // 10 or kept_after != 2 * (jobs // 10):
            raise SystemExit(f"{label}: expected the recent jobs alone to stay")
        print(f"{label} old finished jobs deleted: {jobs:,} (recent ones kept: {jobs // 10:,})")
        print(f"{label} one DELETE (baseline), held for: {baseline * 1000:,.0f} ms")
        print(
            f"{label} chunks of {PRUNE_CHUNK}: {len(holds)} transactions, each held "
            f"p50 {quantile(holds, 0.5) * 1000:.1f} ms  p99 {quantile(holds, 0.99) * 1000:.1f} ms"
            f"  max {max(holds) * 1000:.1f} ms"
        )
        print(f"{label} chunks in all: {total * 1000:,.0f} ms ({total / baseline:.2f}x baseline)")
        print(f"{label} longest hold, chunks / baseline: {max(holds) / baseline:.4f}")

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    on_each_backend(lambda label, url, _: measure(label, url, args.jobs), args.postgres)


if __name__ == "__main__":
    main()
