"""The audit log: an append-only MAC chain whose tampering verify() pinpoints."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from rapport.core.db import Database
from rapport.identity.audit import SYSTEM, Actor, audit, event_digest
from rapport.identity.enums import ActorType
from rapport.identity.models import AuditEvent
from tests.fixtures.audit import drop_guards
from tests.fixtures.audit import record as _record


async def _first_broken(database: Database) -> int | None:
    async with database.session() as session:
        return (await audit.verify(session)).first_broken_seq


async def _execute(database: Database, sql: str) -> None:
    await drop_guards(database)  # the attacker owns the database
    async with database.session() as session:
        await session.execute(text(sql))


async def test_empty_chain_is_intact(database: Database) -> None:
    async with database.session() as session:
        report = await audit.verify(session)
    assert (report.checked, report.first_broken_seq) == (0, None)


async def test_intact_chain_verifies(database: Database) -> None:
    await _record(database, 5)
    async with database.session() as session:
        report = await audit.verify(session)
    assert (report.checked, report.first_broken_seq) == (5, None)


async def test_records_are_numbered_and_linked(database: Database) -> None:
    await _record(database, 3)
    async with database.session() as session:
        rows = list((await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars())
    assert [row.seq for row in rows] == [1, 2, 3]
    assert [row.prev_hash for row in rows] == ["0" * 64, rows[0].hash, rows[1].hash]


async def test_altered_content_is_reported_at_its_seq(database: Database) -> None:
    await _record(database, 5)
    await _execute(database, "UPDATE audit_events SET target_id = 'forged' WHERE seq = 3")
    assert await _first_broken(database) == 3


async def test_altered_actor_is_reported(database: Database) -> None:
    await _record(database, 4)
    await _execute(database, "UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 2")
    assert await _first_broken(database) == 2


async def test_hash_recomputed_without_the_key_is_reported_at_its_seq(
    database: Database,
) -> None:
    await _record(database, 4)
    await drop_guards(database)
    async with database.session() as session:
        event = (await session.execute(select(AuditEvent).where(AuditEvent.seq == 2))).scalar_one()
        event.target_id = "forged"
        event.hash = event_digest(event)
    assert await _first_broken(database) == 2


async def test_row_deleted_from_the_middle_is_reported(database: Database) -> None:
    await _record(database, 5)
    await _execute(database, "DELETE FROM audit_events WHERE seq = 3")
    assert await _first_broken(database) == 3


async def test_rows_cut_off_the_end_are_reported(database: Database) -> None:
    await _record(database, 5)
    await _execute(database, "DELETE FROM audit_events WHERE seq >= 4")
    assert await _first_broken(database) == 4


async def test_record_is_written_with_its_actor_and_target(database: Database) -> None:
    async with database.session() as session:
        event = await audit.record(
            session,
            "api_key.created",
            Actor(ActorType.staff, "s1", "192.0.2.9"),
            workspace_id="w1",
            target_type="api_key",
            target_id="k1",
            details={"scopes": ["staff:read"]},
        )
    assert (event.action, event.actor_type, event.actor_id, event.ip_address) == (
        "api_key.created",
        ActorType.staff,
        "s1",
        "192.0.2.9",
    )
    assert (event.workspace_id, event.target_type, event.target_id, event.details) == (
        "w1",
        "api_key",
        "k1",
        {"scopes": ["staff:read"]},
    )


async def test_rolled_back_record_leaves_no_gap(database: Database) -> None:
    await _record(database, 2)
    try:
        async with database.session() as session:
            await audit.record(session, "test.acted", SYSTEM)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    await _record(database, 1)
    async with database.session() as session:
        report = await audit.verify(session)
    assert (report.checked, report.first_broken_seq) == (3, None)


async def test_concurrent_records_form_one_valid_chain(database: Database) -> None:
    engines = [Database(database.url) for _ in range(4)]

    async def record(number: int) -> None:
        async with engines[number % 4].session() as session:
            await audit.record(session, "test.concurrent", SYSTEM, target_id=str(number))

    try:
        await asyncio.gather(*(record(number) for number in range(20)))
    finally:
        for engine in engines:
            await engine.dispose()
    async with database.session() as session:
        report = await audit.verify(session)
        targets = set((await session.execute(select(AuditEvent.target_id))).scalars())
    assert (report.checked, report.first_broken_seq) == (20, None)
    assert targets == {str(number) for number in range(20)}
