"""Records made before keyed MACs: migration 0005 keeps them verifiable and seals them."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import insert, select, update

from rapport.core.db import Database
from rapport.db.migrate import upgrade
from rapport.identity.audit import GENESIS_HASH, ChainReport, audit, event_digest
from rapport.identity.enums import ActorType
from rapport.identity.models import AuditChainHead, AuditEvent
from tests.fixtures.audit import chain, drop_guards, record
from tests.fixtures.databases import POSTGRES_URL_VARIABLE, TemplateDatabase

BEFORE = "20261130_0004"
KEYED = "20261202_0005"
COLUMNS = (
    "seq",
    "created_at",
    "workspace_id",
    "actor_type",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip_address",
    "details",
    "prev_hash",
)


@pytest.fixture
async def legacy_database(
    template_database: TemplateDatabase, tmp_path: Path
) -> AsyncIterator[Database]:
    """A database migrated to the release before keyed MACs, holding three unkeyed records."""
    if template_database.backend == "sqlite":
        url, name = f"sqlite+aiosqlite:///{tmp_path / 'legacy.db'}", None
    else:
        admin = os.environ[POSTGRES_URL_VARIABLE]
        name = f"rapport_legacy_{uuid.uuid4().hex[:8]}"
        connection = await asyncpg.connect(admin.replace("postgresql+asyncpg", "postgresql"))
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()
        url = admin.rsplit("/", 1)[0] + "/" + name
    await asyncio.to_thread(upgrade, url, BEFORE)
    database = Database(url)
    await _write_legacy_records(database, 3)
    await asyncio.to_thread(upgrade, url, KEYED)
    yield database
    await database.dispose()
    if name is not None:
        await template_database.drop(name)


async def _write_legacy_records(database: Database, count: int) -> None:
    """Append records exactly as the release before 0005 did (unkeyed SHA-256)."""
    previous = GENESIS_HASH
    rows: list[dict[str, object]] = []
    for seq in range(1, count + 1):
        event = AuditEvent(
            seq=seq,
            created_at=datetime(2026, 11, 30, 12, seq, tzinfo=UTC),
            workspace_id=None,
            actor_type=ActorType.system,
            actor_id="cli",
            action="test.acted",
            target_type="thing",
            target_id=f"old{seq}",
            ip_address=None,
            details={},
            prev_hash=previous,
        )
        previous = event_digest(event)
        rows.append({**{column: getattr(event, column) for column in COLUMNS}, "hash": previous})
    async with database.session() as session:
        # Core statements name only the columns the release before 0005 had.
        await session.execute(insert(AuditEvent.__table__), rows)
        await session.execute(update(AuditChainHead.__table__).values(seq=count, hash=previous))


async def _verify(database: Database) -> ChainReport:
    async with database.session() as session:
        return await audit.verify(session)


async def test_migration_keeps_old_records_unkeyed_and_verifiable(
    legacy_database: Database,
) -> None:
    await record(legacy_database, 2)
    events = await chain(legacy_database)
    assert [event.mac_version for event in events] == [0, 0, 0, 1, 1]
    assert await _verify(legacy_database) == ChainReport(5, None)


async def test_migration_fixes_the_legacy_boundary_at_the_head(legacy_database: Database) -> None:
    async with legacy_database.session() as session:
        head = (await session.execute(select(AuditChainHead))).scalar_one()
    assert (head.seq, head.legacy_until_seq) == (3, 3)


async def test_rewritten_legacy_record_is_caught_by_the_first_keyed_one(
    legacy_database: Database,
) -> None:
    await record(legacy_database, 1)
    await drop_guards(legacy_database)
    async with legacy_database.session() as session:
        rows = list((await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars())
        rows[1].target_id = "forged"
        rows[1].hash = event_digest(rows[1])
        rows[2].prev_hash = rows[1].hash
        rows[2].hash = event_digest(rows[2])
        rows[3].prev_hash = rows[2].hash
    assert await _verify(legacy_database) == ChainReport(3, 4, "content does not match its MAC")


async def _as_legacy_from(database: Database, first_seq: int, boundary: int) -> None:
    """Rewrite every record from `first_seq` on as unkeyed, chained with the project's own
    digest, and raise the legacy boundary, as an attacker owning the database could."""
    await drop_guards(database)
    async with database.session() as session:
        rows = list((await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars())
        previous = rows[first_seq - 2].hash if first_seq > 1 else GENESIS_HASH
        for row in rows[first_seq - 1 :]:
            row.target_id = f"forged-{row.seq}"
            row.mac_version, row.mac_key_id, row.prev_hash = 0, None, previous
            row.hash = previous = event_digest(row)
        head = (await session.execute(select(AuditChainHead))).scalar_one()
        head.legacy_until_seq, head.legacy_until_mac, head.hash = boundary, None, previous


async def test_the_boundary_is_sealed_by_db_upgrade_before_any_new_record(
    legacy_database: Database,
) -> None:
    async with legacy_database.session() as session:
        await audit.seal_legacy_boundary(session)
    assert await _verify(legacy_database) == ChainReport(3, None)


async def test_an_unsealed_boundary_lets_no_record_be_unkeyed(legacy_database: Database) -> None:
    assert await _verify(legacy_database) == ChainReport(
        0, 1, "not keyed, though the keyed chain had begun"
    )


async def test_raising_the_boundary_does_not_pass_keyed_records_off_as_unkeyed(
    legacy_database: Database,
) -> None:
    await record(legacy_database, 2)
    await _as_legacy_from(legacy_database, 4, boundary=5)
    assert await _verify(legacy_database) == ChainReport(
        0, 1, "not keyed, though the keyed chain had begun"
    )


async def test_rewriting_a_whole_keyed_chain_as_unkeyed_is_caught(database: Database) -> None:
    await record(database, 3)
    await _as_legacy_from(database, 1, boundary=3)
    assert await _verify(database) == ChainReport(
        0, 1, "not keyed, though the keyed chain had begun"
    )
