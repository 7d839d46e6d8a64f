"""Triggers make the audit tables append-only and let the chain head only advance."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from rapport.core.db import Database
from rapport.identity.checkpoints import audit_checkpoints
from tests.fixtures.audit import chain, execute, record


async def _checkpoint(database: Database) -> None:
    async with database.session() as session:
        await audit_checkpoints.create(session)


async def test_update_of_an_audit_record_is_refused(database: Database) -> None:
    await record(database, 2)
    with pytest.raises(DBAPIError, match="audit table audit_events is append-only"):
        await execute(database, "UPDATE audit_events SET target_id = 'forged' WHERE seq = 1")
    assert [event.target_id for event in await chain(database)] == ["t0", "t1"]


async def test_delete_of_an_audit_record_is_refused(database: Database) -> None:
    await record(database, 2)
    with pytest.raises(DBAPIError, match="audit table audit_events is append-only"):
        await execute(database, "DELETE FROM audit_events WHERE seq = 2")
    assert [event.seq for event in await chain(database)] == [1, 2]


async def test_truncate_of_the_audit_records_is_refused(database: Database) -> None:
    if not database.is_postgres:
        pytest.skip("SQLite has no TRUNCATE (its DELETE without WHERE fires the delete guard)")
    await record(database, 1)
    with pytest.raises(DBAPIError, match="audit table audit_events is append-only"):
        await execute(database, "TRUNCATE audit_events")


async def test_update_of_a_checkpoint_is_refused(database: Database) -> None:
    await record(database, 1)
    await _checkpoint(database)
    with pytest.raises(DBAPIError, match="audit table audit_checkpoints is append-only"):
        await execute(database, "UPDATE audit_checkpoints SET seq = 7")


async def test_delete_of_a_checkpoint_is_refused(database: Database) -> None:
    await record(database, 1)
    await _checkpoint(database)
    with pytest.raises(DBAPIError, match="audit table audit_checkpoints is append-only"):
        await execute(database, "DELETE FROM audit_checkpoints")


async def test_chain_head_cannot_move_back(database: Database) -> None:
    await record(database, 3)
    with pytest.raises(DBAPIError, match="the audit chain head only advances"):
        await execute(database, "UPDATE audit_chain_head SET seq = 1")


async def test_legacy_boundary_cannot_move(database: Database) -> None:
    with pytest.raises(DBAPIError, match="the audit chain head only advances"):
        await execute(database, "UPDATE audit_chain_head SET legacy_until_seq = 99")


async def test_chain_head_cannot_be_deleted(database: Database) -> None:
    with pytest.raises(DBAPIError, match="the audit chain head only advances"):
        await execute(database, "DELETE FROM audit_chain_head")


async def test_appends_still_advance_the_head(database: Database) -> None:
    await record(database, 3)
    assert [event.seq for event in await chain(database)] == [1, 2, 3]
