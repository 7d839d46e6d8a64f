"""Jobs/s through enqueue -> run, on SQLite and PostgreSQL, against a bare-SQL baseline.

Run alone: `.venv/bin/python bench/jobs.py [--jobs N] [--postgres URL]`
(URL of a PostgreSQL database whose role may CREATE DATABASE, e.g.
postgresql+asyncpg://rapport:rapport@127.0.0.1:5432/postgres; defaults to
$RAPPORT_TEST_DATABASE_URL when set). Prints one figure per line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchdb import drop_postgres, fresh_postgres
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.ids import new_id
from rapport.core.jobs import Job, enqueue, job
from rapport.db.migrate import upgrade
from rapport.worker.runner import Worker

ENQUEUE_BATCH = 100
ran = 0


@job("bench.noop")
async def noop(session: Any, n: int) -> None:
    """Do nothing, so the figure is the machinery's cost."""
    global ran
    ran += 1


async def through_rapport(url: str, jobs: int, concurrency: int) -> float:
    """Return jobs/s for enqueue (in batches) then run by one worker."""
    database = Database(url)
    started = time.perf_counter()
    for first in range(0, jobs, ENQUEUE_BATCH):
        async with database.session() as session:
            for n in range(first, min(first + ENQUEUE_BATCH, jobs)):
                enqueue(session, "bench.noop", n=n)
    done = await Worker(database, concurrency=concurrency).run_pending()
    elapsed = time.perf_counter() - started
    await database.dispose()
    assert done == jobs, f"ran {done} of {jobs}"
    return jobs / elapsed


async def bare_baseline(url: str, jobs: int, concurrency: int) -> float:
    """Return rows/s for the same writes in bare Core SQL: batched inserts, a claim per
    `concurrency` rows, then one transaction per row to finish it (no worker machinery)."""
    database = Database(url)
    table = Job.__table__
    now = utcnow()
    ids = [new_id() for _ in range(jobs)]
    rows = [
        {
            "id": i,
            "name": "bench.bare",
            "payload": {},
            "status": "queued",
            "attempts": 0,
            "max_attempts": 1,
            "run_at": now,
            "created_at": now,
        }
        for i in ids
    ]
    started = time.perf_counter()
    for first in range(0, jobs, ENQUEUE_BATCH):
        async with database.session() as session:
            await session.execute(insert(table), rows[first : first + ENQUEUE_BATCH])
    for first in range(0, jobs, concurrency):
        claimed = ids[first : first + concurrency]
        async with database.session() as session:
            await session.execute(
                update(table).where(table.c.id.in_(claimed)).values(status="running")
            )
        for job_id in claimed:
            async with database.session() as session:
                await session.execute(
                    update(table).where(table.c.id == job_id).values(status="done")
                )
    elapsed = time.perf_counter() - started
    await database.dispose()
    return jobs / elapsed


def measure(label: str, url: str, jobs: int, concurrency: int) -> None:
    upgrade(url)
    ours = asyncio.run(through_rapport(url, jobs, concurrency))
    baseline = asyncio.run(bare_baseline(url, jobs, concurrency))
    print(f"{label} jobs/s (enqueue -> run, {jobs} jobs): {ours:,.0f}")
    print(f"{label} bare-SQL baseline rows/s (same writes): {baseline:,.0f}")
    print(f"{label} ratio rapport/baseline: {ours / baseline:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_DATABASE_URL"))
    args = parser.parse_args()
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
