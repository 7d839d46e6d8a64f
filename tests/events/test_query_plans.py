"""Lookups by many primary keys use the keys, not a walk of the whole workspace (SQLite plans
without statistics, so a workspace-prefixed index would otherwise win)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from rapport.core.db import Database
from rapport.customers.activity_repository import ActivityRepository
from rapport.events.repository import EventRepository


async def _plan(database: Database, query: Any) -> str:
    """Return SQLite's plan for a query with bound parameters, as the driver sends it (a plan
    for literal values can differ)."""
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    parameters = tuple(compiled.params[name] for name in compiled.positiontup)
    async with database.session() as session:
        connection = await session.connection()
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", parameters)
        return " | ".join(str(row[-1]) for row in result)


async def test_unprocessed_events_are_looked_up_by_primary_key(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    async with database.session() as session:
        statement, parameters = EventRepository(session, "w" * 32).unprocessed_sqlite(
            [f"id-{n}" for n in range(250)]
        )
        connection = await session.connection()
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = " | ".join(str(row[-1]) for row in result)
    assert "USING INDEX sqlite_autoindex_events_1 (id=?)" in plan, plan


async def test_profiles_activity_is_looked_up_by_primary_key(database: Database) -> None:
    if database.is_postgres:
        pytest.skip("SQLite's planner")
    async with database.session() as session:
        statement, parameters = ActivityRepository(session, "w" * 32).activity_sqlite(
            [f"id-{n}" for n in range(250)]
        )
        connection = await session.connection()
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        plan = " | ".join(str(row[-1]) for row in result)
    assert "USING INDEX sqlite_autoindex_customers_1 (id=?)" in plan, plan
