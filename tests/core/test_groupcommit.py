"""Group commit: concurrent writes share transactions, each waiter learns its own outcome."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rapport.core.db import Database
from rapport.core.groupcommit import GroupCommit


@pytest.fixture
async def table(database: Database) -> str:
    async with database.session() as session:
        await session.execute(text("CREATE TABLE group_commit_test (name VARCHAR(40) PRIMARY KEY)"))
    return "group_commit_test"


class Recorder:
    """Writes names; a name starting with "bad" makes its transaction fail."""

    def __init__(self) -> None:
        self.transactions: list[list[str]] = []

    async def write(self, session: AsyncSession, names: list[str]) -> None:
        self.transactions.append(list(names))
        for name in names:
            await session.execute(
                text("INSERT INTO group_commit_test (name) VALUES (:name)"), {"name": name}
            )
            if name.startswith("bad"):
                raise ValueError(f"cannot store {name}")


async def _stored(database: Database) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(text("SELECT name FROM group_commit_test ORDER BY name"))
        return [row[0] for row in rows]


async def test_concurrent_writes_share_transactions_and_are_committed_on_return(
    database: Database, table: str
) -> None:
    recorder = Recorder()
    writer = GroupCommit(database, recorder.write, max_size=100)

    async def submit(name: str) -> list[str]:
        await writer.submit(name)
        return await _stored(database)  # visible to a new unit of work as soon as it returns

    seen = await asyncio.gather(*(submit(f"n{index:02d}") for index in range(20)))
    for index, stored in enumerate(seen):
        assert f"n{index:02d}" in stored
    assert await _stored(database) == [f"n{index:02d}" for index in range(20)]
    assert len(recorder.transactions) < 20  # shared
    assert sorted(name for group in recorder.transactions for name in group) == sorted(
        f"n{index:02d}" for index in range(20)
    )


async def test_groups_respect_their_size_limit(database: Database, table: str) -> None:
    recorder = Recorder()
    writer = GroupCommit(database, recorder.write, max_size=5)
    await asyncio.gather(*(writer.submit(f"s{index}", size=2) for index in range(9)))
    assert all(len(group) <= 2 for group in recorder.transactions)  # a third 2 would make 6
    assert len(await _stored(database)) == 9


async def test_a_failing_write_fails_alone_and_the_rest_of_its_group_is_stored(
    database: Database, table: str
) -> None:
    recorder = Recorder()
    writer = GroupCommit(database, recorder.write, max_size=100)
    names = ["a1", "a2", "bad-1", "a3"]
    outcomes = await asyncio.gather(*(writer.submit(n) for n in names), return_exceptions=True)
    assert [type(outcome).__name__ for outcome in outcomes] == [
        "NoneType",
        "NoneType",
        "ValueError",
        "NoneType",
    ]
    assert await _stored(database) == ["a1", "a2", "a3"]


async def test_a_waiter_that_goes_away_does_not_take_the_write_with_it(
    database: Database, table: str
) -> None:
    recorder = Recorder()
    writer = GroupCommit(database, recorder.write, max_size=100)
    waiter = asyncio.create_task(writer.submit("kept"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for _ in range(100):
        if await _stored(database) == ["kept"]:
            break
        await asyncio.sleep(0.01)
    assert await _stored(database) == ["kept"]
