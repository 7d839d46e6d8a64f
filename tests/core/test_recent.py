"""Settings kept a few seconds: read once under load, forgotten when changed here, lapsed when
changed elsewhere, never kept when read while a change was being made."""

from __future__ import annotations

import asyncio

import pytest

from rapport.core.db import Database
from rapport.core.recent import Recent
from tests.fixtures.recent import RecentClock


class Source:
    """A value in 'the database', counting its reads."""

    def __init__(self, value: str) -> None:
        self.value, self.reads = value, 0

    async def read(self) -> str:
        self.reads += 1
        return self.value


async def _primed() -> tuple[Recent[str, str], Source]:
    """A kept "en" for workspace w1, read once."""
    kept: Recent[str, str] = Recent(5.0)
    source = Source("en")
    await kept.load("w1", source.read)
    return kept, source


async def test_a_value_is_read_once_within_its_seconds_and_again_after(
    recent_clock: RecentClock,
) -> None:
    kept: Recent[str, str] = Recent(5.0)
    source = Source("en")
    assert [await kept.load("w1", source.read) for _ in range(3)] == ["en"] * 3
    assert source.reads == 1
    source.value = "de"  # changed by another process
    recent_clock.advance(4.9)
    assert await kept.load("w1", source.read) == "en"
    recent_clock.advance(0.2)
    assert await kept.load("w1", source.read) == "de"
    assert source.reads == 2


async def test_keys_are_kept_apart(recent_clock: RecentClock) -> None:
    kept: Recent[tuple[str, str], str] = Recent(5.0)
    first, second = Source("one"), Source("two")
    assert await kept.load(("w1", "chat"), first.read) == "one"
    assert await kept.load(("w2", "chat"), second.read) == "two"
    assert await kept.load(("w1", "chat"), second.read) == "one"


async def test_forget_makes_the_next_load_read(recent_clock: RecentClock) -> None:
    kept, source = await _primed()
    source.value = "fr"
    kept.forget("w1")
    assert await kept.load("w1", source.read) == "fr"


async def test_a_value_read_while_its_key_was_forgotten_is_not_kept(
    recent_clock: RecentClock,
) -> None:
    kept: Recent[str, str] = Recent(5.0)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_old_read() -> str:
        started.set()
        await release.wait()
        return "old"

    reading = asyncio.create_task(kept.load("w1", slow_old_read))
    await started.wait()
    kept.forget("w1")  # a change committed while the read was under way
    release.set()
    assert await reading == "old"  # that caller gets what it read...
    assert await kept.load("w1", Source("new").read) == "new"  # ...nobody else does


async def test_the_oldest_key_goes_first_past_max_items(recent_clock: RecentClock) -> None:
    kept: Recent[str, str] = Recent(5.0, max_items=2)
    source = Source("x")
    for key in ("a", "b", "c"):
        await kept.load(key, source.read)
    await kept.load("c", source.read)
    await kept.load("b", source.read)
    assert source.reads == 3
    await kept.load("a", source.read)
    assert source.reads == 4


def test_seconds_and_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Recent(0.0)
    with pytest.raises(ValueError):
        Recent(1.0, max_items=0)


async def test_a_change_is_forgotten_when_written_and_again_when_committed(
    database: Database, recent_clock: RecentClock
) -> None:
    kept, source = await _primed()
    async with database.session() as session:
        kept.forget_on_commit(session, "w1")
        # Another request reads before the change commits: the old value, not kept.
        assert await kept.load("w1", source.read) == "en"
        source.value = "de"  # what the commit makes true
    assert await kept.load("w1", source.read) == "de"
    assert source.reads == 3


async def test_a_rolled_back_change_only_costs_a_read(
    database: Database, recent_clock: RecentClock
) -> None:
    kept, source = await _primed()
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            kept.forget_on_commit(session, "w1")
            raise RuntimeError("the change failed")
    assert await kept.load("w1", source.read) == "en"
    assert source.reads == 2
