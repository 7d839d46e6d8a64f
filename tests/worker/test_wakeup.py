"""On PostgreSQL a committed enqueue wakes workers of other processes (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio

import pytest

from rapport.core.db import Database
from rapport.core.jobs import enqueue
from rapport.worker.wakeup import JobListener


async def test_a_committed_enqueue_notifies_a_listening_worker(database: Database) -> None:
    if not database.is_postgres:
        pytest.skip("SQLite wakes workers in the enqueuing process only")
    other_process = Database(database.url)
    woken = asyncio.Event()
    listener = JobListener(other_process, woken.set)
    try:
        await listener.ensure()
        async with database.session() as session:
            enqueue(session, "test.record_effect", marker="wake")
        await asyncio.wait_for(woken.wait(), timeout=30)  # a hang guard only
    finally:
        await listener.close()
        await other_process.dispose()
    assert woken.is_set()


async def test_a_listener_on_sqlite_holds_no_connection(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("PostgreSQL listens")
    listener = JobListener(database, lambda: None)
    await listener.ensure()
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
