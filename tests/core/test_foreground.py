"""Background work on a server's event loop waits for a gap in the live path, never forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core import foreground
from rapport.core.db import Database
from rapport.core.foreground import busy, gap, idle, interactive
from rapport.core.jobs import enqueue, job
from rapport.web.middleware import ForegroundMiddleware
from rapport.worker.runner import Worker

seen_busy: list[bool] = []
# Background work that ran this long may wait about as long for a gap.
RAN = 1.0


@job("test.note_foreground")
async def note_foreground(session: AsyncSession) -> None:
    """Record whether live work was in flight when the job ran."""
    seen_busy.append(busy())


@pytest.fixture(autouse=True)
async def fresh_loop_state() -> AsyncIterator[None]:
    """Tests share one event loop: each starts with nothing live and background work idle."""
    foreground._loops.pop(asyncio.get_running_loop(), None)
    yield
    assert not busy()
    foreground._loops.pop(asyncio.get_running_loop(), None)


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background work may wait up to 30 s (not 50 ms): only a gap or RAN ends a wait here."""
    monkeypatch.setattr(foreground, "MOST_WAIT", 30.0)


class Request:
    """Live work in flight until released."""

    def __init__(self) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Request:
        self.task = asyncio.create_task(self._run())
        await self.started.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        assert self.task is not None
        await self.task

    async def _run(self) -> None:
        with interactive():
            self.started.set()
            await self.release.wait()


async def _background_ran(seconds: float) -> None:
    """Background work went on `seconds` ago and has run since."""
    await gap()
    await asyncio.sleep(seconds)


async def test_nothing_live_means_no_wait() -> None:
    await _background_ran(RAN)
    assert not busy()
    await asyncio.wait_for(gap(), 5)


@pytest.mark.parametrize("before", ["ran", "idle"])
async def test_background_work_waits_until_the_live_work_ends(patient: None, before: str) -> None:
    """Whether background work has just run or was idle (a chat message queues its jobs as
    it commits), it waits for the live work in flight: the message's pushes and read-back."""
    if before == "ran":
        await _background_ran(RAN)
    else:
        idle()
    async with Request() as request:
        assert busy()
        waiting = asyncio.create_task(gap())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not waiting.done()
        request.release.set()
        await asyncio.wait_for(waiting, 5)
        assert not busy()


async def test_a_live_path_that_never_rests_does_not_starve_background_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(foreground, "MOST_WAIT", 0.01)
    await _background_ran(RAN)
    async with Request():
        for _ in range(3):
            await asyncio.wait_for(gap(), 5)
            assert busy()  # it went on while the live work was still under way


async def test_background_work_waits_no_longer_than_it_last_ran(patient: None) -> None:
    await gap()  # background work goes on now, and at once comes to its next unit
    async with Request():
        await asyncio.wait_for(gap(), 5)  # it ran for a loop turn, so it waits about as long
        assert busy()


async def test_after_being_idle_background_work_waits_at_most_most_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(foreground, "MOST_WAIT", 0.01)
    idle()
    async with Request():
        await asyncio.wait_for(gap(), 5)
        assert busy()  # it went on while the live work was still under way


async def test_quiet_once_no_live_work_has_run_for_a_while() -> None:
    assert foreground.quiet(60)  # nothing live ever ran on this loop (a worker of its own)
    async with Request():
        assert not foreground.quiet(0)  # live work in flight
    assert foreground.quiet(0)
    assert not foreground.quiet(60)  # it ended just now
    await asyncio.sleep(0.05)
    assert foreground.quiet(0.04)


async def test_live_work_is_counted_per_event_loop(patient: None) -> None:
    await _background_ran(RAN)
    async with Request():

        def elsewhere() -> bool:
            async def look() -> bool:
                await asyncio.wait_for(gap(), 5)  # a worker in a process of its own
                return busy()

            return asyncio.run(look())

        assert await asyncio.to_thread(elsewhere) is False


async def test_the_worker_starts_no_transaction_while_a_request_is_under_way(
    database: Database, patient: None
) -> None:
    seen_busy.clear()
    async with database.session() as session:
        enqueue(session, "test.note_foreground")
    await _background_ran(RAN)
    async with Request() as request:
        running = asyncio.create_task(Worker(database, concurrency=1).run_pending())
        for _ in range(50):
            await asyncio.sleep(0.001)
        assert seen_busy == []  # claimed, but waiting for the request
        request.release.set()
        assert await asyncio.wait_for(running, 10) == 1
    assert seen_busy == [False]


async def test_an_answer_being_sent_is_no_longer_live_work() -> None:
    """A client reading an answer slowly must not keep background work waiting."""
    seen: list[bool] = []

    async def route(scope: Any, receive: Any, send: Any) -> None:
        seen.append(busy())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        seen.append(busy())
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        seen.append(busy())

    await ForegroundMiddleware(route)({"type": "http", "path": "/"}, receive, send)
    assert seen == [True, False, False, False]


async def test_the_worker_is_idle_only_when_it_found_nothing(database: Database) -> None:
    """After a batch that ran jobs, the next one waits no longer than that one ran (so a
    live path that never rests leaves jobs about half the loop); only a claim that found
    nothing makes the next batch wait for the live work in flight."""
    state = foreground._state(asyncio.get_running_loop())
    async with database.session() as session:
        enqueue(session, "test.note_foreground")
    worker = Worker(database, concurrency=1)
    assert await worker.run_batch() == 1
    assert state.resumed is not None
    assert await worker.run_batch() == 0
    assert state.resumed is None
