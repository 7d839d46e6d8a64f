"""The writer: readers never queue behind it; a unit of work holds it only to write."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from rapport.core.db import Database, WriterTurn, background_work, take_writer
from rapport.identity.models import AuditChainHead

# Generous: these bound a wait that must not happen at all, they do not time anything.
NEVER = 5.0


def _sqlite_only(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's single writer")


async def _head_hash(database: Database) -> str:
    async with database.session() as session:
        return str((await session.execute(text("SELECT hash FROM audit_chain_head"))).scalar())


async def _hold_writer(database: Database, written: asyncio.Event, done: asyncio.Event) -> None:
    async with database.session() as session:
        await session.execute(text("UPDATE audit_chain_head SET hash = 'held' WHERE id = 1"))
        written.set()
        await done.wait()


async def _write(database: Database, value: str) -> None:
    async with database.session() as session:
        await session.execute(
            text("UPDATE audit_chain_head SET hash = :value WHERE id = 1"), {"value": value}
        )


async def test_a_reader_does_not_wait_for_a_writer(database: Database) -> None:
    written, done = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_writer(database, written, done))
    await asyncio.wait_for(written.wait(), NEVER)
    # The old design queued every unit of work, reads included, behind the writer's turn.
    seen = await asyncio.wait_for(_head_hash(database), NEVER)
    done.set()
    await holder
    assert seen == "0" * 64


async def test_a_second_writer_waits_for_the_first_to_commit(database: Database) -> None:
    _sqlite_only(database)
    written, done = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_writer(database, written, done))
    await asyncio.wait_for(written.wait(), NEVER)
    second = asyncio.create_task(_write(database, "second"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not second.done()
    done.set()
    await holder
    await asyncio.wait_for(second, NEVER)
    assert await _head_hash(database) == "second"


async def test_a_write_after_a_stale_read_still_commits(database: Database) -> None:
    # SQLite refuses to upgrade a read snapshot that another writer has since moved past;
    # the unit of work trades its read transaction for a write one instead.
    async with database.session() as session:
        await session.execute(text("SELECT hash FROM audit_chain_head"))
        await _write(database, "other")
        await session.execute(text("UPDATE audit_chain_head SET seq = seq + 1 WHERE id = 1"))
    async with database.session() as session:
        row = (await session.execute(text("SELECT seq, hash FROM audit_chain_head"))).one()
    assert tuple(row) == (1, "other")


async def _lock_and_wait(database: Database, locked: asyncio.Event, done: asyncio.Event) -> None:
    async with database.session() as session:
        await session.execute(select(AuditChainHead).with_for_update())
        locked.set()
        await done.wait()


async def test_a_locking_read_takes_the_writer(database: Database) -> None:
    _sqlite_only(database)
    locked, done = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_lock_and_wait(database, locked, done))
    await asyncio.wait_for(locked.wait(), NEVER)
    second = asyncio.create_task(_write(database, "after"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not second.done()
    done.set()
    await holder
    await asyncio.wait_for(second, NEVER)


async def test_take_writer_then_a_rollback_passes_the_turn_on(database: Database) -> None:
    _sqlite_only(database)
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await take_writer(session)
            raise RuntimeError("fail")
    await asyncio.wait_for(_write(database, "next"), NEVER)
    assert await _head_hash(database) == "next"


async def test_a_failed_statement_passes_the_turn_on(database: Database) -> None:
    _sqlite_only(database)
    with pytest.raises(Exception, match="no such table"):
        async with database.session() as session:
            await session.execute(text("INSERT INTO no_such_table VALUES (1)"))
    await asyncio.wait_for(_write(database, "next"), NEVER)
    assert await _head_hash(database) == "next"


async def _take(turn: WriterTurn, name: str, order: list[str], *, background: bool) -> None:
    await turn.acquire(background=background)
    order.append(name)
    turn.release()


async def _queue(turn: WriterTurn, entries: list[tuple[str, bool]]) -> list[str]:
    order: list[str] = []
    await turn.acquire(background=False)
    tasks = []
    for name, background in entries:
        tasks.append(asyncio.create_task(_take(turn, name, order, background=background)))
        await asyncio.sleep(0)
    turn.release()
    await asyncio.gather(*tasks)
    return order


async def test_interactive_work_goes_before_background_work() -> None:
    order = await _queue(WriterTurn(), [("job", True), ("request", False)])
    assert order == ["request", "job"]


async def test_background_work_is_not_starved() -> None:
    entries = [("job", True)] + [(f"request{i}", False) for i in range(6)]
    order = await _queue(WriterTurn(), entries)
    assert order.index("job") == WriterTurn.INTERACTIVE_STREAK


async def test_a_cancelled_waiter_does_not_keep_the_turn() -> None:
    turn = WriterTurn()
    await turn.acquire(background=False)
    waiter = asyncio.create_task(turn.acquire(background=False))
    await asyncio.sleep(0)
    waiter.cancel()
    turn.release()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.wait_for(turn.acquire(background=False), NEVER)


async def test_background_work_marks_its_units(database: Database) -> None:
    _sqlite_only(database)
    order: list[str] = []
    written, done = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold_writer(database, written, done))
    await asyncio.wait_for(written.wait(), NEVER)

    async def write(name: str) -> None:
        await _write(database, name)
        order.append(name)

    with background_work():
        job = asyncio.create_task(write("job"))
    await asyncio.sleep(0.05)
    request = asyncio.create_task(write("request"))
    await asyncio.sleep(0.05)
    done.set()
    await asyncio.gather(holder, job, request)
    assert order == ["request", "job"]
