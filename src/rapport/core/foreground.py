"""The live path first: background work on a server's event loop waits for a gap in it.

`rapport serve` runs its jobs (and the event processing they start) on the event loop that
answers requests. Python runs one thing at a time there, so every slice of a job's CPU
between two awaits is time a request, a chat message or a push waits: with a few jobs under
way, a request that needs ten turns of the loop waits through ten slices of theirs. So the
live path marks what it is computing (`interactive()`/`begin()`: a request from the moment its
body is in until its answer starts, a widget's frame) and background work, before each short
unit of its own (a transaction of jobs, a slice of calls to process), awaits `gap()`. That
returns after one turn of the loop while nothing live is in flight, and otherwise when the live
work ends, but never later than the background work last ran (and at most `MOST_WAIT`); after
background work was idle (`idle()`), its first unit waits for the live work in flight for at
most `MOST_WAIT`. So a live path that is never quiet keeps at least about half of the loop for
background work: jobs slow down, never starve. The first unit matters most: a chat message
queues its jobs as it commits, and they would otherwise run before the message's own pushes
and read-back. Sending an answer is not live work (a client that reads slowly would otherwise keep
the loop "busy" for free). `core.db.WriterTurn` does the same for SQLite's one writer; this
does it for the CPU. Counted per event loop: a worker in a process of its own never waits.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# The longest background work waits for a gap before it goes on anyway.
MOST_WAIT = 0.05


@dataclass
class _Loop:
    """What one event loop is doing in the foreground, and who waits for it to stop."""

    active: int = 0
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    # When background work last went on (the loop's clock); None while it is idle, so it
    # never waits longer than it has just run.
    resumed: float | None = None
    # When live work last ended (the loop's clock); None: never on this loop.
    live_ended: float | None = None

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop] = weakref.WeakKeyDictionary()


def _state(loop: asyncio.AbstractEventLoop) -> _Loop:
    state = _loops.get(loop)
    if state is None:
        state = _loops[loop] = _Loop()
    return state


def begin() -> Callable[[], None]:
    """Mark live work in flight on this event loop; return the function that ends it (once,
    however often it is called)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not on an event loop: there is nothing to share it with
        return lambda: None
    state = _state(loop)
    state.active += 1
    ended = False

    def end() -> None:
        nonlocal ended
        if not ended:
            ended = True
            state.active -= 1
            state.live_ended = loop.time()
            if state.active == 0:
                state.wake()

    return end


@contextmanager
def interactive() -> Iterator[None]:
    """Mark live work (a request, a frame) in flight on this event loop while inside."""
    end = begin()
    try:
        yield
    finally:
        end()


def busy() -> bool:
    """Tell whether live work is in flight on this event loop."""
    return _state(asyncio.get_running_loop()).active > 0


def quiet(seconds: float) -> bool:
    """Tell whether no live work has run on this event loop for `seconds` (none in flight,
    the last ended that long ago): a worker in a process of its own is always quiet."""
    loop = asyncio.get_running_loop()
    state = _state(loop)
    if state.active:
        return False
    return state.live_ended is None or loop.time() - state.live_ended >= seconds


def idle() -> None:
    """Background work on this event loop has nothing left for now: its next unit, whenever
    it comes, waits for the live work then in flight (at most MOST_WAIT), not for how long
    background work last ran."""
    _state(asyncio.get_running_loop()).resumed = None


async def gap() -> None:
    """Wait until no live work is in flight on this event loop, or as long as background work
    ran since it last waited (MOST_WAIT after being idle, and never longer); while none is,
    let the loop turn once, so a request that just arrived starts first."""
    loop = asyncio.get_running_loop()
    state = _state(loop)
    ran = MOST_WAIT if state.resumed is None else loop.time() - state.resumed
    if state.active == 0 or ran <= 0:
        await asyncio.sleep(0)
    else:
        waiter = loop.create_future()
        state.waiters.append(waiter)
        try:
            async with asyncio.timeout(min(ran, MOST_WAIT)):
                await waiter
        except TimeoutError:
            pass  # the live path did not rest: background work goes on anyway
        finally:
            if waiter in state.waiters:
                state.waiters.remove(waiter)
            waiter.cancel()
    state.resumed = loop.time()
