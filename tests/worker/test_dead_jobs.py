"""Jobs that gave up: `rapport jobs dead` lists them, `rapport jobs retry` queues them again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rapport.config import Settings
from rapport.core.clock import utcnow
from rapport.core.db import Database
from rapport.core.jobs import Job, JobStatus
from rapport.worker.runner import Worker
from tests.fixtures.cli import cli, run_cli
from tests.fixtures.jobs import count_effects


async def bury(database: Database, name: str, marker: str, died_days_ago: int = 0) -> str:
    """Store a job that gave up, as the worker leaves one; return its id."""
    async with database.session() as session:
        job = Job(
            name=name,
            payload={"marker": marker},
            status=JobStatus.dead,
            attempts=8,
            finished_at=utcnow() - timedelta(days=died_days_ago),
            last_error="RuntimeError: upstream refused\nsecond line",
        )
        session.add(job)
    return job.id


async def test_dead_jobs_are_listed_and_a_retry_runs_them_again(
    database: Database, settings: Settings
) -> None:
    older = await bury(database, "test.record_effect", "older", died_days_ago=2)
    newer = await bury(database, "test.record_effect", "newer")
    other = await bury(database, "test.always_fails", "other")

    listed = run_cli(settings, "jobs", "dead")
    assert [line.split()[0] for line in listed] == [other, newer, older]  # latest death first
    line = next(line for line in listed if line.startswith(newer))
    assert line.split()[1:4] == ["test.record_effect", "-", "8"]
    assert line.endswith("RuntimeError: upstream refused second line")
    assert [
        line.split()[0] for line in run_cli(settings, "jobs", "dead", "--name", "test.always_fails")
    ] == [other]

    assert run_cli(settings, "jobs", "retry", newer)[-1] == "retried=1"
    assert run_cli(settings, "jobs", "retry", newer)[-1] == "retried=0"  # no longer dead
    await Worker(database).run_pending()
    assert await count_effects(database, "newer") == 1
    assert await count_effects(database, "older") == 0

    assert run_cli(settings, "jobs", "retry", "--all", "--name", "test.record_effect")[-1] == (
        "retried=1"
    )
    await Worker(database).run_pending()
    assert await count_effects(database, "older") == 1
    async with database.session() as session:
        statuses = dict((await session.execute(select(Job.id, Job.status))).tuples().all())
    assert statuses[newer] == statuses[older] == JobStatus.done
    assert statuses[other] == JobStatus.dead  # another name: not retried


async def test_retry_wants_ids_or_all_not_both(settings: Settings) -> None:
    for arguments in ([], ["some-id", "--all"]):
        done = cli(settings, "jobs", "retry", *arguments)
        assert done.returncode == 2
        assert "give job ids, or --all" in done.stderr
