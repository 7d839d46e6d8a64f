"""On PostgreSQL a committed enqueue wakes workers of other processes (LISTEN/NOTIFY), sent
by a trigger on `jobs` from the inserting statement: the enqueue costs no round trip of its
own."""

from __future__ import annotations

import asyncio

import pytest

import tests.fixtures.jobs  # noqa: F401  (registers test.record_effect)
from rapport.core.db import Database
from rapport.core.jobs import enqueue
from rapport.worker.wakeup import JobListener
from tests.fixtures.statements import statements_sent


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


async def test_an_enqueue_sends_no_statement_but_its_insert(database: Database) -> None:
    with statements_sent(database) as statements:
        async with database.session() as session:
            enqueue(session, "test.record_effect", marker="one")
            enqueue(session, "test.record_effect", marker="two")
    assert [text for text in statements if text != "begin"] == ["insert into jobs"]


async def test_a_listener_on_sqlite_holds_no_connection(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("PostgreSQL listens")
    listener = JobListener(database, lambda: None)
    await listener.ensure()
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
