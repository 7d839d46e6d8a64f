"""The database: SQLite tuned for safety, models and migrations in agreement."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from rapport.core.db import Database
from rapport.db.models import metadata


def _sqlite_only(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite pragma")


async def _pragma(database: Database, name: str) -> Any:
    async with database.session() as session:
        return (await session.execute(text(f"PRAGMA {name}"))).scalar_one()


async def test_sqlite_runs_in_wal_mode(database: Database) -> None:
    _sqlite_only(database)
    assert await _pragma(database, "journal_mode") == "wal"


async def test_sqlite_enforces_foreign_keys(database: Database) -> None:
    _sqlite_only(database)
    assert await _pragma(database, "foreign_keys") == 1


async def test_sqlite_secure_delete_is_on(database: Database) -> None:
    _sqlite_only(database)
    assert await _pragma(database, "secure_delete") == 1


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_build_exactly_the_models(database: Database) -> None:
    # Nothing is ignored: the migrated schema must equal the ORM metadata on both backends.
    async with database.engine.connect() as connection:
        diff = await connection.run_sync(_schema_diff)
    assert diff == []


async def test_session_commits_on_success(database: Database) -> None:
    async with database.session() as session:
        await session.execute(text("UPDATE audit_chain_head SET hash = 'x' WHERE id = 1"))
    async with database.session() as session:
        value = (await session.execute(text("SELECT hash FROM audit_chain_head"))).scalar_one()
    assert value == "x"


async def test_session_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await session.execute(text("UPDATE audit_chain_head SET hash = 'x' WHERE id = 1"))
            raise RuntimeError("fail")
    async with database.session() as session:
        value = (await session.execute(text("SELECT hash FROM audit_chain_head"))).scalar_one()
    assert value == "0" * 64


async def test_after_commit_hooks_never_run_after_rollback(database: Database) -> None:
    from rapport.core.db import after_commit

    ran: list[str] = []

    async def hook() -> None:
        ran.append("hook")

    with pytest.raises(RuntimeError):
        async with database.session() as session:
            after_commit(session, hook)
            raise RuntimeError("fail")
    assert ran == []


async def test_a_failing_after_commit_hook_is_logged_and_the_others_still_run(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from rapport.core.db import after_commit

    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("push refused")

    async def push() -> None:
        ran.append("push")

    async with database.session() as session:  # committed: nothing to raise to its caller
        await session.execute(text("UPDATE audit_chain_head SET hash = 'z' WHERE id = 1"))
        after_commit(session, broken)
        after_commit(session, push)
    assert ran == ["push"]
    [record] = [r for r in caplog.records if r.getMessage() == "after-commit step failed"]
    assert record.exc_info is not None and "push refused" in str(record.exc_info[1])
    async with database.session() as session:
        stored = await session.execute(text("SELECT hash FROM audit_chain_head WHERE id = 1"))
        assert stored.scalar_one() == "z"


async def test_after_commit_hooks_run_without_waiting_for_other_tasks(database: Database) -> None:
    """A chat message's pushes are after-commit hooks: closing the unit of work must not
    put them behind whatever else the event loop has queued (SQLAlchemy's own `async with`
    closes in a task of its own, behind a shield)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from rapport.core.db import after_commit

    other_tasks_ran: list[bool] = []
    at_hook: list[bool] = []

    def queue_other_work(_session: Session) -> None:
        asyncio.get_running_loop().call_soon(other_tasks_ran.append, True)

    async def hook() -> None:
        at_hook.append(bool(other_tasks_ran))

    async with database.session() as session:
        await session.execute(text("UPDATE audit_chain_head SET hash = 'y' WHERE id = 1"))
        after_commit(session, hook)
        event.listen(session.sync_session, "after_commit", queue_other_work)
    assert at_hook == [False]
    await asyncio.sleep(0)
    assert other_tasks_ran == [True]  # it was queued: the loop just had not turned yet
