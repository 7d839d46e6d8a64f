"""Background work on a server's event loop waits for a gap in the live path, never forever."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core import foreground
from rapport.core.db import Database
from rapport.core.foreground import busy, gap, interactive
from rapport.core.jobs import enqueue, job
from rapport.worker.runner import Worker

seen_busy: list[bool] = []


@job("test.note_foreground")
async def note_foreground(session: AsyncSession) -> None:
    """Record whether live work was in flight when the job ran."""
    seen_busy.append(busy())


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background work waits up to 30 s (not 50 ms), so only the gap can end a wait here."""
    monkeypatch.setattr(foreground, "MOST_WAIT", 30.0)


async def _hold(started: asyncio.Event, release: asyncio.Event) -> None:
    with interactive():
        started.set()
        await release.wait()


async def test_nothing_live_means_no_wait() -> None:
    assert not busy()
    await asyncio.wait_for(gap(), 5)


async def test_background_work_waits_until_the_live_work_ends(patient: None) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(started, release))
    await started.wait()
    assert busy()
    waiting = asyncio.create_task(gap())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done()
    release.set()
    await asyncio.wait_for(waiting, 5)
    assert not busy()
    await holder


async def test_a_live_path_that_never_rests_does_not_starve_background_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(foreground, "MOST_WAIT", 0.01)
    started, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(started, release))
    await started.wait()
    for _ in range(3):
        await asyncio.wait_for(gap(), 5)
        assert busy()  # it went on while the live work was still under way
    release.set()
    await holder


async def test_background_work_waits_no_longer_than_it_last_ran(patient: None) -> None:
    await gap()  # background work goes on now, and at once comes to its next unit
    started, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(started, release))
    await started.wait()
    # It ran for about a loop turn, so it waits about as long, not 30 s.
    await asyncio.wait_for(gap(), 5)
    assert busy()
    release.set()
    await holder


async def test_live_work_is_counted_per_event_loop(patient: None) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(started, release))
    await started.wait()

    def elsewhere() -> bool:
        async def look() -> bool:
            await asyncio.wait_for(gap(), 5)  # a worker in a process of its own
            return busy()

        return asyncio.run(look())

    assert await asyncio.to_thread(elsewhere) is False
    release.set()
    await holder


async def test_the_worker_starts_no_transaction_while_a_request_is_under_way(
    database: Database, patient: None
) -> None:
    seen_busy.clear()
    async with database.session() as session:
        enqueue(session, "test.note_foreground")
    started, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(started, release))
    await started.wait()
    running = asyncio.create_task(Worker(database, concurrency=1).run_pending())
    for _ in range(50):
        await asyncio.sleep(0.001)
    assert seen_busy == []  # claimed, but waiting for the request
    release.set()
    assert await asyncio.wait_for(running, 10) == 1
    assert seen_busy == [False]
    await holder
