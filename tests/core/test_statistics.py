"""PostgreSQL's planner statistics refreshed for tables that grow fast (core.statistics)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import text

from rapport.config import Settings
from rapport.core.crypto import configure_keyring
from rapport.core.db import Database
from rapport.core.statistics import MIN_ROWS, grew, settled
from rapport.customers.schemas import IdentitySignal, Observed
from rapport.customers.service import customers
from rapport.events.preparation import prepare
from rapport.events.repository import EventRepository
from rapport.events.rows import sender_columns
from tests.fixtures.events import track
from tests.fixtures.identity import make_workspace

TABLES = ("customers", "customer_identifiers")


def _postgres_only(database: Database) -> None:
    if not database.is_postgres:
        pytest.skip("PostgreSQL's statistics")


async def _analyses(database: Database, table: str) -> int:
    """ANALYZE runs on `table` so far (by hand: autovacuum's are counted apart), once those
    under way have finished."""
    await settled()
    async with database.engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = :table"),
            {"table": table},
        )
    return int(count)


async def _estimate(database: Database, table: str) -> float:
    async with database.engine.connect() as connection:
        rows = await connection.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = :table"), {"table": table}
        )
    return float(rows)


async def test_a_table_is_analysed_after_the_commit_that_took_it_past_the_threshold(
    database: Database,
) -> None:
    _postgres_only(database)
    before = await _analyses(database, "customers")
    async with database.session() as session:
        grew(session, "customers", MIN_ROWS - 1)
    assert await _analyses(database, "customers") == before
    async with database.session() as session:
        grew(session, "customers", 1)
        grew(session, "customers", 5)  # past it twice in one transaction: one ANALYZE
        assert await _analyses(database, "customers") == before  # not before the commit
    assert await _analyses(database, "customers") == before + 1
    # The count starts again; the table had no rows then, so the next threshold is MIN_ROWS.
    async with database.session() as session:
        grew(session, "customers", MIN_ROWS - 1)
    assert await _analyses(database, "customers") == before + 1


async def test_a_rolled_back_transaction_analyses_nothing(database: Database) -> None:
    _postgres_only(database)
    before = await _analyses(database, "customer_identifiers")
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            grew(session, "customer_identifiers", MIN_ROWS)
            raise RuntimeError("rolled back")
    assert await _analyses(database, "customer_identifiers") == before


async def test_new_profiles_bring_their_tables_statistics_up_to_date(database: Database) -> None:
    # A fresh database's first backfill: the planner's estimate of the profiles and their
    # identifiers follows them as they are created, not a minute later. Half the profiles
    # come from anonymous page views (resolved together, inserted in bulk), half from
    # identify calls (each walks the graph and adds its rows one by one): neither half alone
    # reaches the threshold.
    _postgres_only(database)
    workspace = await make_workspace(database)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    half = MIN_ROWS // 2
    views = [
        IdentitySignal(identifiers=[Observed("anonymous_id", f"visitor-{n}")], at=at,
                       channel="web", source="test", trusted=True, reason="page")
        for n in range(half)
    ]  # fmt: skip
    identified = [
        IdentitySignal(identifiers=[Observed("user_id", f"user-{n}")], at=at,
                       channel="web", source="test", trusted=True, reason="identify")
        for n in range(MIN_ROWS - half)
    ]  # fmt: skip
    before = {table: await _analyses(database, table) for table in TABLES}
    async with database.session() as session:
        await customers.resolve(session, workspace.id, views)
    assert {table: await _analyses(database, table) for table in TABLES} == before
    async with database.session() as session:
        resolved = await customers.resolve(session, workspace.id, identified)
    assert all(outcome.error is None for outcome in resolved)
    for table in TABLES:
        assert await _analyses(database, table) == before[table] + 1
        assert await _estimate(database, table) == MIN_ROWS


async def test_the_unit_of_work_that_committed_does_not_wait_for_the_analysis(
    database: Database,
) -> None:
    # Ingestion's group commit answers its requests after the commit's hooks: an ANALYZE
    # held up (here by a lock another transaction holds) must not hold them up too.
    _postgres_only(database)
    before = await _analyses(database, "customers")
    async with database.engine.connect() as holder:
        await holder.execute(text("LOCK TABLE customers IN SHARE UPDATE EXCLUSIVE MODE"))
        async with asyncio.timeout(10):
            async with database.session() as session:
                grew(session, "customers", MIN_ROWS)
        await holder.rollback()  # the lock goes: the analysis that waited for it runs
    assert await _analyses(database, "customers") == before + 1


async def test_stored_calls_bring_the_events_statistics_up_to_date(
    settings: Settings, database: Database
) -> None:
    # A new shop's backfill: processing reads its calls by id, planned from statistics that
    # know the table is no longer empty.
    _postgres_only(database)
    configure_keyring(settings.secret_keys())
    workspace = await make_workspace(database)
    batch = {"batch": [track("Product Viewed") for _ in range(MIN_ROWS)]}
    received = datetime(2026, 12, 1, tzinfo=UTC)
    prepared = prepare(orjson.dumps(batch), "", None, received, "postgresql")
    stamp = sender_columns(workspace.id, None, True)
    before = await _analyses(database, "events")
    async with database.session() as session:
        await EventRepository(session, workspace.id).insert_many(
            [stamp + row for row in prepared.rows[: MIN_ROWS - 1]]
        )
    assert await _analyses(database, "events") == before
    async with database.session() as session:
        await EventRepository(session, workspace.id).insert_many(
            [stamp + row for row in prepared.rows[MIN_ROWS - 1 :]]
        )
    assert await _analyses(database, "events") == before + 1
    assert await _estimate(database, "events") >= MIN_ROWS


async def test_sqlite_has_nothing_to_analyse(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite")
    async with database.session() as session:
        grew(session, "customers", 10 * MIN_ROWS)
        assert "after_commit" not in session.info


async def test_only_table_names_are_taken(database: Database) -> None:
    _postgres_only(database)
    async with database.session() as session:
        with pytest.raises(ValueError, match="not a table name"):
            grew(session, "customers; DROP TABLE jobs", MIN_ROWS)
