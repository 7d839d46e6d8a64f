"""Enqueueing: a job row exists exactly when the transaction that made it commits."""

from __future__ import annotations

import pytest

from rapport.core.db import Database
from rapport.core.jobs import JobStatus, backoff, enqueue, on_enqueue
from tests.fixtures.jobs import all_jobs, count_jobs


async def test_enqueue_in_committed_transaction_creates_a_queued_job(database: Database) -> None:
    async with database.session() as session:
        enqueue(session, "test.record_effect", marker="a", workspace_id="w1")
    [job] = await all_jobs(database)
    assert (job.name, job.payload, job.workspace_id) == (
        "test.record_effect",
        {"marker": "a"},
        "w1",
    )
    assert (job.status, job.attempts, job.max_attempts) == (JobStatus.queued, 0, 8)


async def test_enqueue_in_rolled_back_transaction_leaves_no_job(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            enqueue(session, "test.record_effect", marker="a")
            raise RuntimeError("the change failed")
    assert await count_jobs(database) == 0


async def test_enqueue_of_unregistered_job_raises_key_error(database: Database) -> None:
    async with database.session() as session:
        with pytest.raises(KeyError, match=r"test\.never_registered"):
            enqueue(session, "test.never_registered")


async def test_enqueue_uses_the_jobs_max_attempts(database: Database) -> None:
    async with database.session() as session:
        enqueue(session, "test.always_fails")
    [job] = await all_jobs(database)
    assert job.max_attempts == 3


async def test_workers_are_woken_after_commit(database: Database) -> None:
    woken: list[str] = []
    unsubscribe = on_enqueue(lambda: woken.append("wake"))
    try:
        async with database.session() as session:
            enqueue(session, "test.record_effect", marker="a")
            enqueue(session, "test.record_effect", marker="b")
            assert woken == []
    finally:
        unsubscribe()
    assert woken == ["wake"]


async def test_workers_are_not_woken_after_rollback(database: Database) -> None:
    woken: list[str] = []
    unsubscribe = on_enqueue(lambda: woken.append("wake"))
    try:
        with pytest.raises(RuntimeError):
            async with database.session() as session:
                enqueue(session, "test.record_effect", marker="a")
                raise RuntimeError("the change failed")
    finally:
        unsubscribe()
    assert woken == []


@pytest.mark.parametrize(
    ("attempt", "seconds"), [(1, 2), (2, 4), (5, 32), (11, 2048), (12, 3600), (40, 3600)]
)
def test_backoff_doubles_and_caps_at_one_hour(attempt: int, seconds: int) -> None:
    assert backoff(attempt).total_seconds() == seconds
